/**
 * The event log: read a tenant's events, and ingest events from an external core that keeps
 * its own pratiche (the rules are in usecases/ingest.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { formatRome } from '../../domain/dates.js';
import { EVENT_TYPE_PATTERN, type EventRecord } from '../../domain/events.js';
import { ingestEvents } from '../../usecases/ingest.js';
import { tenantOf } from '../../http-common/auth.js';
import { ApiError, notFound } from '../../http-common/errors.js';
import { AnyObject, pageOf, PageQuery, timeParam } from '../../http-common/schemas.js';

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

const EventOut = Type.Object({
  seq: Type.Integer(), event_id: Type.String(), type: Type.String(), tenant_id: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]), event_version: Type.Integer(), event_created_at: Type.String(),
  app_id: Type.String(), data: AnyObject, recorded_at: Type.String(),
});

export const eventOut = (e: EventRecord) => ({
  ...e, event_created_at: formatRome(e.event_created_at), recorded_at: new Date(e.recorded_at).toISOString(),
});

export const eventRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.runtime;
  const tags = ['events'];

  app.get<{ Querystring: { limit: number; cursor?: string; type?: string; subject?: string; since?: string } }>('/events', {
    schema: {
      tags, summary: "List the tenant's events, oldest first",
      querystring: Type.Object({
        ...PageQuery,
        type: Type.Optional(Type.String({ maxLength: 100, description: 'exact type, or a prefix such as application.*' })),
        subject: Type.Optional(Type.String({ maxLength: 200 })),
        since: Type.Optional(Type.String({ description: 'ISO 8601 date-time or Unix seconds' })),
      }),
      response: { 200: pageOf(EventOut) },
    },
  }, async (request) => {
    const q = request.query;
    const page = await store.listEvents(await tenantOf(request), {
      type: q.type, subject: q.subject, since: timeParam('since', q.since),
    }, { limit: q.limit ?? 50, cursor: q.cursor });
    return { items: page.items.map(eventOut), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/events/:id', {
    schema: { tags, summary: 'Get one event by event_id', params: Type.Object({ id: Type.String() }), response: { 200: EventOut } },
  }, async (request) => {
    const e = await store.getEvent(await tenantOf(request), request.params.id);
    if (!e) throw notFound('event');
    return eventOut(e);
  });

  const ingest = async (request: FastifyRequest, inputs: IngestEvent[], fieldOf: (i: number) => string) =>
    ingestEvents(app.runtime, await tenantOf(request), inputs, fieldOf);

  app.post<{ Body: IngestEvent }>('/events', {
    schema: { tags, summary: 'Ingest one event (idempotent on event_id)', body: IngestEvent, response: { 200: EventOut, 201: EventOut } },
  }, async (request, reply) => {
    const [r] = await ingest(request, [request.body], () => '');
    return reply.status(r.created ? 201 : 200).send(eventOut(r.event));
  });

  app.post<{ Body: Static<typeof BatchBody> }>('/events/batch', {
    schema: {
      tags, summary: 'Ingest up to 1,000 events in one transaction (idempotent on event_id)', body: BatchBody,
      response: { 200: Type.Object({ created: Type.Integer(), duplicates: Type.Integer(), results: Type.Array(Type.Object({ event_id: Type.String(), type: Type.String(), seq: Type.Integer(), created: Type.Boolean() })) }) },
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
