/**
 * The Store contract: one suite of behaviours every Store implementation must show, run by
 * test/store-sqlite.test.ts and test/store-postgres.test.ts. It talks to the Store interface
 * only, never to SQL, so it stays dialect-neutral. Every case opens its own store (a fresh file
 * or schema) and cleans it up, so cases are independent and may run in any order.
 */
import { describe } from 'node:test';
import type { Store, StoreOptions } from '../../src/store/index.js';
import { entityCases } from './entities.js';
import { eventCases } from './events.js';
import { deliveryCases } from './delivery.js';
import { fanOutCases } from './fanout.js';
import type { StoreCase } from './fixtures.js';

export type OpenStore = (options?: StoreOptions) => Promise<{ store: Store; cleanup(): Promise<void> }>;

export function storeContract(name: string, open: OpenStore): void {
  /** Runs one case on a store of its own, cleaned up whatever happens. */
  const withStore: StoreCase = (fn, options) => async () => {
    const { store, cleanup } = await open(options);
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  };

  describe(`Store contract: ${name}`, () => {
    entityCases(withStore);
    eventCases(withStore);
    deliveryCases(withStore);
    fanOutCases(withStore);
  });
}
