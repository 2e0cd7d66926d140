/**
 * The store port: intention-named, batch-shaped operations. Two implementations share one SQL
 * body (sql-store.ts) over the database port: SQLite (embedded default) and PostgreSQL.
 * One contract suite (test/store-contract/) runs against both.
 */
import type { EventRecord } from '../domain/events.js';
import type {
  ApiKey, AppendResult, ApplicationFilter, FanOutPass, ApplicationRow, EventFilter, NewEvent, Page, PageQuery,
  Recovery, Service, Tenant, Webhook, WebhookHealth, WebhookInput,
} from './types.js';
import type { DeliveryStore } from './delivery-store.js';
import type { DispatchStore } from './dispatch-store.js';
import type { InspectorStore } from './inspector-store.js';
import type { IngestTokenStore } from './ingest-token-store.js';

export class NotFoundError extends Error {}
/** A concurrent change won: the caller's view is stale (optimistic concurrency). */
export class ConflictError extends Error {}
/**
 * The API key a write came with was revoked (or removed) before the write's transaction: nothing
 * was written. Only for a write that checks its key itself (appendEvents' `liveKey`).
 */
export class RevokedKeyError extends Error {
  constructor() {
    super('the token is not valid or was revoked');
  }
}
/** A unique value (slug, external id…) is already taken. */
export class DuplicateError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
  }
}

export interface Store extends DeliveryStore, DispatchStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Request-inspector bins and captures. */
  readonly inspector: InspectorStore;
  /** Ingest tokens of the OpenCity-compatible ingest. */
  readonly ingestTokens: IngestTokenStore;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Calls `onWake` when another process queued deliveries (PostgreSQL LISTEN/NOTIFY); null when
   * the store has no such channel (SQLite: one machine, the poll suffices).
   */
  subscribeWake(onWake: () => void, onError: (err: Error) => void): { close(): Promise<void> } | null;

  /**
   * PostgreSQL: analyses the tables that autovacuum leaves alone (off for the server, or for the
   * table) once they changed by autovacuum's own rule, and returns their names. Without
   * statistics the planner took a page of the delivery list through every delivery of the tenant
   * (30,000 pages for 20 rows at 5,000 deliveries). SQLite: nothing to do.
   */
  keepStatistics(): Promise<string[]>;

  /** Retention: removes events, payloads, finished deliveries and attempts older than `cutoff`. */
  purgeOlderThan(cutoff: number): Promise<{ attempts: number; deliveries: number; payloads: number; events: number }>;

  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;

  createTenant(input: { id: string; name: string; slug: string; external_id: string | null }): Promise<Tenant>;
  updateTenant(id: string, patch: Partial<Pick<Tenant, 'name' | 'external_id'>>): Promise<Tenant | null>;
  getTenant(id: string): Promise<Tenant | null>;
  findTenantByExternalId(externalId: string): Promise<Tenant | null>;
  listTenants(page: PageQuery): Promise<Page<Tenant>>;

  createApiKey(input: { id: string; tenant_id: string; name: string; prefix: string; hash: string }): Promise<ApiKey>;
  listApiKeys(tenantId: string): Promise<ApiKey[]>;
  revokeApiKey(tenantId: string, id: string): Promise<ApiKey | null>;
  /** The live (not revoked) key with this hash, marking it used. */
  findApiKeyByHash(hash: string): Promise<ApiKey | null>;

  getService(tenantId: string, id: string): Promise<Service | null>;
  listServices(tenantId: string, page: PageQuery): Promise<Page<Service>>;

  getApplication(tenantId: string, id: string): Promise<ApplicationRow | null>;
  listApplications(tenantId: string, filter: ApplicationFilter, page: PageQuery): Promise<Page<ApplicationRow>>;
  /** Rebuilds an application from its events alone (the projection's proof). */
  replayApplication(tenantId: string, id: string): Promise<ApplicationRow['doc'] | null>;

  /**
   * Appends events with their projection changes and, in the same transaction, one delivery
   * per matching webhook (transactional outbox), or, past MESSO_FANOUT_CHUNK deliveries, a
   * fan-out job that promises them (expandFanOut). All or nothing for the whole batch. An
   * event_id this tenant sent before is not written again: its result has `created: false`.
   * Ids (event_id, service and application ids) are unique per tenant: another tenant's same
   * id is another thing, and nothing tells one tenant that another holds it.
   *
   * `liveKey`: the id of the API key the request came with, when the caller did not look it up
   * (a cache): it is read in the events' own transaction, and if it is revoked by then nothing is
   * written and RevokedKeyError is thrown. A revocation committed before the write refuses it,
   * exactly as a lookup before the transaction would.
   */
  appendEvents(events: NewEvent[], opts?: { liveKey?: string }): Promise<AppendResult[]>;
  /**
   * Writes the next chunk of a fan-out too large for its event's transaction (fanout.ts), in a
   * transaction of its own; `job: false` when none was waiting.
   */
  expandFanOut(): Promise<FanOutPass>;
  getEvent(tenantId: string, eventId: string): Promise<EventRecord | null>;
  listEvents(tenantId: string, filter: EventFilter, page: PageQuery): Promise<Page<EventRecord>>;

  createWebhook(input: WebhookInput & { id: string; tenant_id: string }): Promise<Webhook>;
  updateWebhook(tenantId: string, id: string, patch: Partial<WebhookInput>): Promise<Webhook | null>;
  getWebhook(tenantId: string, id: string): Promise<Webhook | null>;
  listWebhooks(tenantId: string, page: PageQuery): Promise<Page<Webhook>>;
  /** Webhooks of the tenant that are not deleted (the quota MESSO_MAX_WEBHOOKS_PER_TENANT). */
  countWebhooks(tenantId: string): Promise<number>;
  // setWebhookActive: in DispatchStore (the dispatcher disables webhooks that keep failing).
  /** Soft delete: the webhook stops matching, its pending deliveries are cancelled. */
  deleteWebhook(tenantId: string, id: string): Promise<boolean>;
  rotateWebhookSecret(tenantId: string, id: string, secret: string, previousValidUntil: number): Promise<Webhook | null>;
  /** Enables a webhook; with `recover`, creates the deliveries of the events it skipped while disabled. */
  enableWebhook(tenantId: string, id: string, recover: boolean): Promise<{ webhook: Webhook; recovery: Recovery | null } | null>;
  /** A test delivery to this one webhook, sent and retried by the dispatcher (event type webhook.test). */
  createTestDelivery(webhook: Webhook, event: Omit<EventRecord, 'seq' | 'recorded_at'>, body: { body: string; contentType: string }): Promise<string>;
  /** Failing since when and how many failures, or why disabled and how many events it skipped. */
  webhookHealth(webhook: Webhook): Promise<WebhookHealth>;
}
