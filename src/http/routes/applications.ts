/**
 * Applications (pratiche): created, moved through the transition table, and talked about in
 * messages. Every change is an event whose data holds the application as it became; the
 * `applications` table is only the projection of those events.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { renderApplication, type ApplicationDoc } from '../../domain/application.js';
import { renderMessage } from '../../domain/message.js';
import { formatRome } from '../../domain/dates.js';
import { EVENT_TYPES, type EventRecord } from '../../domain/events.js';
import { allowedTargets, CREATABLE_STATUSES, statusName } from '../../domain/statuses.js';
import type { ApplicationRow } from '../../store/index.js';
import { addMessage, changeStatus, createPratica, IllegalTransitionError, loadApplication as load } from '../../usecases/applications.js';
import { tenantOf } from '../../http-common/auth.js';
import { ApiError } from '../../http-common/errors.js';
import { ref } from '../../http-common/components.js';
import { ok } from '../../http-common/openapi.js';
import { AnyObject, IdParams, PageQuery, requestedVersion, timeParam, VersionQuery } from '../../http-common/schemas.js';

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
  subject: Type.Optional(NullableString(1000)),
  author: Type.Optional(NullableString(300)),
  email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 320 }), Type.Null()])),
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
  q: Type.Optional(Type.String({ maxLength: 200, description: 'words that each start a word of the applicant, codice fiscale, subject, protocol number or id' })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'asc (default): oldest change first, for syncing; desc: newest first' })),
});

async function loadApplication(request: FastifyRequest, id: string): Promise<{ tenantId: string; row: ApplicationRow }> {
  const tenantId = await tenantOf(request);
  return { tenantId, row: await load(request.server.runtime.store, tenantId, id) };
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
  const { store } = app.runtime;
  const tags = ['applications'];

  app.post<{ Body: Static<typeof ApplicationBody> }>('/applications', {
    schema: {
      tags, operationId: 'createApplication', summary: 'Create an application as draft (1000) or submitted (1900/2000)',
      body: ApplicationBody, querystring: Type.Object(VersionQuery), response: ok(201, ref('Application'), 'Created'),
    },
  }, async (request, reply) => {
    const version = requestedVersion(request);
    const { id, service_id, status = 1000, ...fields } = request.body;
    const doc = await createPratica(app.runtime, await tenantOf(request), { id, service_id, status, fields });
    return reply.status(201).send(renderApplication(doc, version));
  });

  app.get<{ Querystring: Static<typeof ListQuery> }>('/applications', {
    schema: {
      tags, operationId: 'listApplications', summary: 'List applications (oldest change first, or order=desc; filter by status, service, updated_since, q)',
      querystring: ListQuery, response: ok(200, ref('ApplicationPage')),
    },
  }, async (request) => {
    const tenantId = await tenantOf(request);
    const version = requestedVersion(request);
    const q = request.query;
    const page = await store.listApplications(tenantId, {
      status: q.status, service_id: q.service_id, updated_since: timeParam('updated_since', q.updated_since), q: q.q, order: q.order,
    }, { limit: q.limit ?? 50, cursor: q.cursor });
    return { items: page.items.map((a) => renderApplication(a.doc, version)), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/applications/:id', {
    schema: { tags, operationId: 'getApplication', summary: 'Get an application', params: IdParams, querystring: Type.Object(VersionQuery), response: ok(200, ref('Application')) },
  }, async (request) => {
    const { row } = await loadApplication(request, request.params.id);
    return renderApplication(row.doc, requestedVersion(request));
  });

  app.get<{ Params: { id: string } }>('/applications/:id/transitions', {
    schema: { tags, operationId: 'getApplicationTransitions', summary: 'Statuses the application may move to now', params: IdParams, response: ok(200, ref('Transitions')) },
  }, async (request) => {
    const { row } = await loadApplication(request, request.params.id);
    return { status: row.status, status_name: statusName(row.status), allowed: allowedTargets(row.status).map((s) => ({ status: s, status_name: statusName(s) })) };
  });

  app.post<{ Params: { id: string }; Body: Static<typeof TransitionBody> }>('/applications/:id/transitions', {
    schema: {
      tags, operationId: 'changeApplicationStatus', summary: 'Change the status (checked against the transition table)',
      params: IdParams, body: TransitionBody, querystring: Type.Object(VersionQuery), response: ok(200, ref('Application')),
    },
  }, async (request) => {
    const version = requestedVersion(request);
    const { status: to, ...change } = request.body;
    try {
      return renderApplication(await changeStatus(app.runtime, await tenantOf(request), request.params.id, { ...change, to }), version);
    } catch (err) {
      if (!(err instanceof IllegalTransitionError)) throw err;
      throw new ApiError('illegal_transition', err.message, { field: 'status', from: err.from, allowed: err.allowed });
    }
  });

  app.get<{ Params: { id: string } }>('/applications/:id/history', {
    schema: { tags, operationId: 'getApplicationHistory', summary: 'Status changes of the application, oldest first', params: IdParams, response: ok(200, ref('HistoryItemList')) },
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
    schema: { tags, operationId: 'createApplicationMessage', summary: 'Add a message to the application (message.created)', params: IdParams, body: MessageBody, response: ok(201, ref('Message'), 'Created') },
  }, async (request, reply) => {
    return reply.status(201).send(await addMessage(app.runtime, await tenantOf(request), request.params.id, request.body));
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string } }>('/applications/:id/messages', {
    schema: { tags, operationId: 'listApplicationMessages', summary: 'Messages of the application, oldest first', params: IdParams, querystring: Type.Object(PageQuery), response: ok(200, ref('MessagePage')) },
  }, async (request) => {
    const { tenantId, row } = await loadApplication(request, request.params.id);
    // It answers next_cursor, so it must take one back: without it nothing past the first page could be read.
    const { limit = 50, cursor } = request.query;
    const page = await store.listEvents(tenantId, { subject: row.id, type: EVENT_TYPES.messageCreated }, { limit, cursor });
    return { items: page.items.map((e) => renderMessage(e.data.message as Record<string, unknown>)), next_cursor: page.next_cursor };
  });
};
