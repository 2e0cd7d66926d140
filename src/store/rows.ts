/** Row ↔ entity mapping and cursors, shared by every SQL module of the store. */
import type { EventRecord } from '../domain/events.js';
import { openOrPlain, type Keyring } from '../domain/encryption.js';
import type { IssuedCredential, ApplicationRow, Attempt, Delivery, Service, Tenant, Webhook } from './types.js';

type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

export const toTenant = (r: Row): Tenant => ({
  id: str(r.id), name: str(r.name), slug: str(r.slug), external_id: strOrNull(r.external_id),
  created_at: num(r.created_at), updated_at: num(r.updated_at),
});

export const toCredential = (r: Row): IssuedCredential => ({
  id: str(r.id), tenant_id: str(r.tenant_id), name: str(r.name), prefix: str(r.prefix),
  created_at: num(r.created_at), revoked_at: numOrNull(r.revoked_at), last_used_at: numOrNull(r.last_used_at),
});

export const toService = (r: Row): Service => ({
  id: str(r.id), tenant_id: str(r.tenant_id), slug: str(r.slug), name: str(r.name),
  group_name: strOrNull(r.group_name), description: strOrNull(r.description),
  status: str(r.status) as Service['status'], created_at: num(r.created_at), updated_at: num(r.updated_at),
});

export const toApplication = (r: Row): ApplicationRow => ({
  id: str(r.id), tenant_id: str(r.tenant_id), service_id: str(r.service_id), status: num(r.status),
  doc: json(r.doc), version: num(r.version), created_at: num(r.created_at), updated_at: num(r.updated_at),
  last_event_seq: num(r.last_event_seq), last_event_at: num(r.last_event_at),
});

export const toEvent = (r: Row): EventRecord => ({
  seq: num(r.seq), event_id: str(r.event_id), type: str(r.type), tenant_id: str(r.tenant_id),
  subject: strOrNull(r.subject), event_version: num(r.event_version), event_created_at: num(r.event_created_at),
  app_id: str(r.app_id), data: json(r.data), recorded_at: num(r.recorded_at),
});

/** Secrets and headers are sealed at rest (issue 12, item 8): opened here, with the store's keyring. */
export const toWebhook = (r: Row, ring: Keyring): Webhook => ({
  id: str(r.id), tenant_id: str(r.tenant_id), title: str(r.title), description: strOrNull(r.description),
  endpoint: str(r.endpoint), method: str(r.method) as Webhook['method'], trigger: strOrNull(r.trigger),
  events: json(r.events), filters: json(r.filters), headers: json(openOrPlain(ring, str(r.headers))),
  version: num(r.version) as Webhook['version'], format: str(r.format) as Webhook['format'],
  active: num(r.active) === 1, ordering: str(r.ordering) as Webhook['ordering'],
  max_concurrency: numOrNull(r.max_concurrency), rate_limit: numOrNull(r.rate_limit),
  follow_redirects: num(r.follow_redirects ?? 0) === 1,
  secret: openOrPlain(ring, str(r.secret)),
  previous_secret: r.previous_secret == null ? null : openOrPlain(ring, str(r.previous_secret)),
  previous_secret_expires_at: numOrNull(r.previous_secret_expires_at),
  disabled_reason: strOrNull(r.disabled_reason), disabled_at: numOrNull(r.disabled_at),
  failing_since: numOrNull(r.failing_since), created_at: num(r.created_at), updated_at: num(r.updated_at),
});

export const toDelivery = (r: Row): Delivery => ({
  seq: num(r.seq), id: str(r.id), tenant_id: str(r.tenant_id), webhook_id: str(r.webhook_id),
  event_id: str(r.event_id), event_type: str(r.event_type), subject: strOrNull(r.subject),
  order_key: strOrNull(r.order_key), endpoint_key: str(r.endpoint_key), status: str(r.status) as Delivery['status'],
  body: str(r.body), content_type: str(r.content_type), attempts: num(r.attempts),
  next_attempt_at: numOrNull(r.next_attempt_at), last_status_code: numOrNull(r.last_status_code),
  last_error: strOrNull(r.last_error), created_at: num(r.created_at), updated_at: num(r.updated_at),
  completed_at: numOrNull(r.completed_at), attempt_offset: num(r.attempt_offset ?? 0),
  manual_attempts: String(r.manual_attempts ?? '').split(',').filter((x) => x !== '').map(Number),
});

export const toAttempt = (r: Row): Attempt => ({
  id: str(r.id), delivery_id: str(r.delivery_id), webhook_id: str(r.webhook_id), attempt: num(r.attempt),
  started_at: num(r.started_at), duration_ms: num(r.duration_ms), url: str(r.url),
  outcome: str(r.outcome) as Attempt['outcome'], status_code: numOrNull(r.status_code),
  response_headers: r.response_headers == null ? null : json(r.response_headers),
  response_body: strOrNull(r.response_body), response_truncated: num(r.response_truncated) === 1,
  error_class: strOrNull(r.error_class), error_message: strOrNull(r.error_message),
  next_attempt_at: numOrNull(r.next_attempt_at),
});

/** Cursors are opaque to clients: the sort key of the last row, base64url-encoded. */
export function encodeCursor(key: number): string {
  return Buffer.from(`c${key}`).toString('base64url');
}

export class BadCursorError extends Error {}

export function decodeCursor(cursor: string | null | undefined): number | null {
  if (!cursor) return null;
  const text = Buffer.from(cursor, 'base64url').toString();
  // Only what encodeCursor writes: `c` and a non-negative integer (no sign, exponent or hex).
  if (!/^c\d{1,15}$/.test(text)) throw new BadCursorError('cursor is not one this server issued');
  return Number(text.slice(1));
}

/** Fetches limit+1 rows to know whether a next page exists without a count query. */
export function toPage<T>(rows: T[], limit: number, keyOf: (item: T) => number): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const next_cursor = rows.length > limit ? encodeCursor(keyOf(items[items.length - 1])) : null;
  return { items, next_cursor };
}
