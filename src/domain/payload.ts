/**
 * Delivery bodies, rendered once when the delivery is created and then frozen.
 *
 * - `opencity`: what the core's own webhooks send (`WebhookService`), byte for byte: the entity
 *   (the application at the webhook's version, or the message) plus `event_id`,
 *   `event_created_at`, `event_version` and `app_version`, written by PHP's rules (php-json.ts).
 *   `event_id` is the delivery's own UUID, not the event's: the core makes one per send job, so
 *   two webhooks never share one, and a retry repeats it (the body is frozen). `event_version`
 *   is the webhook's version as the core stores it, `"1.0"` or `"2.0"`.
 * - `standard`: Standard Webhooks' `{ type, timestamp, data }`.
 * - `cloudevents`: CloudEvents 1.0, JSON structured mode. `type` is the event's type under a
 *   reverse-DNS prefix (`it.opencity.application.status_changed`), `source` the URN of the tenant.
 * - `cloudevents-binary`: the same event in binary mode. The frozen body is the structured one;
 *   prepare.ts moves its attributes to `ce-*` headers and sends `data` alone (cloudevents.ts).
 */
import { cloudEventsSource, DEFAULT_CLOUDEVENTS_TYPE_PREFIX } from './cloudevents.js';
import { renderApplication, type ApplicationDoc, type RepresentationVersion } from './application.js';
import { applicationAtVersion } from './representation.js';
import { formatRome } from './dates.js';
import { appVersion, type EventRecord } from './events.js';
import { isMessageRecord, renderMessage } from './message.js';
import { isPlainObject, phpJsonEncode } from './php-json.js';

export const FORMATS = ['opencity', 'standard', 'cloudevents', 'cloudevents-binary'] as const;
export type PayloadFormat = (typeof FORMATS)[number];

export interface RenderTarget {
  format: PayloadFormat;
  version: RepresentationVersion;
  /** CloudEvents `type` prefix, reverse-DNS without the final dot (default DEFAULT_CLOUDEVENTS_TYPE_PREFIX). */
  typePrefix?: string;
}



/** What belongs to one delivery rather than to the event. */
export interface DeliveryIdentity {
  /**
   * The `event_id` of an `opencity` body: a fresh UUID per delivery, kept across its retries.
   * `null` renders the core's "test" send, which has neither `event_id` nor `event_created_at`.
   * The other formats identify the event, and ignore it.
   */
  eventId: string | null;
}

export interface RenderedPayload {
  body: string;
  contentType: string;
}

type RenderableEvent = Pick<EventRecord, 'event_id' | 'type' | 'tenant_id' | 'subject' | 'event_version' | 'event_created_at' | 'app_id' | 'data'>;

/** The webhook's `version` as the core stores it and sends it in `event_version`. */
export function webhookVersionString(version: RepresentationVersion): '1.0' | '2.0' {
  return version === 2 ? '2.0' : '1.0';
}

/** The entity an event is about, as the platform would show it. */
export function renderEntity(event: Pick<RenderableEvent, 'data'>, version: RepresentationVersion): Record<string, unknown> {
  const data = event.data;
  if (isPlainObject(data.application)) return renderApplication(data.application as ApplicationDoc, version);
  if (isMessageRecord(data.message)) return renderMessage(data.message);
  return { ...data };
}

/**
 * The written entity of an application or message event, per version, without its closing brace:
 * every opencity delivery of one event shares it and only appends its own event keys (rendering
 * the reference pratica costs 0.1–0.4 ms; appending, microseconds).
 */
const writtenEntities = new WeakMap<object, Map<RepresentationVersion, string>>();

function writtenEntity(data: Record<string, unknown>, version: RepresentationVersion): string {
  let byVersion = writtenEntities.get(data);
  if (!byVersion) writtenEntities.set(data, byVersion = new Map());
  let text = byVersion.get(version);
  if (text === undefined) {
    // The writer applies PHP's array rules itself, so the application needs no normalised copy.
    const entity = isPlainObject(data.application) ? applicationAtVersion(data.application as ApplicationDoc, version) : renderMessage(data.message as Record<string, unknown>);
    text = phpJsonEncode(entity).slice(0, -1);
    byVersion.set(version, text);
  }
  return text;
}

/** The core's webhook body: the entity, then `$data['event_id']` … `$data['app_version']`. */
function opencityBody(event: RenderableEvent, version: RepresentationVersion, delivery: DeliveryIdentity): string {
  const appVer = appVersion(event.app_id);
  if (isPlainObject(event.data.application) || isMessageRecord(event.data.message)) {
    const keys: Record<string, unknown> = {};
    if (delivery.eventId !== null) {
      keys.event_id = delivery.eventId;
      keys.event_created_at = formatRome(event.event_created_at);
    }
    keys.event_version = webhookVersionString(version);
    keys.app_version = appVer;
    return `${writtenEntity(event.data, version)},${phpJsonEncode(keys).slice(1)}`;
  }
  // Other entities (meetings, calendars relayed from the producer) are not sent by the core's
  // webhooks; their body keeps the version their producer gave them.
  const body: Record<string, unknown> = { ...event.data };
  if (delivery.eventId !== null) {
    body.event_id = delivery.eventId;
    body.event_created_at = formatRome(event.event_created_at);
  }
  body.event_version = event.event_version;
  body.app_version = appVer;
  return phpJsonEncode(body);
}

export function renderPayload(event: RenderableEvent, target: RenderTarget, delivery: DeliveryIdentity): RenderedPayload {
  if (target.format === 'opencity') return { contentType: 'application/json', body: opencityBody(event, target.version, delivery) };
  const entity = renderEntity(event, target.version);
  switch (target.format) {
    case 'standard':
      return {
        contentType: 'application/json',
        body: JSON.stringify({
          type: event.type,
          timestamp: new Date(event.event_created_at).toISOString(),
          data: withTransition(event, { ...entity, event_id: event.event_id }),
        }),
      };
    case 'cloudevents':
    case 'cloudevents-binary':
      return {
        contentType: 'application/cloudevents+json',
        body: JSON.stringify({
          specversion: '1.0',
          id: event.event_id,
          source: cloudEventsSource(event.tenant_id),
          type: `${target.typePrefix ?? DEFAULT_CLOUDEVENTS_TYPE_PREFIX}.${event.type}`,
          subject: event.subject ?? undefined,
          time: new Date(event.event_created_at).toISOString(),
          datacontenttype: 'application/json',
          data: withTransition(event, entity),
        }),
      };
  }
}

/** Status changes also say where they came from, which the OpenCity body cannot carry. */
function withTransition(event: RenderableEvent, entity: Record<string, unknown>): Record<string, unknown> {
  if (typeof event.data.from === 'number') return { ...entity, previous_status: event.data.from };
  return entity;
}
