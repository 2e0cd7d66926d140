/**
 * PostgreSQL store: the one SQL store over the pg driver, with the PostgreSQL migrations.
 *
 * `postgres://user@host:5432/db?schema=messo` puts every table in schema `messo` (created at
 * migration if missing), so one database can hold several installations, or one test each.
 * `?prepared_statements=false` runs every statement unnamed, for a pooler that cannot keep named
 * statements (PgBouncer in transaction mode before 1.21, or without max_prepared_statements);
 * see pg-db.ts for what they save. Both are our parameters: taken off the URL before
 * node-postgres reads the rest.
 */
import { parsePostgresUrl } from './database-url.js';
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

/** First key of the advisory lock that lets one process at a time keep the statistics ('stat'). */
const STATISTICS_LOCK = 0x73746174;

export class PostgresStore extends SqlStore {
  constructor(readonly pg: PgDb, ring: Keyring, options: StoreOptions = {}) {
    super(pg, postgresMigrations, ring, options);
    this.wakeChannel = wakeChannel(pg.schema);
  }

  override subscribeWake(onWake: () => void, onError: (err: Error) => void): Listener {
    return listenForWake(this.pg, onWake, onError);
  }

  /**
   * Where autovacuum runs, it keeps the statistics and this does nothing. Where it is off (for
   * the server, or for a table), a table is analysed here by autovacuum's default rule: once more
   * than 50 rows plus 10 % of it changed since its last ANALYZE. One process at a time (an
   * advisory lock; the others skip this pass), inside a transaction: ANALYZE may run in one.
   */
  override async keepStatistics(): Promise<string[]> {
    return this.pg.tx(async (t) => {
      const [turn] = await t.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(?, hashtext(current_schema())) AS ok', [STATISTICS_LOCK]);
      if (!turn.ok) return [];
      const tables = (await t.query<{ name: string }>(
        `SELECT s.relname AS name FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)
           AND (current_setting('autovacuum') = 'off'
             OR EXISTS (SELECT 1 FROM unnest(c.reloptions) AS o WHERE o ~* '^autovacuum_enabled=(f|false|off|n|no|0)$'))
         ORDER BY s.relname`,
      )).map((r) => r.name);
      for (const name of tables) await t.execute(`ANALYZE ${quoteIdent(name)}`);
      return tables;
    });
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
  return new PostgresStore(openPostgres(parsed.url, { prepare: parsed.prepare, ...opts, schema: opts.schema ?? parsed.schema }), ring, storeOptions);
}
