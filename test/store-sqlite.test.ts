/** The Store contract on SQLite: a fresh database file for every case. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';
import { storeContract } from '../src/store/store.contract.js';
import { tempDir } from './harness.js';

storeContract('sqlite', async () => {
  const dir = tempDir('messo-store-');
  const store = await openStore(`sqlite:${join(dir, 'messo.db')}`);
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
