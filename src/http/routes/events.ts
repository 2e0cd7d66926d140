/**
 * The event log: read a tenant's events, and ingest events from an external core that keeps
 * its own pratiche. Ingest is idempotent on event_id: a repeat answers with the original and
 * writes nothing. A batch is validated whole before anything is written, then written in one
 * transaction.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { normalizeApplication, TIME_PAIRS, type ApplicationDoc } from '../../domain/application.js';
import { formatRome, parseTime } from '../../domain/dates.js';
import { EVENT_TYPE_PATTERN, type EventRecord } from '../../domain/events.js';
import { isStatusCode } from '../../domain/statuses.js';
import { classifySnapshot, OUTDATED_SNAPSHOT_TYPE } from '../../domain/snapshot.js';
import type { Store } from '../../store/store.js';
import type { NewEvent } from '../../store/types.js';
import { tenantOf } from '../../http-common/auth.js';
import { ApiError, invalid, notFound } from '../../http-common/errors.js';
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

/**
 * Turns one ingested event into what the store appends. Events carrying an application
 * snapshot (`data.application`) update the projection unless an newer snapshot was applied.
 */
async function toNewEvent(store: Store, tenantId: string, input: IngestEvent, field: string, earlier: Map<string, { doc: ApplicationDoc; at: number }>): Promise<NewEvent> {
  const createdAt = input.event_created_at === undefined ? Date.now() : parseTime(input.event_created_at);
  if (createdAt === null) throw invalid(`${field}event_created_at`, 'must be an ISO 8601 date-time or Unix seconds');
  const base = {
    event_id: input.event_id, tenant_id: tenantId, event_version: input.event_version ?? 1,
    event_created_at: createdAt, app_id: input.app_id ?? 'external',
  };
  const snapshot = (input.data as Record<string, unknown>).application;
  if (snapshot === undefined || snapshot === null) {
    if (input.type === 'application.snapshot') throw invalid(`${field}data.application`, 'is required for application.snapshot');
    return { ...base, type: input.type, subject: input.subject ?? null, data: input.data };
  }
  if (typeof snapshot !== 'object' || Array.isArray(snapshot)) throw invalid(`${field}data.application`, 'must be an object');
  const raw = snapshot as Record<string, unknown>;
  if (typeof raw.id !== 'string' || raw.id === '') throw invalid(`${field}data.application.id`, 'is required');
  if (typeof raw.service_id !== 'string' || raw.service_id === '') throw invalid(`${field}data.application.service_id`, 'is required');
  if (!isStatusCode(raw.status)) throw invalid(`${field}data.application.status`, 'must be an OpenCity status code');
  // A time that cannot be rendered would be dropped to null by normalizeApplication: refuse it instead.
  for (const name of [...TIME_PAIRS.flat(), 'flow_changed_at']) {
    const v = raw[name];
    if (v !== undefined && v !== null && parseTime(v) === null) {
      throw invalid(`${field}data.application.${name}`, 'must be an ISO 8601 date-time or Unix seconds');
    }
  }
  const doc = normalizeApplication({ ...raw, tenant: tenantId });
  let type = input.type;
  let data: Record<string, unknown> = { ...input.data, application: doc };
  if (type === 'application.snapshot') {
    const prior = earlier.get(doc.id);
    const row = prior ? null : await store.getApplication(tenantId, doc.id);
    const appliedAt = prior?.at ?? row?.last_event_at ?? null;
    if (appliedAt !== null && createdAt < appliedAt) {
      // Same rule as the OpenCity ingest: a late snapshot is kept in the log, not news.
      type = OUTDATED_SNAPSHOT_TYPE;
      data = { ...input.data, application: doc };
    } else {
      ({ type, data } = classifySnapshot(prior?.doc ?? row?.doc ?? null, doc));
    }
  }
  const prior = earlier.get(doc.id);
  if (!prior || createdAt >= prior.at) earlier.set(doc.id, { doc, at: createdAt });
  return { ...base, type, subject: doc.id, data, projection: { kind: 'application', doc, mode: 'newer' } };
}

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

  async function ingest(request: FastifyRequest, inputs: IngestEvent[], fieldOf: (i: number) => string) {
    const tenantId = await tenantOf(request);
    const earlier = new Map<string, { doc: ApplicationDoc; at: number }>();
    const events: NewEvent[] = [];
    for (let i = 0; i < inputs.length; i++) events.push(await toNewEvent(store, tenantId, inputs[i], fieldOf(i), earlier));
    const ids = new Set<string>();
    for (let i = 0; i < events.length; i++) {
      if (ids.has(events[i].event_id)) throw invalid(`${fieldOf(i)}event_id`, 'appears twice in this batch');
      ids.add(events[i].event_id);
    }
    const results = await store.appendEvents(events);
    if (results.some((r) => r.created)) app.runtime.work.notify();
    return results;
  }

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
