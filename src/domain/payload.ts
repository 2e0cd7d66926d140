/**
 * Delivery bodies, rendered once when the event is recorded and then frozen.
 *
 * - `opencity`: what the platform's own webhooks send — the entity JSON (application at the
 *   webhook's version, or the message) with `event_id`, `event_created_at`, `event_version` and
 *   `app_version` added at the top level. Receivers written for the platform keep working.
 * - `standard`: Standard Webhooks' `{ type, timestamp, data }`.
 * - `cloudevents`: CloudEvents 1.0, JSON structured mode.
 */
import { renderApplication, type ApplicationDoc, type RepresentationVersion } from './application.js';
import { formatRome } from './dates.js';
import { appVersion, type EventRecord } from './events.js';

export const FORMATS = ['opencity', 'standard', 'cloudevents'] as const;
export type PayloadFormat = (typeof FORMATS)[number];

export interface RenderTarget {
  format: PayloadFormat;
  version: RepresentationVersion;
}

export interface RenderedPayload {
  body: string;
  contentType: string;
}

type RenderableEvent = Pick<EventRecord, 'event_id' | 'type' | 'tenant_id' | 'subject' | 'event_version' | 'event_created_at' | 'app_id' | 'data'>;

/** The entity an event is about, as the platform would show it. */
export function renderEntity(event: RenderableEvent, version: RepresentationVersion): Record<string, unknown> {
  const data = event.data;
  if (data.message && typeof data.message === 'object') return { ...(data.message as Record<string, unknown>) };
  if (data.application && typeof data.application === 'object') {
    return renderApplication(data.application as ApplicationDoc, version);
  }
  return { ...data };
}

export function renderPayload(event: RenderableEvent, target: RenderTarget): RenderedPayload {
  const entity = renderEntity(event, target.version);
  const createdAt = formatRome(event.event_created_at);
  switch (target.format) {
    case 'opencity':
      return {
        contentType: 'application/json',
        body: JSON.stringify({
          ...entity,
          event_id: event.event_id,
          event_created_at: createdAt,
          // The body's shape is the webhook's representation version, so that is the version a
          // receiver must check (the platform pairs a version-2 body with event_version 2).
          event_version: event.data.application ? target.version : event.event_version,
          app_version: appVersion(event.app_id),
        }),
      };
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
      return {
        contentType: 'application/cloudevents+json',
        body: JSON.stringify({
          specversion: '1.0',
          id: event.event_id,
          source: `urn:messo:tenant:${event.tenant_id}`,
          type: event.type,
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
