/**
 * Reading what an OpenCity core POSTs, leniently: the producer's envelope (`tenant_id`,
 * `event_id`, `event_created_at`, `event_version`, `app_version`) around an entity, and which
 * entity a body is when the topic name does not say (a deployment may rename its topics), or
 * when it comes from the core's own webhooks (the bridge). Pure: no store, no HTTP.
 *
 * The core aborts the citizen's request on any answer but 200/201 (2.13 ends in `dd($e)`), so
 * nothing here throws: what cannot be read comes back as `{ rejected: reason, field }`, which
 * the caller keeps as an `ingest.rejected` event for an operator, and answers 200.
 */
import { parseTime } from '../domain/dates.js';
import { unsafeKeyPaths } from '../domain/form-data.js';
import { isPlainObject } from '../domain/php-json.js';
import { OPENCITY_TOPICS, SUPPORTED_EVENT_VERSIONS, type OpenCityTopic } from './opencity-ingest.js';

/** The producer's keys around the entity, and the webhook body's (event_id… app_version). */
export const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['tenant_id', 'event_id', 'event_created_at', 'event_version', 'app_version', 'app_id']);

/** Why a body was not applied, and the field at fault when there is one. */
export interface Rejection {
  rejected: string;
  field: string | null;
}

export interface Envelope {
  /** The core's event id (a UUID string). */
  eventId: string;
  /** The major version: `1`, `"1.0"`, `"2.0"`, `2` → 1 or 2 (others: skip). */
  version: number;
  /** ms; the arrival time when the core sent none. */
  createdAt: number;
  /** `opencity:<app_version>`. */
  appId: string;
  /** The core's tenant id, when the body carries one. */
  tenantId: string | null;
  /** The body without the envelope keys. */
  entity: Record<string, unknown>;
}

export const isRejection = (v: unknown): v is Rejection => isPlainObject(v) && typeof v.rejected === 'string';

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** `1`, `2`, `"1"`, `"1.0"`, `"2.0"` → the major number; null when it is no version at all. */
export function majorVersion(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.trunc(v);
  if (typeof v === 'string' && /^\s*\d{1,9}(\.\d{1,9})?\s*$/.test(v)) return Math.trunc(Number(v));
  return null;
}

/** The body without its envelope keys, made of own data properties only. */
export function entityOf(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !ENVELOPE_KEYS.has(k)));
}

/**
 * The envelope of a producer post or a webhook body. `requireEventId`: the producer always
 * sends one (it is how repeats are recognised); the bridge makes its own.
 */
export function readEnvelope(body: unknown, arrivedAt: number, requireEventId = true): Envelope | Rejection {
  if (!isPlainObject(body)) return { rejected: `the body is JSON but not an object (${Array.isArray(body) ? 'a list' : typeof body})`, field: null };
  const eventId = body.event_id;
  if (requireEventId && !(nonEmpty(eventId) && eventId.length <= 200)) return { rejected: 'event_id is missing or not a string of at most 200 characters', field: 'event_id' };
  const version = body.event_version === undefined || body.event_version === null ? 1 : majorVersion(body.event_version);
  if (version === null) return { rejected: `event_version ${JSON.stringify(body.event_version)} is not a version such as 1, "1.0" or "2.0"`, field: 'event_version' };
  let createdAt = arrivedAt;
  if (body.event_created_at !== undefined && body.event_created_at !== null && body.event_created_at !== '') {
    const t = parseTime(body.event_created_at);
    if (t === null) return { rejected: 'event_created_at is not an ISO 8601 date-time or Unix seconds', field: 'event_created_at' };
    createdAt = t;
  }
  const app = nonEmpty(body.app_version) ? body.app_version : nonEmpty(body.app_id) ? body.app_id.replace(/^[^:]*:/, '') : 'unknown';
  const tenantId = nonEmpty(body.tenant_id) ? body.tenant_id : typeof body.tenant_id === 'number' ? String(body.tenant_id) : null;
  return {
    eventId: nonEmpty(eventId) ? eventId : '', version, createdAt, appId: `opencity:${app.slice(0, 100)}`, tenantId, entity: entityOf(body),
  };
}

export const isSupportedVersion = (v: number): boolean => SUPPORTED_EVENT_VERSIONS.includes(v);

/** What kind of body this is, by its keys (the core's serializers give each a recognisable set). */
export type BodyKind = OpenCityTopic | 'messages';

export function kindOfBody(entity: Record<string, unknown>): BodyKind | null {
  const has = (k: string) => Object.hasOwn(entity, k);
  if (has('service_id') && has('status')) return 'applications';
  if (has('application') && has('message') && has('visibility')) return 'messages';
  if (has('calendar') && (has('from_time') || has('to_time'))) return 'meetings';
  if (has('owner') && (has('title') || has('rolling_days'))) return 'calendars';
  if (has('name') && has('slug')) return 'services';
  return null;
}

/** A producer topic: its default name, or any other name classified by the body. */
export function topicOf(topic: string, entity: Record<string, unknown>): OpenCityTopic | Rejection {
  if ((OPENCITY_TOPICS as readonly string[]).includes(topic)) return topic as OpenCityTopic;
  const kind = kindOfBody(entity);
  if (kind === null || kind === 'messages') {
    return { rejected: `topic "${topic.slice(0, 100)}" is not one of ${OPENCITY_TOPICS.join(', ')} and the body is not recognisably an application, service, meeting or calendar`, field: 'topic' };
  }
  return kind;
}

/** Key paths (in `data` or anywhere) that name a prototype link: such a body is kept for the operator, not applied. */
export function unsafeData(entity: Record<string, unknown>): Rejection | null {
  const paths = unsafeKeyPaths(entity);
  return paths.length > 0 ? { rejected: `key paths that name a prototype link: ${paths.join(', ')}`, field: paths[0] } : null;
}
