/**
 * PostgreSQL for tests: is the server there, and a fresh schema per test.
 *
 * The server is the machine's (127.0.0.1:5432, trust auth, database `test`), or the one named
 * by MESSO_TEST_PG_URL (or MESSO_TEST_DATABASE_URL, which also moves every startTestServer
 * onto a fresh schema of it). Without it, PostgreSQL tests are skipped with a reason that the test
 * report prints — never silently:
 *
 *   await describeOnPg('my suite', () => { it('…', async () => { const pg = await freshPgSchema(); … await pg.drop(); }); });
 *
 * or, for single tests: `test('…', { skip: await pgSkip() }, …)`.
 */
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';
import { redactUrl } from '../src/store/database-url.js';

const wholeSuite = /^postgres(ql)?:\/\//.test(process.env.MESSO_TEST_DATABASE_URL ?? '') ? process.env.MESSO_TEST_DATABASE_URL : undefined;
export const PG_URL = process.env.MESSO_TEST_PG_URL || wholeSuite || 'postgres://postgres@127.0.0.1:5432/test';

let probe: Promise<string | false> | null = null;

/** False when PostgreSQL answers; otherwise the reason to give node:test's `skip`. */
export function pgSkip(): Promise<string | false> {
  probe ??= (async () => {
    // A server that is not there refuses at once; one that is there may take seconds to accept
    // while the whole suite runs on two cores (CI once skipped a file after 2 s): wait for it.
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 15_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return false as const;
    } catch (err) {
      const reason = `PostgreSQL not reachable at ${redactUrl(PG_URL)} (${(err as Error).message || (err as { code?: string }).code}): PostgreSQL tests skipped`;
      // Printed once per test file as well, so the skip shows even in a terse report.
      console.log(`# ${reason}`);
      return reason;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probe;
}

export async function pgAvailable(): Promise<boolean> {
  return (await pgSkip()) === false;
}

/**
 * `describe` when PostgreSQL answers; otherwise one skipped test of the same name, so the run's
 * "skipped" count shows it (a skipped suite is not counted there).
 */
export async function describeOnPg(name: string, fn: () => void): Promise<void> {
  const skip = await pgSkip();
  if (skip) test(name, { skip }, () => undefined);
  else describe(name, fn);
}

export interface PgSchema {
  schema: string;
  /** PG_URL with `?schema=…`: what MESSO_DATABASE_URL or openStore takes. */
  url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** Runs statements on a connection of its own (DDL outside any store). */
export async function pgAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A new, empty schema with a random name. Created here (not left to the store) so a test can
 * also point a second process or a bare driver at it.
 */
export async function freshPgSchema(prefix = 'messo_t'): Promise<PgSchema> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await pgAdmin((c) => c.query(`CREATE SCHEMA "${schema}"`));
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  return {
    schema,
    url: u.toString(),
    drop: () => pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined),
  };
}
