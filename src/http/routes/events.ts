/**
 * The event log: read a tenant's events, and ingest events from an external core that keeps
 * its own pratiche (the rules are in usecases/ingest.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { formatRome } from '../../domain/dates.js';
import { EVENT_TYPE_PATTERN, type EventRecord } from '../../domain/events.js';
import { ingestEvents } from '../../usecases/ingest.js';
import { liveKeyOf, tenantOf } from '../../http-common/auth.js';
import { ApiError, notFound } from '../../http-common/errors.js';
import { ref } from '../../http-common/components.js';
import { ok } from '../../http-common/openapi.js';
import { IdParams, PageQuery, timeParam } from '../../http-common/schemas.js';

export const IngestEvent = Type.Object({
  event_id: Type.String({ format: 'uuid' }),
  type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 100, description: '`application.snapshot` lets messo derive created / status_changed / updated' }),
  subject: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  event_version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
  event_created_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Integer({ minimum: 0 })])),
  app_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  data: Type.Object({}, { additionalProperties: true }),
}, { additionalProperties: false });
type IngestEvent = Static<typeof IngestEvent>;

const BatchBody = Type.Object({ events: Type.Array(IngestEvent, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });

/**
 * What `POST /api/events` answers by default: enough to know the event was taken and what
 * it became (an application.snapshot's derived type), 60-odd bytes instead of the whole event
 * (echoing it was 87 % of the socket writes under single-POST load, issue 13). `Prefer:
 * return=representation` (RFC 7240) asks for the whole event, as GET /api/events/{id} gives it.
 */
const wantsRepresentation = (request: FastifyRequest) => /\breturn=representation\b/.test(String(request.headers.prefer ?? ''));

export const eventOut = (e: EventRecord) => ({
  seq: e.seq, event_id: e.event_id, type: e.type, tenant_id: e.tenant_id, subject: e.subject, event_version: e.event_version,
  event_created_at: formatRome(e.event_created_at), app_id: e.app_id, data: e.data, recorded_at: new Date(e.recorded_at).toISOString(),
});

export const eventRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.runtime;
  const tags = ['events'];

  app.get<{ Querystring: { limit: number; cursor?: string; type?: string; subject?: string; since?: string } }>('/events', {
    schema: {
      tags, operationId: 'listEvents', summary: "List the tenant's events, oldest first",
      querystring: Type.Object({
        ...PageQuery,
        type: Type.Optional(Type.String({ maxLength: 100, description: 'exact type, or a prefix such as application.*' })),
        subject: Type.Optional(Type.String({ maxLength: 200 })),
        since: Type.Optional(Type.String({ description: 'ISO 8601 date-time or Unix seconds' })),
      }),
      response: ok(200, ref('EventPage')),
    },
  }, async (request) => {
    const q = request.query;
    const page = await store.listEvents(await tenantOf(request), {
      type: q.type, subject: q.subject, since: timeParam('since', q.since),
    }, { limit: q.limit ?? 50, cursor: q.cursor });
    return { items: page.items.map(eventOut), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/events/:id', {
    schema: { tags, operationId: 'getEvent', summary: 'Get one event by event_id', params: IdParams, response: ok(200, ref('Event')) },
  }, async (request) => {
    const e = await store.getEvent(await tenantOf(request), request.params.id);
    if (!e) throw notFound('event');
    return eventOut(e);
  });

  const ingest = async (request: FastifyRequest, inputs: IngestEvent[], fieldOf: (i: number) => string) => {
    const results = await ingestEvents(app.runtime, await tenantOf(request), inputs, fieldOf, liveKeyOf(request));
    const created = results.filter((r) => r.created).length;
    if (created > 0) app.runtime.metrics.recordIngest('api', 'created', created);
    if (created < results.length) app.runtime.metrics.recordIngest('api', 'duplicate', results.length - created);
    return results;
  };

  app.post<{ Body: IngestEvent }>('/events', {
    // A core's one event per request: its key is checked in the event's own transaction (auth.ts).
    config: { keyCheckedAtWrite: true },
    schema: {
      tags, operationId: 'ingestEvent', summary: 'Ingest one event (idempotent on event_id)', body: IngestEvent,
      description: 'Answers `{event_id, seq, type}` (201 new, 200 a repeat, with the original\'s). With `Prefer: return=representation`, the whole event.',
      headers: Type.Object({ prefer: Type.Optional(Type.String({ description: '`return=representation` for the whole event' })) }),
      response: {
        ...ok(200, ref('EventIngested'), 'Already there: nothing written'),
        ...ok(201, ref('EventIngested'), 'Created'),
      },
    },
  }, async (request, reply) => {
    const [r] = await ingest(request, [request.body], () => '');
    reply.status(r.created ? 201 : 200);
    // Serialised here, not by the response schema: the union would be tried member by member.
    if (wantsRepresentation(request)) {
      return reply.header('preference-applied', 'return=representation').type('application/json').serializer(JSON.stringify).send(eventOut(r.event));
    }
    return reply.type('application/json').serializer(JSON.stringify).send({ event_id: r.event.event_id, seq: r.event.seq, type: r.event.type });
  });

  app.post<{ Body: Static<typeof BatchBody> }>('/events/batch', {
    schema: {
      tags, operationId: 'ingestEventBatch', summary: 'Ingest up to 1,000 events in one transaction (idempotent on event_id)', body: BatchBody,
      response: ok(200, ref('EventBatchResult')),
    },
  }, async (request) => {
    if (request.body.events.length === 0) throw new ApiError('validation', 'events must not be empty', { field: 'events' });
    const results = await ingest(request, request.body.events, (i) => `events.${i}.`);
    return {
      created: results.filter((r) => r.created).length,
      duplicates: results.filter((r) => !r.created).length,
      results: results.map((r) => ({ event_id: r.event.event_id, type: r.event.type, seq: r.event.seq, created: r.created })),
    };
  });
};
