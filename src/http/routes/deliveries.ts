/**
 * Deliveries and what can be done with them: list, inspect with every attempt, resend one,
 * recover a webhook's failures in a time window, test a webhook at once, and its health.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { formatRome } from '../../domain/dates.js';
import { EVENT_TYPES, MESSO_APP_ID } from '../../domain/events.js';
import { prefixedId, uuid } from '../../domain/ids.js';
import { renderPayload } from '../../domain/payload.js';
import { sampleApplication } from '../../domain/sample.js';
import { buildRequest } from '../../delivery/attempt.js';
import { DELIVERY_STATUSES, type Attempt, type Delivery } from '../../store/types.js';
import { tenantOf } from '../auth.js';
import { ApiError, invalid, notFound } from '../errors.js';
import { IdParams, iso, PageQuery, timeParam } from '../schemas.js';

export function deliveryOut(d: Delivery) {
  return {
    id: d.id, webhook_id: d.webhook_id, event_id: d.event_id, event_type: d.event_type, application_id: d.subject,
    status: d.status, attempts: d.attempts, next_attempt_at: iso(d.next_attempt_at), last_status_code: d.last_status_code,
    last_error: d.last_error, created_at: iso(d.created_at), updated_at: iso(d.updated_at), completed_at: iso(d.completed_at),
  };
}

function attemptOut(a: Attempt) {
  return {
    attempt: a.attempt, started_at: iso(a.started_at), duration_ms: a.duration_ms, url: a.url, outcome: a.outcome,
    status_code: a.status_code, response_headers: a.response_headers, response_body: a.response_body,
    response_truncated: a.response_truncated, error_class: a.error_class, error_message: a.error_message,
    next_attempt_at: iso(a.next_attempt_at),
  };
}

const ListQuery = Type.Object({
  ...PageQuery,
  webhook_id: Type.Optional(Type.String({ maxLength: 100 })),
  event_id: Type.Optional(Type.String({ maxLength: 100 })),
  application_id: Type.Optional(Type.String({ maxLength: 200 })),
  status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
});

const RecoverBody = Type.Object({
  since: Type.String({ format: 'date-time' }),
  until: Type.Optional(Type.String({ format: 'date-time' })),
}, { additionalProperties: false });

const TestBody = Type.Object({
  application_id: Type.Optional(Type.String({ maxLength: 200, description: 'send this pratica; a sample one when absent' })),
}, { additionalProperties: false });

export const deliveryRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.ctx;
  const tags = ['deliveries'];

  async function webhookOf(request: FastifyRequest, id: string) {
    const tenantId = await tenantOf(request);
    const w = await store.getWebhook(tenantId, id);
    if (!w) throw notFound('webhook');
    return { tenantId, webhook: w };
  }

  app.get<{ Querystring: Static<typeof ListQuery> }>('/deliveries', {
    schema: { tags, summary: 'List deliveries, newest first', querystring: ListQuery },
  }, async (request) => {
    const q = request.query;
    const page = await store.listDeliveries(await tenantOf(request), {
      webhook_id: q.webhook_id, event_id: q.event_id, subject: q.application_id, status: q.status,
      since: timeParam('since', q.since), until: timeParam('until', q.until),
    }, { limit: q.limit ?? 50, cursor: q.cursor });
    return { items: page.items.map(deliveryOut), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/deliveries/:id', {
    schema: { tags, summary: 'A delivery with its frozen body and every attempt', params: IdParams },
  }, async (request) => {
    const d = await store.getDelivery(await tenantOf(request), request.params.id);
    if (!d) throw notFound('delivery');
    let payload: unknown = null;
    try {
      payload = JSON.parse(d.body);
    } catch {
      /* not JSON: body alone */
    }
    return { ...deliveryOut(d), content_type: d.content_type, body: d.body, payload, attempt_log: (await store.listAttempts(d.id)).map(attemptOut) };
  });

  app.post<{ Params: { id: string } }>('/deliveries/:id/resend', {
    schema: { tags, summary: 'Send a finished delivery again, with a fresh retry schedule (same webhook-id)', params: IdParams },
  }, async (request, reply) => {
    const tenantId = await tenantOf(request);
    const d = await store.resendDelivery(tenantId, request.params.id, Date.now());
    if (!d) {
      if (!(await store.getDelivery(tenantId, request.params.id))) throw notFound('delivery');
      throw new ApiError('conflict', 'the delivery is still pending or being sent');
    }
    app.ctx.onEventsAppended?.();
    return reply.status(202).send(deliveryOut(d));
  });

  app.post<{ Params: { id: string }; Body: Static<typeof RecoverBody> }>('/webhooks/:id/recover', {
    schema: { tags, summary: 'Resend every failed delivery of this webhook created in [since, until)', params: IdParams, body: RecoverBody },
  }, async (request, reply) => {
    const { tenantId, webhook } = await webhookOf(request, request.params.id);
    const since = Date.parse(request.body.since);
    const until = request.body.until ? Date.parse(request.body.until) : Date.now() + 1;
    if (until <= since) throw invalid('until', 'must be after since');
    const recovered = await store.recoverDeliveries(tenantId, webhook.id, since, until, Date.now());
    if (recovered > 0) app.ctx.onEventsAppended?.();
    return reply.status(202).send({ recovered });
  });

  app.post<{ Params: { id: string }; Body: Static<typeof TestBody> }>('/webhooks/:id/test', {
    schema: { tags, summary: "Send a pratica (or a sample) to the webhook now and return the receiver's answer", params: IdParams, body: TestBody },
  }, async (request) => {
    const { tenantId, webhook } = await webhookOf(request, request.params.id);
    const client = app.ctx.client;
    if (!client) throw new ApiError('unavailable', 'this process has no outbound client');
    const now = Date.now();
    let doc;
    if (request.body.application_id) {
      const row = await store.getApplication(tenantId, request.body.application_id);
      if (!row) throw invalid('application_id', 'no such application for this tenant');
      doc = row.doc;
    } else {
      doc = sampleApplication(tenantId, now);
    }
    const event = {
      event_id: uuid(), type: EVENT_TYPES.applicationStatusChanged, tenant_id: tenantId, subject: doc.id, event_version: 1,
      event_created_at: now, app_id: MESSO_APP_ID, data: { application: doc, from: doc.status, to: doc.status, message: null },
    };
    const payload = renderPayload(event, { format: webhook.format, version: webhook.version }, { eventId: event.event_id });
    const req = buildRequest(prefixedId('msg_test'), webhook, payload.body, payload.contentType, now);
    const result = await client.send(req);
    return {
      request: { url: req.url, method: req.method, headers: req.headers, body: req.body },
      sent_at: formatRome(now),
      duration_ms: result.durationMs,
      ...(result.kind === 'response'
        ? { ok: result.ok, status_code: result.statusCode, response_headers: result.headers, response_body: result.body, response_truncated: result.truncated }
        : { ok: false, error_class: result.errorClass, error_message: result.message }),
    };
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id/health', {
    schema: { tags, summary: 'Success rate and latency over the last 24 h, last error, disabled reason', params: IdParams },
  }, async (request) => {
    const { tenantId, webhook } = await webhookOf(request, request.params.id);
    const since = Date.now() - 24 * 3600 * 1000;
    const s = await store.webhookStats(webhook.id, since);
    const series = await store.attemptsPerMinute(tenantId, since, webhook.id);
    return {
      webhook_id: webhook.id, active: webhook.active, disabled_reason: webhook.disabled_reason, disabled_at: iso(webhook.disabled_at),
      failing_since: iso(webhook.failing_since),
      last_24h: { attempts: s.attempts, successes: s.successes, failures: s.failures, success_rate: s.attempts ? s.successes / s.attempts : null,
        latency_ms: { p50: s.p50_ms, p95: s.p95_ms, p99: s.p99_ms } },
      last_error: s.last_error ? { at: iso(s.last_error.at), error: s.last_error.error } : null,
      per_minute: series.map((b) => ({ minute: iso(b.minute), success: b.success, failure: b.failure })),
    };
  });

  app.get<{ Querystring: { since?: string; webhook_id?: string } }>('/stats/attempts', {
    schema: {
      tags, summary: 'Attempts per minute by outcome (default: last hour)',
      querystring: Type.Object({ since: Type.Optional(Type.String()), webhook_id: Type.Optional(Type.String({ maxLength: 100 })) }),
    },
  }, async (request) => {
    const since = timeParam('since', request.query.since) ?? Date.now() - 3600 * 1000;
    const series = await store.attemptsPerMinute(await tenantOf(request), since, request.query.webhook_id);
    return { items: series.map((b) => ({ minute: iso(b.minute), success: b.success, failure: b.failure })) };
  });
};
