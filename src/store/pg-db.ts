/**
 * PostgreSQL driver of the database port (node-postgres, pooled).
 *
 * - The store writes `?` placeholders; they are numbered `$1..$n` here, once per SQL text.
 * - int8 (BIGINT: seq columns, millisecond times, COUNT(*)) and numeric come back as JS
 *   numbers, like SQLite's integers. Millisecond times and sequence numbers stay far below
 *   2^53. The parsers are set on this pool only, not on the process-wide `pg.types`.
 * - A unique violation (SQLSTATE 23505) becomes `UniqueViolation`.
 * - `tx` checks a client out for BEGIN … COMMIT; a `tx` inside it reuses that client (no
 *   savepoint: the same semantics as the SQLite driver). Note that on PostgreSQL a failed
 *   statement aborts the whole transaction, so code inside `tx` must not catch a database
 *   error and carry on.
 * - Reconnection is the pool's: a client whose connection breaks (server restart, terminated
 *   backend) is discarded; the statement that was on it fails, the next one gets a new
 *   connection. An idle client breaking must not crash the process, hence the pool 'error'
 *   listener.
 * - `schema` sets `search_path` in the startup packet of every connection, so each tenant of
 *   a shared server (or each test) lives in its own schema without an extra round trip.
 */
import pg from 'pg';
import { redactUrl } from './database-url.js';
import { UniqueViolation, type Db, type SqlValue, type TxOptions } from './db.js';

export interface PgOptions {
  /** Schema for every connection's search_path (letters, digits, underscore). */
  schema?: string;
  /** Pool size per process (node-postgres default 10). */
  max?: number;
  /** How long to wait for a connection before a statement fails (default 10 s). */
  connectionTimeoutMillis?: number;
  /** Statements with parameters as named (prepared) ones (default true; see MAX_NAMED). */
  prepare?: boolean;
  /** Called when an idle pooled connection breaks; the pool has already dropped it. */
  onError?: (err: Error) => void;
}

export interface PgDb extends Db {
  readonly dialect: 'postgres';
  /** The schema on the search_path, when one was given. */
  readonly schema: string | null;
  /** The database URL with any password replaced by `***`: the only form fit for a log. */
  readonly displayUrl: string;
  /**
   * The pool itself, for the few callers that need a connection of their own (LISTEN in the
   * dispatcher). Its options hold the connection string: never log them.
   */
  readonly pool: pg.Pool;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function isSchemaName(name: string): boolean {
  return SCHEMA_NAME.test(name);
}

/** `"name"`: a schema name is checked before use, but quoting keeps it exact (case kept). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `?` → `$1..$n`, skipping quoted literals and identifiers. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (m) => (m === '?' ? `$${++n}` : m));
}

const toNumber = (v: string): number => Number(v);
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return toNumber;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Kept bounded: SQL texts come from code, but filters combine into a few hundred shapes. */
const MAX_CACHED = 2000;

/**
 * Statements with parameters run as named (prepared) statements: each connection parses a text
 * once, and after five runs PostgreSQL may keep a generic plan instead of planning it again. On
 * single-POST ingest that was 28 % of PostgreSQL's CPU: bench, `--store postgres --phases
 * ingest,e2e --connection close`, 5,000 events, two runs each, PostgreSQL's CPU 15.0 / 15.0 →
 * 10.7 / 10.8 s, ingest 607 / 578 → 671 / 687 ev/s. (Parsing only, every run still planned
 * with plan_cache_mode=force_custom_plan: 13.2 / 13.3 s, no faster.)
 *
 * Bounded, since every connection keeps every statement named on it until it closes: at most
 * MAX_NAMED texts per process, each of at most MAX_NAMED_PARAMS parameters (a multi-row INSERT
 * of a whole group runs unnamed: it is planned once per group, and its parse tree is large).
 * A query without parameters (a SELECT or WITH, no `;`) is named too: by the simple protocol it
 * was planned at every run, and the claim's read of the lanes with work (a recursive CTE, no
 * parameter) cost PostgreSQL 0.59 ms to plan against 0.18 ms to run, 593 ms of its CPU in an end
 * to end run of 10,000 events (pg_stat_statements with track_planning; BENCHMARKS.md, the
 * fourteenth session). Any other text without parameters (DDL, a migration's DO block, a script of
 * several statements) runs by the simple protocol. `prepare: false` (the URL's
 * `?prepared_statements=false`) names none, for a pooler that cannot keep them.
 */
const MAX_NAMED = 200;
const MAX_NAMED_PARAMS = 100;
/** One SELECT (or WITH … SELECT), not a script: a text without parameters that is named all the same. */
const ONE_QUERY = /^\s*(SELECT|WITH)\b[^;]*$/i;

/** A transaction that commits without waiting for the WAL flush (db.ts TxOptions). */
const RELAX = 'SET LOCAL synchronous_commit = off';

export function openPostgres(url: string, opts: PgOptions = {}): PgDb {
  if (opts.schema !== undefined && !isSchemaName(opts.schema)) {
    throw new Error(`schema ${JSON.stringify(opts.schema)}: use letters, digits and underscore (at most 63)`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
    types,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  pool.on('error', (err) => opts.onError?.(err));

  const numbered = new Map<string, string>();
  const text = (sql: string): string => {
    let out = numbered.get(sql);
    if (out === undefined) {
      if (numbered.size >= MAX_CACHED) numbered.clear();
      out = numberPlaceholders(sql);
      numbered.set(sql, out);
    }
    return out;
  };

  const prepare = opts.prepare ?? true;
  const names = new Map<string, string>();
  let nextName = 0;
  const statement = (sql: string, params: readonly SqlValue[]): pg.QueryConfig => {
    const t = text(sql);
    const values = params as unknown[];
    if (!prepare || params.length > MAX_NAMED_PARAMS || (params.length === 0 && !ONE_QUERY.test(t))) return { text: t, values };
    let name = names.get(t);
    if (name === undefined && names.size < MAX_NAMED) {
      name = `messo_${nextName++}`;
      names.set(t, name);
    }
    return name === undefined ? { text: t, values } : { name, text: t, values };
  };
  /**
   * A table's columns changed under a prepared `SELECT *` (another process migrated): PostgreSQL
   * refuses the old plan ("cached plan must not change result type"). The statement fails; its
   * text gets a new name, so the next run prepares it afresh on every connection.
   */
  const forgetStale = (sql: string, err: unknown): void => {
    if ((err as { code?: string })?.code === '0A000') names.delete(text(sql));
  };

  const translate = (err: unknown): never => {
    const e = err as { code?: string; message?: string; constraint?: string };
    if (e?.code === '23505') throw new UniqueViolation(e.message ?? 'unique violation', e.constraint);
    throw err;
  };

  type Runner = Pick<pg.Pool, 'query'> | pg.PoolClient;
  const run = async (on: Runner, sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> => {
    try {
      return await on.query(statement(sql, params));
    } catch (err) {
      forgetStale(sql, err);
      return translate(err);
    }
  };

  /** The port over one checked-out client, inside a transaction; `notices`: the channels to NOTIFY with its COMMIT. */
  const onClient = (client: pg.PoolClient, notices: Set<string>): Db => {
    const db: Db = {
      dialect: 'postgres',
      notifyOnCommit: (channel) => notices.add(channel),
      query: async <T>(sql: string, params: readonly SqlValue[] = []) => (await run(client, sql, params)).rows as T[],
      execute: async (sql: string, params: readonly SqlValue[] = []) => (await run(client, sql, params)).rowCount ?? 0,
      // Nested: the outer transaction's client; `relaxed` applies from here to its commit.
      tx: async (fn, txOpts) => {
        if (txOpts?.relaxed) await client.query(RELAX);
        return fn(db);
      },
      close: async () => undefined,
    };
    return db;
  };

  let closing: Promise<void> | null = null;
  const display = opts.schema ? `${redactUrl(url)} (schema ${opts.schema})` : redactUrl(url);

  return {
    dialect: 'postgres',
    schema: opts.schema ?? null,
    displayUrl: display,
    pool,
    query: async <T>(sql: string, params: readonly SqlValue[] = []) => (await run(pool, sql, params)).rows as T[],
    execute: async (sql: string, params: readonly SqlValue[] = []) => (await run(pool, sql, params)).rowCount ?? 0,
    async tx<T>(fn: (db: Db) => Promise<T>, txOpts?: TxOptions): Promise<T> {
      const client = await pool.connect();
      // Set when the connection itself is in doubt: release(err) destroys it instead of
      // returning a client with a half-open transaction to the pool.
      let broken: Error | undefined;
      // A checked-out client has no pool listener: a connection cut mid-transaction (server
      // restart, terminated backend) would be an unhandled 'error' and end the process.
      const onError = (e: Error) => {
        broken ??= e;
      };
      client.on('error', onError);
      try {
        // Relaxed, both statements go in one round trip (the simple protocol takes several).
        await client.query(txOpts?.relaxed ? `BEGIN; ${RELAX}` : 'BEGIN');
        const notices = new Set<string>();
        const result = await fn(onClient(client, notices));
        // A NOTIFY is delivered at commit anyway: sent with it, it costs no round trip of its own
        // (one per group commit that queued deliveries: 651 of the API's 16,991 statements in
        // a bench run of 5,500 events).
        await client.query([...[...notices].map((c) => `NOTIFY ${quoteIdent(c)}`), 'COMMIT'].join('; '));
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error;
        }
        return translate(err);
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
