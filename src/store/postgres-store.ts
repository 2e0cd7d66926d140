/**
 * PostgreSQL store: the one SQL store over the pg driver, with the PostgreSQL migrations.
 *
 * `postgres://user@host:5432/db?schema=messo` puts every table in schema `messo` (created at
 * migration if missing), so one database can hold several installations, or one test each.
 * `schema` is our parameter: it is taken off the URL before node-postgres reads the rest.
 */
import { openPostgres, quoteIdent, type PgDb, type PgOptions } from './pg-db.js';
import { postgresMigrations } from './migrations/postgres.js';
import { SqlStore, type StoreOptions } from './sql-store.js';
import { listenForWake, wakeChannel, type Listener } from './pg-listen.js';
import { UniqueViolation } from './db.js';
import type { Keyring } from '../domain/encryption.js';

export interface PostgresStoreOptions extends Omit<PgOptions, 'schema'> {
  /** Overrides the URL's `?schema=`. */
  schema?: string;
}

/** Splits our `schema` parameter off a postgres:// URL. */
export function parsePostgresUrl(url: string): { url: string; schema: string | undefined } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return { url: u.toString(), schema: schema === '' ? undefined : schema };
}

export class PostgresStore extends SqlStore {
  constructor(readonly pg: PgDb, ring: Keyring, options: StoreOptions = {}) {
    super(pg, postgresMigrations, ring, options);
    this.wakeChannel = wakeChannel(pg.schema);
  }

  override subscribeWake(onWake: () => void, onError: (err: Error) => void): Listener {
    return listenForWake(this.pg, onWake, onError);
  }

  override async migrate(): Promise<void> {
    if (this.pg.schema) {
      try {
        await this.pg.execute(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.pg.schema)}`);
      } catch (err) {
        // Two processes creating it at once: IF NOT EXISTS still races on the catalogue.
        if (!(err instanceof UniqueViolation)) throw err;
      }
    }
    await super.migrate();
  }
}

export async function openPostgresStore(url: string, ring: Keyring, opts: PostgresStoreOptions = {}, storeOptions: StoreOptions = {}): Promise<PostgresStore> {
  const parsed = parsePostgresUrl(url);
  return new PostgresStore(openPostgres(parsed.url, { ...opts, schema: opts.schema ?? parsed.schema }), ring, storeOptions);
}
