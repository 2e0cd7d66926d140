/** A store of its own for one test case: a fresh SQLite file, or a fresh PostgreSQL schema. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type OpenOptions, type Store } from '../src/store/index.js';
import { tempDir } from './harness.js';
import { freshPgSchema } from './pg.js';

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
