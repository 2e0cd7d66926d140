/**
 * Deliveries and what can be done with them: list, inspect with every attempt, resend one,
 * recover a webhook's failures in a time window, test a webhook at once, and its health.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DELIVERY_STATUSES, type Attempt, type Delivery, type DeliveryFilter } from '../../store/index.js';
import { scheduleWebhookTest, testWebhook } from '../../usecases/webhook-test.js';
import { tenantOf } from '../../http-common/auth.js';
import { ApiError, invalid, notFound } from '../../http-common/errors.js';
import { ref } from '../../http-common/components.js';
import { ok } from '../../http-common/openapi.js';
import { IdParams, iso, PageQuery, timeParam } from '../../http-common/schemas.js';

export function deliveryOut(d: Delivery) {
  return {
    id: d.id, webhook_id: d.webhook_id, event_id: d.event_id, event_type: d.event_type, application_id: d.subject,
    status: d.status, attempts: d.attempts, next_attempt_at: iso(d.next_attempt_at), last_status_code: d.last_status_code,
    last_error: d.last_error, created_at: iso(d.created_at), updated_at: iso(d.updated_at), completed_at: iso(d.completed_at),
    // Numbering goes on across resends: the next attempt is attempt_offset + attempts + 1.
    attempt_offset: d.attempt_offset, manual_attempts: d.manual_attempts,
    ...(d.application !== undefined ? { application: d.application } : {}),
  };
}

function attemptOut(a: Attempt, manual: number[]) {
  return {
    attempt: a.attempt, manual: manual.includes(a.attempt), started_at: iso(a.started_at), duration_ms: a.duration_ms, url: a.url, outcome: a.outcome,
    status_code: a.status_code, response_headers: a.response_headers, response_body: a.response_body,
    response_truncated: a.response_truncated, error_class: a.error_class, error_message: a.error_message,
    next_attempt_at: iso(a.next_attempt_at),
  };
}

const filterFields = {
  q: Type.Optional(Type.String({ maxLength: 200, description: "a delivery id or its start (msg_…), or words of its pratica: applicant, codice fiscale, subject, protocol number, short id" })),
  webhook_id: Type.Optional(Type.String({ maxLength: 100 })),
  event_id: Type.Optional(Type.String({ maxLength: 100 })),
  application_id: Type.Optional(Type.String({ maxLength: 200 })),
  status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
};

const ListQuery = Type.Object({
  ...PageQuery,
  ...filterFields,
  order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')], { description: 'desc (default): newest first' })),
});

const FilterQuery = Type.Object(filterFields, { additionalProperties: false });

const BulkBody = Type.Object({
  action: Type.Union([Type.Literal('retry_now'), Type.Literal('resend')], { description: 'retry_now: pending ones now; resend: finished ones again' }),
  ids: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 500 })),
  filter: Type.Optional(FilterQuery),
  dry_run: Type.Optional(Type.Boolean({ description: 'only count what the action would change' })),
}, { additionalProperties: false });

const RecoverBody = Type.Object({
  since: Type.String({ format: 'date-time' }),
  until: Type.Optional(Type.String({ format: 'date-time' })),
}, { additionalProperties: false });

const TestBody = Type.Object({
  application_id: Type.Optional(Type.String({ maxLength: 200, description: 'send this pratica; a sample one when absent' })),
  schedule: Type.Optional(Type.Boolean({ description: 'true: a real delivery (event webhook.test) that the dispatcher sends and retries on the schedule; answers 202 with its id' })),
}, { additionalProperties: false });

function filterOf(q: Static<typeof FilterQuery>): DeliveryFilter {
  return {
    q: q.q, webhook_id: q.webhook_id, event_id: q.event_id, subject: q.application_id, status: q.status,
    since: timeParam('since', q.since), until: timeParam('until', q.until),
  };
}

export const deliveryRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.runtime;
  const tags = ['deliveries'];

  async function webhookOf(request: FastifyRequest, id: string) {
    const tenantId = await tenantOf(request);
    const w = await store.getWebhook(tenantId, id);
    if (!w) throw notFound('webhook');
    return { tenantId, webhook: w };
  }

  app.get<{ Querystring: Static<typeof ListQuery> }>('/deliveries', {
    schema: { tags, operationId: 'listDeliveries', summary: 'List deliveries, newest first', querystring: ListQuery, response: ok(200, ref('DeliveryPage')) },
  }, async (request) => {
    const q = request.query;
    const page = await store.listDeliveries(await tenantOf(request), { ...filterOf(q), order: q.order }, { limit: q.limit ?? 50, cursor: q.cursor });
    return { items: page.items.map(deliveryOut), next_cursor: page.next_cursor };
  });

  /** One delivery, one action: 404 when it is not the tenant's, 409 when its state does not allow it. */
  const single = (path: string, operationId: string, summary: string, conflict: string, act: (tenantId: string, id: string, now: number) => Promise<Delivery | null>) =>
    app.post<{ Params: { id: string } }>(path, {
      schema: { tags, operationId, summary, params: IdParams, response: ok(202, ref('Delivery'), 'Accepted: scheduled') },
    }, async (request, reply) => {
      const tenantId = await tenantOf(request);
      const d = await act(tenantId, request.params.id, Date.now());
      if (!d) {
        if (!(await store.getDelivery(tenantId, request.params.id))) throw notFound('delivery');
        throw new ApiError('conflict', conflict);
      }
      app.runtime.work.notify();
      return reply.status(202).send(deliveryOut(d));
    });

  single('/deliveries/:id/retry-now', 'retryDeliveryNow', 'Send a pending (retrying) delivery now instead of at its next scheduled attempt',
    'only a pending delivery can be retried now; a finished one can be resent', (t, id, now) => store.retryDeliveryNow(t, id, now));
  single('/deliveries/:id/resend', 'resendDelivery', 'Send a finished delivery again, with a fresh retry schedule (same webhook-id); numbering goes on',
    'the delivery is still pending or being sent', (t, id, now) => store.resendDelivery(t, id, now));

  app.post<{ Body: Static<typeof BulkBody> }>('/deliveries/bulk', {
    schema: {
      tags, operationId: 'bulkDeliveries', summary: 'retry_now or resend many deliveries, chosen by ids or by a list filter; dry_run counts them',
      body: BulkBody, response: { ...ok(200, ref('BulkResult'), 'dry_run: the count only'), ...ok(202, ref('BulkResult'), 'Accepted: scheduled') },
    },
  }, async (request, reply) => {
    const { action, ids, filter, dry_run: dryRun = false } = request.body;
    if (!ids && !filter) throw invalid('ids', 'give ids or a filter');
    const n = await store.bulkDeliveries(await tenantOf(request), action, { ids, filter: filter ? filterOf(filter) : undefined }, Date.now(), dryRun);
    if (!dryRun && n > 0) app.runtime.work.notify();
    return reply.status(dryRun ? 200 : 202).send({ action, dry_run: dryRun, count: n });
  });

  app.get<{ Params: { id: string } }>('/deliveries/:id', {
    schema: { tags, operationId: 'getDelivery', summary: 'A delivery with its frozen body and every attempt', params: IdParams, response: ok(200, ref('DeliveryDetail')) },
  }, async (request) => {
    const d = await store.getDelivery(await tenantOf(request), request.params.id);
    if (!d) throw notFound('delivery');
    let payload: unknown = null;
    try {
      payload = JSON.parse(d.body);
    } catch {
      /* not JSON: body alone */
    }
    return { ...deliveryOut(d), content_type: d.content_type, body: d.body, payload, attempt_log: (await store.listAttempts(d.id)).map((a) => attemptOut(a, d.manual_attempts)) };
  });

  app.post<{ Params: { id: string }; Body: Static<typeof RecoverBody> }>('/webhooks/:id/recover', {
    schema: {
      tags, operationId: 'recoverWebhook', summary: 'Resend every failed delivery of this webhook created in [since, until)',
      params: IdParams, body: RecoverBody, response: ok(202, ref('Recovered'), 'Accepted: scheduled again'),
    },
  }, async (request, reply) => {
    const { tenantId, webhook } = await webhookOf(request, request.params.id);
    const since = Date.parse(request.body.since);
    const until = request.body.until ? Date.parse(request.body.until) : Date.now() + 1;
    if (until <= since) throw invalid('until', 'must be after since');
    const recovered = await store.recoverDeliveries(tenantId, webhook.id, since, until, Date.now());
    if (recovered > 0) app.runtime.work.notify();
    return reply.status(202).send({ recovered });
  });

  app.post<{ Params: { id: string }; Body: Static<typeof TestBody> }>('/webhooks/:id/test', {
    schema: {
      tags, operationId: 'testWebhook',
      summary: "Send a pratica (or a sample) to the webhook now and return the receiver's answer; with schedule, a delivery that follows the retry schedule",
      params: IdParams, body: TestBody,
      response: { ...ok(200, ref('WebhookTestResult')), ...ok(202, ref('ScheduledTest'), 'Accepted: a delivery that follows the retry schedule') },
    },
  }, async (request, reply) => {
    const { tenantId, webhook } = await webhookOf(request, request.params.id);
    if (request.body.schedule) return reply.status(202).send(await scheduleWebhookTest(app.runtime, tenantId, webhook, request.body.application_id));
    return testWebhook(app.runtime, tenantId, webhook, request.body.application_id);
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id/health', {
    schema: {
      tags, operationId: 'getWebhookHealth', summary: 'Success rate and latency over the last 24 h, last error, disabled reason',
      params: IdParams, response: ok(200, ref('WebhookHealth')),
    },
  }, async (request) => {
    const { tenantId, webhook } = await webhookOf(request, request.params.id);
    const since = Date.now() - 24 * 3600 * 1000;
    const s = await store.webhookStats(webhook.id, since);
    const series = await store.attemptsPerMinute(tenantId, since, webhook.id);
    const done = await store.deliveriesPerMinute(tenantId, since, webhook.id);
    const succeeded = done.reduce((n, b) => n + b.success, 0);
    const failed = done.reduce((n, b) => n + b.failure, 0);
    return {
      webhook_id: webhook.id, active: webhook.active, disabled_reason: webhook.disabled_reason, disabled_at: iso(webhook.disabled_at),
      failing_since: iso(webhook.failing_since),
      last_24h: {
        // Deliveries count once each, when finished; attempts are the separate series.
        deliveries: { succeeded, failed, success_rate: succeeded + failed ? succeeded / (succeeded + failed) : null },
        attempts: s.attempts, successes: s.successes, failures: s.failures, success_rate: s.attempts ? s.successes / s.attempts : null,
        latency_ms: { p50: s.p50_ms, p95: s.p95_ms, p99: s.p99_ms } },
      last_error: s.last_error ? { at: iso(s.last_error.at), error: s.last_error.error } : null,
      per_minute: series.map((b) => ({ minute: iso(b.minute), success: b.success, failure: b.failure })),
    };
  });

  app.get<{ Querystring: { since?: string; webhook_id?: string } }>('/stats/deliveries', {
    schema: {
      tags, operationId: 'getDeliveryStats', response: ok(200, ref('MinuteBucketList')),
      summary: 'Deliveries finished per minute: succeeded, and failed for good (default: last hour); retries are in /stats/attempts',
      querystring: Type.Object({ since: Type.Optional(Type.String()), webhook_id: Type.Optional(Type.String({ maxLength: 100 })) }),
    },
  }, async (request) => {
    const since = timeParam('since', request.query.since) ?? Date.now() - 3600 * 1000;
    const series = await store.deliveriesPerMinute(await tenantOf(request), since, request.query.webhook_id);
    return { items: series.map((b) => ({ minute: iso(b.minute), success: b.success, failure: b.failure })) };
  });

  app.get<{ Querystring: { since?: string; webhook_id?: string } }>('/stats/attempts', {
    schema: {
      tags, operationId: 'getAttemptStats', summary: 'Attempts per minute by outcome (default: last hour)', response: ok(200, ref('MinuteBucketList')),
      querystring: Type.Object({ since: Type.Optional(Type.String()), webhook_id: Type.Optional(Type.String({ maxLength: 100 })) }),
    },
  }, async (request) => {
    const since = timeParam('since', request.query.since) ?? Date.now() - 3600 * 1000;
    const series = await store.attemptsPerMinute(await tenantOf(request), since, request.query.webhook_id);
    return { items: series.map((b) => ({ minute: iso(b.minute), success: b.success, failure: b.failure })) };
  });
};
