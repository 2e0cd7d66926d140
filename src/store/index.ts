/**
 * The store's one door: code outside src/store imports from here, never from the files behind
 * it, so the store can rearrange its modules without touching its callers.
 *
 * openStore opens the store named by a database URL: `sqlite:<path>` (default) or
 * `postgres://…`. The PostgreSQL modules, and with them the pg driver, load only when a
 * postgres:// URL is opened; that is why nothing of them is re-exported here. Tests of the
 * drivers and of the migrations import those modules directly: they test them.
 */
import { defaultDataDir } from '../config.js';
import { EncryptionError } from '../domain/encryption.js';
import { resolveKeyring, type ResolvedKeyring } from './keyfile.js';
import { openSqlite } from './sqlite-db.js';
import { sqliteMigrations } from './migrations/sqlite.js';
import { SqlStore, type StoreOptions } from './sql-store.js';
import type { Store } from './store.js';

export interface OpenOptions extends StoreOptions {
  migrate?: boolean;
  /**
   * The keys that seal secrets at rest. Default: MESSO_ENCRYPTION_KEY, else the key file in
   * MESSO_DATA_DIR or beside the SQLite file (generated at first start); see keyfile.ts.
   */
  keyring?: ResolvedKeyring;
}

export async function openStore(url: string, opts: OpenOptions = {}): Promise<Store> {
  const env = process.env;
  const keys = opts.keyring ?? resolveKeyring({
    encryptionKey: env.MESSO_ENCRYPTION_KEY?.trim() || null, dataDir: env.MESSO_DATA_DIR?.trim() || defaultDataDir(url),
  });
  let store: Store;
  const options: StoreOptions = { cloudEventsTypePrefix: opts.cloudEventsTypePrefix, fanoutChunk: opts.fanoutChunk };
  if (url.startsWith('sqlite:')) {
    store = new SqlStore(openSqlite(url.slice('sqlite:'.length)), sqliteMigrations, keys.ring, options);
  } else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresStore } = await import('./postgres-store.js');
    store = await openPostgresStore(url, keys.ring, {}, options);
  } else {
    throw new Error(`unsupported database URL: ${url.split(':')[0]}: (use sqlite:<path> or postgres://…)`);
  }
  if (opts.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      // A wrong key: one clear line naming where the key came from, then the start stops.
      if (err instanceof EncryptionError) throw new EncryptionError(`${keys.source === 'env' ? 'MESSO_ENCRYPTION_KEY' : `key file ${keys.path}`}: ${err.message}`);
      throw err;
    }
  }
  return store;
}

// The port, its parts and its errors.
export type { Store } from './store.js';
export type { StoreOptions } from './sql-store.js';
export { NotFoundError, ConflictError, DuplicateError, RevokedKeyError } from './store.js';
export type { DispatchStore, ClaimOptions, ClaimedDelivery, AttemptOutcome } from './dispatch-store.js';
export type { DeliveryStore, QueueStats, WebhookStats, MinuteBucket, BulkAction } from './delivery-store.js';
export type { WebhookHealth, Recovery } from './webhook-health.js';
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
  Page, PageQuery, Tenant, ApiKey, IssuedCredential, Service, ServiceStatus, ApplicationRow, Ordering, Webhook, WebhookInput,
  Delivery, DeliveryStatus, Attempt, Projection, NewEvent, AppendResult, FanOutPass, EventFilter, ApplicationFilter,
  DeliveryFilter,
} from './types.js';

export { resolveKeyring, KEY_FILE, type ResolvedKeyring } from './keyfile.js';

// Whole-store tools: `messo migrate-store` copies one SQL store into another.
export { SqlStore } from './sql-store.js';
export { transfer, type TransferReport } from './transfer.js';
/** The store out of reach (connection refused, terminated, busy): answer 503, not 500. */
export { isStoreUnavailable } from './unavailable.js';
export { redactUrl } from './database-url.js';
