/**
 * Entities as the store returns them. Times are milliseconds since the epoch; the HTTP layer
 * renders them. Secrets and hashes never leave the store through these types except where a
 * caller needs them to sign (Webhook.secret).
 */
import type { ApplicationDoc } from '../domain/application.js';
import type { EventRecord } from '../domain/events.js';
import type { PayloadFormat } from '../domain/payload.js';
import type { AppliedSnapshot, SnapshotClassification } from '../domain/snapshot.js';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  limit: number;
  cursor?: string | null;
}

export interface Tenant {
  id: string;
  name: string;
  slug: string;
  external_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A secret issued to a tenant (an API key, an ingest token): only its hash is kept, and a prefix to show. */
export interface IssuedCredential {
  id: string;
  tenant_id: string;
  name: string;
  /** The first characters of the secret, safe to show and log. */
  prefix: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export type ApiKey = IssuedCredential;

export const SERVICE_STATUSES = ['active', 'suspended', 'draft'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export interface Service {
  id: string;
  tenant_id: string;
  slug: string;
  name: string;
  group_name: string | null;
  description: string | null;
  status: ServiceStatus;
  created_at: number;
  updated_at: number;
}

export interface ApplicationRow {
  id: string;
  tenant_id: string;
  service_id: string;
  status: number;
  doc: ApplicationDoc;
  /** Number of events applied; the optimistic-concurrency token of transitions. */
  version: number;
  created_at: number;
  updated_at: number;
  last_event_seq: number;
  last_event_at: number;
}

export const ORDERINGS = ['none', 'per_application'] as const;
export type Ordering = (typeof ORDERINGS)[number];

export interface Webhook {
  id: string;
  tenant_id: string;
  title: string;
  description: string | null;
  endpoint: string;
  method: 'POST' | 'PUT';
  trigger: string | null;
  events: string[];
  filters: 'all' | string[];
  headers: Record<string, string>;
  version: 1 | 2;
  format: PayloadFormat;
  active: boolean;
  ordering: Ordering;
  max_concurrency: number | null;
  rate_limit: number | null;
  /** Follow 301/302/307/308 (at most 5 hops, each one through the address guard); off by default. */
  follow_redirects: boolean;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  disabled_reason: string | null;
  disabled_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export type WebhookInput = Omit<Webhook, 'id' | 'tenant_id' | 'created_at' | 'updated_at' | 'previous_secret' |
  'previous_secret_expires_at' | 'disabled_reason' | 'disabled_at' | 'failing_since'>;

/**
 * A delivery's states, named once: TypeScript compares against these, and the SQL takes its
 * literals from them (sql.ts). What each state means: delivery-store.ts.
 */
export const DELIVERY_STATUS = {
  pending: 'pending', sending: 'sending', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled',
} as const;
export type DeliveryStatus = (typeof DELIVERY_STATUS)[keyof typeof DELIVERY_STATUS];
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = Object.values(DELIVERY_STATUS);

export interface Delivery {
  seq: number;
  id: string;
  tenant_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  subject: string | null;
  order_key: string | null;
  endpoint_key: string;
  status: DeliveryStatus;
  body: string;
  content_type: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  /** Attempts made before the last manual resend: numbering goes on from there. */
  attempt_offset: number;
  /** Numbers of the attempts an operator asked for (resend, retry now). */
  manual_attempts: number[];
  /** The pratica's subject and applicant, when the delivery is about one (lists only). */
  application?: { subject: string | null; applicant: string | null } | null;
}

/** How an attempt ended, as recorded: a 2xx, or anything else (a retry or the last try alike). */
export const ATTEMPT_OUTCOME = { success: 'success', failure: 'failure' } as const;

export interface Attempt {
  id: string;
  delivery_id: string;
  webhook_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  url: string;
  outcome: (typeof ATTEMPT_OUTCOME)[keyof typeof ATTEMPT_OUTCOME];
  status_code: number | null;
  response_headers: Record<string, string | string[]> | null;
  response_body: string | null;
  response_truncated: boolean;
  error_class: string | null;
  error_message: string | null;
  next_attempt_at: number | null;
}

/** How an event changes a projection, applied in the event's transaction. */
export type Projection =
  | {
      kind: 'application';
      doc: ApplicationDoc;
      /**
       * `strict`: null = the application must not exist yet; a number = the version the caller
       * read (a concurrent change makes the append fail with ConflictError).
       * `newer`: snapshots from an external core; applied only when not older than the last one.
       */
      mode: 'strict' | 'newer';
      expectedVersion?: number | null;
    }
  | { kind: 'service'; service: Omit<Service, 'created_at' | 'updated_at'> };

/** An event to append: the record without what the store assigns, and the projection change it makes. */
export interface NewEvent extends Omit<EventRecord, 'seq' | 'recorded_at'> {
  projection?: Projection;
  /**
   * A snapshot whose type and data depend on the pratica applied before it (created, status
   * changed, updated, outdated): the store reads that pratica in the event's own transaction,
   * after the events before it, and takes `type` and `data` from this instead of the fields
   * above. Needs an `application` projection in `newer` mode.
   */
  classify?: (prior: AppliedSnapshot | null) => SnapshotClassification;
}

/** What one fan-out pass wrote (store.expandFanOut): `job` false when no job was waiting (or all were taken elsewhere). */
export interface FanOutPass {
  job: boolean;
  deliveries: number;
}

export interface AppendResult {
  event: EventRecord;
  /** false when an event with this event_id already existed: nothing was written. */
  created: boolean;
  /** false when a `newer` snapshot was older than the projection and left it alone. */
  projected: boolean;
  deliveries: number;
}

export interface EventFilter {
  type?: string;
  subject?: string;
  since?: number;
}

/** List order: `asc` oldest change first (a sync cursor), `desc` newest first (what people read). */
export type ListOrder = 'asc' | 'desc';

export interface ApplicationFilter {
  status?: number;
  service_id?: string;
  updated_since?: number;
  /** Words that must each prefix one of the pratica's search terms (domain/search.ts). */
  q?: string;
  order?: ListOrder;
}

export interface DeliveryFilter {
  /** A delivery id prefix (`msg_…`), or words of its pratica (applicant, codice fiscale, subject…). */
  q?: string;
  order?: ListOrder;
  webhook_id?: string;
  event_id?: string;
  subject?: string;
  status?: DeliveryStatus;
  since?: number;
  until?: number;
}

/** A webhook's health as lists show it (webhook-health.ts). */
export interface WebhookHealth {
  state: 'ok' | 'failing' | 'disabled';
  failing_since: number | null;
  /** Failed attempts since failing_since (0 when not failing). */
  failures: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  /** Events that matched the webhook while it was disabled and were not delivered. */
  skipped_events: number;
}

/** What re-enabling with recovery did (webhook-health.ts). */
export interface Recovery {
  /** New deliveries, one per skipped event still in the log. */
  created: number;
  /** Deliveries that failed when or after the webhook was disabled, sent again. */
  resent: number;
  /** Skipped events left for another call (beyond RECOVER_BATCH). */
  remaining: number;
}
