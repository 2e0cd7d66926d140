/**
 * Events: every change in messo is an event in an append-only log. An event's `data` holds the
 * entity as it was right after the change (e.g. `{ application, from, to, message }`), which is
 * what makes the projections rebuildable and delivery bodies frozen at the moment it happened.
 */
export const EVENT_TYPES = {
  applicationCreated: 'application.created',
  applicationUpdated: 'application.updated',
  applicationStatusChanged: 'application.status_changed',
  messageCreated: 'message.created',
  serviceCreated: 'service.created',
  serviceUpdated: 'service.updated',
  webhookDisabled: 'webhook.disabled',
  webhookEnabled: 'webhook.enabled',
} as const;

/**
 * A test that follows the retry schedule ("Invia prova" through retries): logged under its own
 * type, delivered to the one webhook tested, never matched by subscriptions.
 */
export const TEST_EVENT_TYPE = 'webhook.test';

/** Types a webhook may subscribe to by name; `meeting.*` / `calendar.*` come from ingest. */
export const SUBSCRIBABLE_EVENT_TYPES: readonly string[] = [
  ...Object.values(EVENT_TYPES),
  'meeting.created', 'meeting.updated', 'calendar.created', 'calendar.updated',
];

/** `word.word` in lower case: what an ingested or subscribed event type must look like. */
export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$';

export const MESSO_APP_ID = 'messo:0.1.0';

export interface EventRecord {
  /** Position in the tenant-independent log; the cursor of every listing. */
  seq: number;
  event_id: string;
  type: string;
  tenant_id: string;
  subject: string | null;
  event_version: number;
  /** Milliseconds since the epoch; rendered as a Rome date-time at the edge. */
  event_created_at: number;
  app_id: string;
  data: Record<string, unknown>;
  /** When messo stored it (ms). */
  recorded_at: number;
}

/** The producer's version as OpenCity's `app_version` key wants it: `core:2.15.0` → `2.15.0`. */
export function appVersion(appId: string): string {
  const i = appId.lastIndexOf(':');
  return i >= 0 ? appId.slice(i + 1) : appId;
}

/** Service id an event is about, for the webhook service filter. */
export function eventServiceId(data: Record<string, unknown>): string | null {
  const app = data.application as Record<string, unknown> | undefined;
  if (app && typeof app.service_id === 'string') return app.service_id;
  if (typeof data.service_id === 'string') return data.service_id;
  return null;
}

/** Status an event moves its application into (creation counts as entering its first status). */
export function eventStatus(type: string, data: Record<string, unknown>): number | null {
  if (type !== EVENT_TYPES.applicationCreated && type !== EVENT_TYPES.applicationStatusChanged) return null;
  if (typeof data.to === 'number') return data.to;
  const app = data.application as Record<string, unknown> | undefined;
  return app && typeof app.status === 'number' ? app.status : null;
}
