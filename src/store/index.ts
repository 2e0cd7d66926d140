/** Opens the store named by a database URL: `sqlite:<path>` (default) or `postgres://…`. */
import { openSqlite } from './sqlite-db.js';
import { sqliteMigrations } from './migrations/sqlite.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

export async function openStore(url: string, opts: { migrate?: boolean } = {}): Promise<Store> {
  let store: Store;
  if (url.startsWith('sqlite:')) {
    store = new SqlStore(openSqlite(url.slice('sqlite:'.length)), sqliteMigrations);
  } else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresStore } = await import('./postgres-store.js');
    store = await openPostgresStore(url);
  } else {
    throw new Error(`unsupported database URL: ${url.split(':')[0]}: (use sqlite:<path> or postgres://…)`);
  }
  if (opts.migrate !== false) await store.migrate();
  return store;
}

export type { Store } from './store.js';
export { NotFoundError, ConflictError, DuplicateError } from './store.js';
export type * from './types.js';
export { DELIVERY_STATUSES, ORDERINGS, SERVICE_STATUSES } from './types.js';
export type { AttemptOutcome, ClaimedDelivery, ClaimOptions, DeliveryStore, QueueStats, WebhookStats, MinuteBucket } from './delivery-store.js';
export type { Bin, BinOwner, BodyEncoding, Capture, InspectorStore, ResponseStep } from './inspector-store.js';
export type { IngestToken, IngestTokenStore } from './ingest-token-store.js';
export { BadCursorError } from './rows.js';
export { SqlStore } from './sql-store.js';
export { transfer } from './transfer.js';
