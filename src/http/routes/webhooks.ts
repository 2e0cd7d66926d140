/**
 * Webhook subscriptions: the OpenCity fields (title, endpoint, method, trigger, filters,
 * headers, version, active) plus messo's own (events, format, ordering, limits, secret).
 * The secret is shown at creation and on rotation only.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { FORMATS } from '../../domain/payload.js';
import { generateSecret } from '../../domain/signing.js';
import { ORDERINGS, type Webhook, type WebhookHealth } from '../../store/index.js';
import { createWebhook, unknownServices, updateWebhook, versionString } from '../../usecases/webhooks.js';
import { tenantOf } from '../../http-common/auth.js';
import { notFound } from '../../http-common/errors.js';
import { ref } from '../../http-common/components.js';
import { noContent, ok } from '../../http-common/openapi.js';
import { IdParams, iso, PageQuery } from '../../http-common/schemas.js';

const fields = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
  endpoint: Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL of the receiver' }),
  method: Type.Union([Type.Literal('POST'), Type.Literal('PUT')]),
  trigger: Type.Union([Type.String({ maxLength: 30 }), Type.Integer(), Type.Null()], { description: '`all`, a status code such as 2000, or `message_created`' }),
  events: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50, description: 'event types (wildcards like application.*); used instead of trigger when not empty' }),
  filters: Type.Union([Type.Literal('all'), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 })], { description: 'service ids, or all' }),
  headers: Type.Record(Type.String(), Type.String({ maxLength: 4000 }), { description: 'merged over Content-Type: application/json' }),
  version: Type.Union([Type.Literal('1.0'), Type.Literal('2.0'), Type.Literal('1'), Type.Literal('2'), Type.Literal(1), Type.Literal(2)], {
    description: 'application representation: "1.0" (flat form data) or "2.0" (nested), as the core stores it; 1 and 2 are read the same. Default "2.0"',
  }),
  active: Type.Boolean(),
  format: Type.Union(FORMATS.map((f) => Type.Literal(f))),
  ordering: Type.Union(ORDERINGS.map((o) => Type.Literal(o))),
  max_concurrency: Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()], { description: 'concurrent requests to this endpoint (default: server setting, 10)' }),
  rate_limit: Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 10000 }), Type.Null()], { description: 'requests per second' }),
  follow_redirects: Type.Boolean({ description: 'follow 301/302/307/308 (method and body kept), at most 5 hops, each through the address guard; default false (Standard Webhooks)' }),
};

const WebhookBody = Type.Object({
  title: fields.title,
  description: Type.Optional(fields.description),
  endpoint: fields.endpoint,
  method: Type.Optional(fields.method),
  trigger: Type.Optional(fields.trigger),
  events: Type.Optional(fields.events),
  filters: Type.Optional(fields.filters),
  headers: Type.Optional(fields.headers),
  version: Type.Optional(fields.version),
  active: Type.Optional(fields.active),
  format: Type.Optional(fields.format),
  ordering: Type.Optional(fields.ordering),
  max_concurrency: Type.Optional(fields.max_concurrency),
  rate_limit: Type.Optional(fields.rate_limit),
  follow_redirects: Type.Optional(fields.follow_redirects),
}, { additionalProperties: false });

const WebhookPatch = Type.Partial(WebhookBody, { additionalProperties: false, minProperties: 1 });

export function webhookOut(w: Webhook, unknown: string[], withSecret = false) {
  return {
    id: w.id, title: w.title, description: w.description, endpoint: w.endpoint, method: w.method, trigger: w.trigger,
    events: w.events, filters: w.filters, headers: w.headers, version: versionString(w.version), active: w.active, format: w.format,
    ordering: w.ordering, max_concurrency: w.max_concurrency, rate_limit: w.rate_limit, follow_redirects: w.follow_redirects,
    disabled_reason: w.disabled_reason, disabled_at: iso(w.disabled_at),
    previous_secret_expires_at: w.previous_secret_expires_at && w.previous_secret_expires_at > Date.now() ? iso(w.previous_secret_expires_at) : null,
    unknown_services: unknown, created_at: iso(w.created_at)!, updated_at: iso(w.updated_at)!, ...(withSecret ? { secret: w.secret } : {}),
  };
}

type Body = Static<typeof WebhookBody>;

const EnableBody = Type.Object({
  recover: Type.Optional(Type.Boolean({ description: 'create the deliveries of the events skipped while disabled (5,000 per call)' })),
}, { additionalProperties: false });

function healthOut(h: WebhookHealth) {
  return { ...h, failing_since: iso(h.failing_since), disabled_at: iso(h.disabled_at) };
}

export const webhookRoutes: FastifyPluginAsync = async (app) => {
  const { store, config } = app.runtime;
  const tags = ['webhooks'];

  /**
   * The answer for one webhook, with the services its filter names that are not known yet and,
   * in lists and on GET, its health (failing since when, or why disabled).
   */
  const out = async (w: Webhook, withSecret = false, withHealth = false) => ({
    ...webhookOut(w, await unknownServices(store, w.tenant_id, w.filters), withSecret),
    ...(withHealth ? { health: healthOut(await store.webhookHealth(w)) } : {}),
  });

  async function load(request: FastifyRequest, id: string) {
    const tenantId = await tenantOf(request);
    const w = await store.getWebhook(tenantId, id);
    if (!w) throw notFound('webhook');
    return { tenantId, webhook: w };
  }

  app.post<{ Body: Body }>('/webhooks', {
    schema: {
      tags, operationId: 'createWebhook', summary: 'Create a webhook; the answer holds its signing secret, shown this once',
      body: WebhookBody, response: ok(201, ref('Webhook'), 'Created'),
    },
  }, async (request, reply) => {
    const w = await createWebhook(app.runtime, await tenantOf(request), request.body);
    return reply.status(201).send(await out(w, true));
  });

  app.get<{ Querystring: { limit: number; cursor?: string } }>('/webhooks', {
    schema: { tags, operationId: 'listWebhooks', summary: 'List webhooks', querystring: Type.Object(PageQuery), response: ok(200, ref('WebhookPage')) },
  }, async (request) => {
    const page = await store.listWebhooks(await tenantOf(request), request.query);
    const items = [];
    for (const w of page.items) items.push(await out(w, false, true));
    return { items, next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id', {
    schema: { tags, operationId: 'getWebhook', summary: 'Get a webhook', params: IdParams, response: ok(200, ref('Webhook')) },
  }, async (request) => out((await load(request, request.params.id)).webhook, false, true));

  app.post<{ Params: { id: string }; Body: Static<typeof EnableBody> }>('/webhooks/:id/enable', {
    schema: {
      tags, operationId: 'enableWebhook',
      summary: 'Re-enable a webhook; with recover, also deliver the events it skipped while disabled and resend what its disabling failed',
      params: IdParams, body: EnableBody, response: ok(200, ref('WebhookEnabled')),
    },
  }, async (request) => {
    const r = await store.enableWebhook(await tenantOf(request), request.params.id, request.body.recover ?? false);
    if (!r) throw notFound('webhook');
    if (r.recovery && r.recovery.created + r.recovery.resent > 0) app.runtime.work.notify();
    return { webhook: await out(r.webhook, false, true), recovery: r.recovery };
  });

  app.patch<{ Params: { id: string }; Body: Partial<Body> }>('/webhooks/:id', {
    schema: { tags, operationId: 'updateWebhook', summary: 'Update a webhook (active: true re-enables it)', params: IdParams, body: WebhookPatch, response: ok(200, ref('Webhook')) },
  }, async (request) => {
    return out(await updateWebhook(app.runtime, await tenantOf(request), request.params.id, request.body));
  });

  app.delete<{ Params: { id: string } }>('/webhooks/:id', {
    schema: { tags, operationId: 'deleteWebhook', summary: 'Delete a webhook; its pending deliveries are cancelled', params: IdParams, response: noContent },
  }, async (request, reply) => {
    const tenantId = await tenantOf(request);
    if (!(await store.deleteWebhook(tenantId, request.params.id))) throw notFound('webhook');
    app.runtime.metrics.forgetWebhook(request.params.id);
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/webhooks/:id/rotate-secret', {
    schema: {
      tags, operationId: 'rotateWebhookSecret', summary: 'New signing secret; the old one keeps signing too during the overlap window',
      params: IdParams, response: ok(200, ref('Webhook')),
    },
  }, async (request) => {
    const { tenantId, webhook } = await load(request, request.params.id);
    const w = await store.rotateWebhookSecret(tenantId, webhook.id, generateSecret(), Date.now() + config.secretOverlapSec * 1000);
    if (!w) throw notFound('webhook');
    return out(w, true);
  });
};
