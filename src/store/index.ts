/**
 * The store's one door: code outside src/store imports from here, never from the files behind
 * it, so the store can rearrange its modules without touching its callers.
 *
 * openStore opens the store named by a database URL: `sqlite:<path>` (default) or
 * `postgres://…`. The PostgreSQL modules, and with them the pg driver, load only when a
 * postgres:// URL is opened; that is why nothing of them is re-exported here. Tests of the
 * drivers and of the migrations import those modules directly: they test them.
 */
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

// The port, its parts and its errors.
export type { Store } from './store.js';
export { NotFoundError, ConflictError, DuplicateError } from './store.js';
export type { DispatchStore, ClaimOptions, ClaimedDelivery, AttemptOutcome } from './dispatch-store.js';
export type { DeliveryStore, QueueStats, WebhookStats, MinuteBucket } from './delivery-store.js';
export type {
  InspectorStore, Bin, BinOwner, BodyEncoding, Capture, CaptureFilter, NewCapture, ResponseStep,
} from './inspector-store.js';
export type { IngestTokenStore, IngestToken, IssuedIngestToken } from './ingest-token-store.js';
/** A cursor this server did not issue (the API answers 400). */
export { BadCursorError } from './rows.js';

// Entities and their states.
export { ATTEMPT_OUTCOME, DELIVERY_STATUS, DELIVERY_STATUSES, ORDERINGS, SERVICE_STATUSES } from './types.js';
export { BODY_ENCODING } from './inspector-store.js';
export type {
  Page, PageQuery, Tenant, ApiKey, Service, ServiceStatus, ApplicationRow, Ordering, Webhook, WebhookInput,
  Delivery, DeliveryStatus, Attempt, Projection, NewEvent, AppendResult, EventFilter, ApplicationFilter,
  DeliveryFilter,
} from './types.js';

// Whole-store tools: `messo migrate-store` copies one SQL store into another.
export { SqlStore } from './sql-store.js';
export { transfer, type TransferReport } from './transfer.js';
