/** A store of its own for one test case: a fresh SQLite file, or a fresh PostgreSQL schema. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore, type OpenOptions, type Store } from '../src/store/index.js';
import type { Db } from '../src/store/db.js';
import { openSqlite } from '../src/store/sqlite-db.js';
import { openPostgres } from '../src/store/pg-db.js';
import type { Migration } from '../src/store/migrations/index.js';
import { sqliteMigrations } from '../src/store/migrations/sqlite.js';
import { postgresMigrations } from '../src/store/migrations/postgres.js';
import { tempDir } from './harness.js';
import { freshPgSchema, pgSkip, PG_URL } from './pg.js';

export interface OwnStore {
  store: Store;
  cleanup(): Promise<void>;
}

export async function freshSqliteStore(prefix = 'messo-store-', opts: OpenOptions = {}): Promise<OwnStore> {
  const dir = tempDir(prefix);
  const store = await openStore(`sqlite:${join(dir, 'messo.db')}`, opts);
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function freshPgStore(opts: OpenOptions = {}): Promise<OwnStore> {
  const pg = await freshPgSchema();
  const store = await openStore(pg.url, opts);
  return {
    store,
    async cleanup() {
      await store.close();
      await pg.drop();
    },
  };
}

/**
 * One test per store of a check on a bare database (nothing migrated yet) and its dialect's
 * migrations: a fresh SQLite file and a fresh PostgreSQL schema (skipped, saying why, without
 * PostgreSQL). For migration tests that fill an older schema and then upgrade it.
 */
export async function onBothDatabases(title: string, check: (db: Db, migrations: Migration[]) => Promise<void>): Promise<void> {
  test(`${title} on SQLite`, async () => {
    const dir = tempDir('messo-db-');
    const db = openSqlite(join(dir, 'messo.db'));
    try {
      await check(db, sqliteMigrations);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test(`${title} on PostgreSQL`, { skip: await pgSkip() }, async () => {
    const pg = await freshPgSchema();
    const db = openPostgres(PG_URL, { schema: pg.schema });
    try {
      await check(db, postgresMigrations);
    } finally {
      await db.close();
      await pg.drop();
    }
  });
}
