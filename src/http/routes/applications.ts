/**
 * Applications (pratiche): created, moved through the transition table, and talked about in
 * messages. Every change is an event whose data holds the application as it became; the
 * `applications` table is only the projection of those events.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { applyTransition, createApplication, renderApplication, type ApplicationDoc } from '../../domain/application.js';
import { formatRome } from '../../domain/dates.js';
import { EVENT_TYPES, MESSO_APP_ID, type EventRecord } from '../../domain/events.js';
import { uuid } from '../../domain/ids.js';
import { allowedTargets, canTransition, CREATABLE_STATUSES, isStatusCode, statusName } from '../../domain/statuses.js';
import { ConflictError } from '../../store/store.js';
import type { ApplicationRow } from '../../store/types.js';
import { tenantOf } from '../auth.js';
import { ApiError, invalid, notFound } from '../errors.js';
import { AnyObject, IdParams, pageOf, PageQuery, requestedVersion, timeParam, VersionQuery } from '../schemas.js';

const NullableString = (max: number) => Type.Union([Type.String({ maxLength: max }), Type.Null()]);

const ApplicationBody = Type.Object({
  id: Type.Optional(Type.String({ format: 'uuid' })),
  service_id: Type.String({ minLength: 1, maxLength: 200 }),
  status: Type.Optional(Type.Integer({ enum: [...CREATABLE_STATUSES], default: 1000, description: 'draft (1000), sent (1900) or submitted (2000)' })),
  user: Type.Optional(NullableString(200)),
  user_name: Type.Optional(NullableString(300)),
  subject: Type.Optional(NullableString(1000)),
  data: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'form data, nested or with dot-separated keys' })),
  backoffice_data: Type.Optional(Type.Union([AnyObject, Type.Null()])),
  compiled_modules: Type.Optional(Type.Array(Type.Unknown())),
  attachments: Type.Optional(Type.Array(Type.Unknown())),
  payment_type: Type.Optional(NullableString(100)),
  payment_data: Type.Optional(Type.Union([AnyObject, Type.Null()])),
  authentication: Type.Optional(Type.Union([AnyObject, Type.Null()])),
  user_compilation_notes: Type.Optional(NullableString(10000)),
}, { additionalProperties: false });

const TransitionBody = Type.Object({
  status: Type.Integer({ description: 'target status code' }),
  message: Type.Optional(NullableString(10000)),
  protocol_number: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  protocol_document_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  outcome_motivation: Type.Optional(NullableString(10000)),
}, { additionalProperties: false });

const MessageBody = Type.Object({
  message: Type.String({ minLength: 1, maxLength: 20000 }),
  author: Type.Optional(NullableString(300)),
  visibility: Type.Optional(Type.Union([Type.Literal('applicant'), Type.Literal('internal')], { default: 'applicant' })),
  attachments: Type.Optional(Type.Array(Type.Unknown())),
  protocol_required: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const ListQuery = Type.Object({
  ...PageQuery,
  ...VersionQuery,
  status: Type.Optional(Type.Integer()),
  service_id: Type.Optional(Type.String({ maxLength: 200 })),
  updated_since: Type.Optional(Type.String({ description: 'ISO 8601 date-time or Unix seconds' })),
});

const ApplicationOut = Type.Object({}, { additionalProperties: true, description: 'the OpenCity application JSON at the requested version' });

async function loadApplication(request: FastifyRequest, id: string): Promise<{ tenantId: string; row: ApplicationRow }> {
  const tenantId = await tenantOf(request);
  const row = await request.server.ctx.store.getApplication(tenantId, id);
  if (!row) throw notFound('application');
  return { tenantId, row };
}

function historyItem(e: EventRecord) {
  const app = e.data.application as ApplicationDoc | undefined;
  const to = typeof e.data.to === 'number' ? e.data.to : app?.status ?? null;
  return {
    event_id: e.event_id,
    type: e.type,
    from: typeof e.data.from === 'number' ? e.data.from : null,
    to,
    status_name: to === null ? null : statusName(to),
    message: (e.data.message as string | null | undefined) ?? null,
    at: formatRome(e.event_created_at),
  };
}

export const applicationRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.ctx;
  const tags = ['applications'];

  app.post<{ Body: Static<typeof ApplicationBody> }>('/applications', {
    schema: { tags, summary: 'Create an application as draft (1000) or submitted (1900/2000)', body: ApplicationBody, querystring: Type.Object(VersionQuery), response: { 201: ApplicationOut } },
  }, async (request, reply) => {
    const tenantId = await tenantOf(request);
    const version = requestedVersion(request);
    const { id, service_id, status = 1000, ...fields } = request.body;
    const service = await store.getService(tenantId, service_id);
    if (!service) throw invalid('service_id', 'no such service for this tenant');
    const now = Date.now();
    const appId = id ?? uuid();
    const doc = createApplication({
      id: appId, tenantId, status, nowMs: now, fields, applicationUrl: `${app.ctx.config.publicUrl}/api/applications/${appId}`,
      service: { id: service.id, slug: service.slug, name: service.name, group_name: service.group_name },
    });
    await store.appendEvents([{
      event_id: uuid(), type: EVENT_TYPES.applicationCreated, tenant_id: tenantId, subject: doc.id, event_version: 1,
      event_created_at: now, app_id: MESSO_APP_ID, data: { application: doc },
      projection: { kind: 'application', doc, mode: 'strict', expectedVersion: null },
    }]);
    app.ctx.onEventsAppended?.();
    return reply.status(201).send(renderApplication(doc, version));
  });

  app.get<{ Querystring: Static<typeof ListQuery> }>('/applications', {
    schema: { tags, summary: 'List applications (oldest change first; filter by status, service, updated_since)', querystring: ListQuery, response: { 200: pageOf(ApplicationOut) } },
  }, async (request) => {
    const tenantId = await tenantOf(request);
    const version = requestedVersion(request);
    const q = request.query;
    const page = await store.listApplications(tenantId, {
      status: q.status, service_id: q.service_id, updated_since: timeParam('updated_since', q.updated_since),
    }, { limit: q.limit ?? 50, cursor: q.cursor });
    return { items: page.items.map((a) => renderApplication(a.doc, version)), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/applications/:id', {
    schema: { tags, summary: 'Get an application', params: IdParams, querystring: Type.Object(VersionQuery), response: { 200: ApplicationOut } },
  }, async (request) => {
    const { row } = await loadApplication(request, request.params.id);
    return renderApplication(row.doc, requestedVersion(request));
  });

  app.get<{ Params: { id: string } }>('/applications/:id/transitions', {
    schema: { tags, summary: 'Statuses the application may move to now', params: IdParams },
  }, async (request) => {
    const { row } = await loadApplication(request, request.params.id);
    return { status: row.status, status_name: statusName(row.status), allowed: allowedTargets(row.status).map((s) => ({ status: s, status_name: statusName(s) })) };
  });

  app.post<{ Params: { id: string }; Body: Static<typeof TransitionBody> }>('/applications/:id/transitions', {
    schema: { tags, summary: 'Change the status (checked against the transition table)', params: IdParams, body: TransitionBody, querystring: Type.Object(VersionQuery), response: { 200: ApplicationOut } },
  }, async (request) => {
    const version = requestedVersion(request);
    const { status: to, message = null, ...extra } = request.body;
    if (!isStatusCode(to)) throw invalid('status', `${to} is not an OpenCity status code`);
    // Optimistic concurrency: re-read and re-check when another change won the race.
    for (let tries = 0; ; tries++) {
      const { tenantId, row } = await loadApplication(request, request.params.id);
      if (!canTransition(row.status, to)) {
        throw new ApiError('illegal_transition', `an application in ${row.status} (${statusName(row.status)}) cannot move to ${to} (${statusName(to)})`, {
          field: 'status', from: row.status, allowed: allowedTargets(row.status),
        });
      }
      const now = Date.now();
      const doc = applyTransition(row.doc, { to, nowMs: now, ...extra, applicationUrl: `${app.ctx.config.publicUrl}/api/applications/${row.id}` });
      try {
        await store.appendEvents([{
          event_id: uuid(), type: EVENT_TYPES.applicationStatusChanged, tenant_id: tenantId, subject: row.id, event_version: 1,
          event_created_at: now, app_id: MESSO_APP_ID, data: { application: doc, from: row.status, to, message },
          projection: { kind: 'application', doc, mode: 'strict', expectedVersion: row.version },
        }]);
        app.ctx.onEventsAppended?.();
        return renderApplication(doc, version);
      } catch (err) {
        if (!(err instanceof ConflictError) || tries >= 3) throw err;
      }
    }
  });

  app.get<{ Params: { id: string } }>('/applications/:id/history', {
    schema: { tags, summary: 'Status changes of the application, oldest first', params: IdParams },
  }, async (request) => {
    const { tenantId, row } = await loadApplication(request, request.params.id);
    const items = [];
    let cursor: string | null = null;
    do {
      const page = await store.listEvents(tenantId, { subject: row.id, type: 'application.*' }, { limit: 500, cursor });
      items.push(...page.items.filter((e) => e.type !== EVENT_TYPES.applicationUpdated).map(historyItem));
      cursor = page.next_cursor;
    } while (cursor);
    return { items };
  });

  app.post<{ Params: { id: string }; Body: Static<typeof MessageBody> }>('/applications/:id/messages', {
    schema: { tags, summary: 'Add a message to the application (message.created)', params: IdParams, body: MessageBody },
  }, async (request, reply) => {
    const { tenantId, row } = await loadApplication(request, request.params.id);
    const now = Date.now();
    const b = request.body;
    const message = {
      id: uuid(), message: b.message, author: b.author ?? null, application: row.id, visibility: b.visibility ?? 'applicant',
      created_at: formatRome(now), sent_at: formatRome(now), read_at: null, clicked_at: null, attachments: b.attachments ?? [],
      protocol_required: b.protocol_required ?? false, protocolled_at: null, protocol_number: null,
    };
    await store.appendEvents([{
      event_id: uuid(), type: EVENT_TYPES.messageCreated, tenant_id: tenantId, subject: row.id, event_version: 1,
      event_created_at: now, app_id: MESSO_APP_ID, data: { message, service_id: row.service_id, application_status: row.status },
    }]);
    app.ctx.onEventsAppended?.();
    return reply.status(201).send(message);
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string } }>('/applications/:id/messages', {
    schema: { tags, summary: 'Messages of the application, oldest first', params: IdParams, querystring: Type.Object(PageQuery) },
  }, async (request) => {
    const { tenantId, row } = await loadApplication(request, request.params.id);
    // It answers next_cursor, so it must take one back: without it nothing past the first page could be read.
    const { limit = 50, cursor } = request.query;
    const page = await store.listEvents(tenantId, { subject: row.id, type: EVENT_TYPES.messageCreated }, { limit, cursor });
    return { items: page.items.map((e) => e.data.message), next_cursor: page.next_cursor };
  });
};
