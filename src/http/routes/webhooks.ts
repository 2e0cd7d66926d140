/**
 * Webhook subscriptions: the OpenCity fields (title, endpoint, method, trigger, filters,
 * headers, version, active) plus messo's own (events, format, ordering, limits, secret).
 * The secret is shown at creation and on rotation only.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { FORMATS } from '../../domain/payload.js';
import { generateSecret } from '../../domain/signing.js';
import { ORDERINGS, type Webhook } from '../../store/index.js';
import { createWebhook, updateWebhook } from '../../usecases/webhooks.js';
import { tenantOf } from '../../http-common/auth.js';
import { notFound } from '../../http-common/errors.js';
import { IdParams, iso, pageOf, PageQuery } from '../../http-common/schemas.js';

const fields = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
  endpoint: Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL of the receiver' }),
  method: Type.Union([Type.Literal('POST'), Type.Literal('PUT')]),
  trigger: Type.Union([Type.String({ maxLength: 30 }), Type.Integer(), Type.Null()], { description: '`all`, a status code such as 2000, or `message_created`' }),
  events: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50, description: 'event types (wildcards like application.*); used instead of trigger when not empty' }),
  filters: Type.Union([Type.Literal('all'), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 })], { description: 'service ids, or all' }),
  headers: Type.Record(Type.String(), Type.String({ maxLength: 4000 }), { description: 'merged over Content-Type: application/json' }),
  version: Type.Union([Type.Literal(1), Type.Literal(2)]),
  active: Type.Boolean(),
  format: Type.Union(FORMATS.map((f) => Type.Literal(f))),
  ordering: Type.Union(ORDERINGS.map((o) => Type.Literal(o))),
  max_concurrency: Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()], { description: 'concurrent requests to this endpoint (default: server setting, 10)' }),
  rate_limit: Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 10000 }), Type.Null()], { description: 'requests per second' }),
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
}, { additionalProperties: false });

const WebhookPatch = Type.Partial(WebhookBody, { additionalProperties: false, minProperties: 1 });

const WebhookOut = Type.Object({
  id: Type.String(), title: Type.String(), description: Type.Union([Type.String(), Type.Null()]), endpoint: Type.String(),
  method: Type.String(), trigger: Type.Union([Type.String(), Type.Null()]), events: Type.Array(Type.String()),
  filters: Type.Union([Type.String(), Type.Array(Type.String())]), headers: Type.Record(Type.String(), Type.String()),
  version: Type.Integer(), active: Type.Boolean(), format: Type.String(), ordering: Type.String(),
  max_concurrency: Type.Union([Type.Integer(), Type.Null()]), rate_limit: Type.Union([Type.Number(), Type.Null()]),
  disabled_reason: Type.Union([Type.String(), Type.Null()]), disabled_at: Type.Union([Type.String(), Type.Null()]),
  previous_secret_expires_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(), updated_at: Type.String(),
  secret: Type.Optional(Type.String({ description: 'whsec_…; shown only at creation and rotation' })),
});

export function webhookOut(w: Webhook, withSecret = false) {
  return {
    id: w.id, title: w.title, description: w.description, endpoint: w.endpoint, method: w.method, trigger: w.trigger,
    events: w.events, filters: w.filters, headers: w.headers, version: w.version, active: w.active, format: w.format,
    ordering: w.ordering, max_concurrency: w.max_concurrency, rate_limit: w.rate_limit,
    disabled_reason: w.disabled_reason, disabled_at: iso(w.disabled_at),
    previous_secret_expires_at: w.previous_secret_expires_at && w.previous_secret_expires_at > Date.now() ? iso(w.previous_secret_expires_at) : null,
    created_at: iso(w.created_at)!, updated_at: iso(w.updated_at)!, ...(withSecret ? { secret: w.secret } : {}),
  };
}

type Body = Static<typeof WebhookBody>;

export const webhookRoutes: FastifyPluginAsync = async (app) => {
  const { store, config } = app.runtime;
  const tags = ['webhooks'];

  async function load(request: FastifyRequest, id: string) {
    const tenantId = await tenantOf(request);
    const w = await store.getWebhook(tenantId, id);
    if (!w) throw notFound('webhook');
    return { tenantId, webhook: w };
  }

  app.post<{ Body: Body }>('/webhooks', {
    schema: { tags, summary: 'Create a webhook; the answer holds its signing secret, shown this once', body: WebhookBody, response: { 201: WebhookOut } },
  }, async (request, reply) => {
    const w = await createWebhook(app.runtime, await tenantOf(request), request.body);
    return reply.status(201).send(webhookOut(w, true));
  });

  app.get<{ Querystring: { limit: number; cursor?: string } }>('/webhooks', {
    schema: { tags, summary: 'List webhooks', querystring: Type.Object(PageQuery), response: { 200: pageOf(WebhookOut) } },
  }, async (request) => {
    const page = await store.listWebhooks(await tenantOf(request), request.query);
    return { items: page.items.map((w) => webhookOut(w)), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id', {
    schema: { tags, summary: 'Get a webhook', params: IdParams, response: { 200: WebhookOut } },
  }, async (request) => webhookOut((await load(request, request.params.id)).webhook));

  app.patch<{ Params: { id: string }; Body: Partial<Body> }>('/webhooks/:id', {
    schema: { tags, summary: 'Update a webhook (active: true re-enables it)', params: IdParams, body: WebhookPatch, response: { 200: WebhookOut } },
  }, async (request) => {
    return webhookOut(await updateWebhook(app.runtime, await tenantOf(request), request.params.id, request.body));
  });

  app.delete<{ Params: { id: string } }>('/webhooks/:id', {
    schema: { tags, summary: 'Delete a webhook; its pending deliveries are cancelled', params: IdParams },
  }, async (request, reply) => {
    const tenantId = await tenantOf(request);
    if (!(await store.deleteWebhook(tenantId, request.params.id))) throw notFound('webhook');
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/webhooks/:id/rotate-secret', {
    schema: { tags, summary: 'New signing secret; the old one keeps signing too during the overlap window', params: IdParams, response: { 200: WebhookOut } },
  }, async (request) => {
    const { tenantId, webhook } = await load(request, request.params.id);
    const w = await store.rotateWebhookSecret(tenantId, webhook.id, generateSecret(), Date.now() + config.secretOverlapSec * 1000);
    if (!w) throw notFound('webhook');
    return webhookOut(w, true);
  });
};
