/**
 * Webhook subscriptions: the OpenCity fields (title, endpoint, method, trigger, filters,
 * headers, version, active) plus messo's own (events, format, ordering, limits, secret).
 * The secret is shown at creation and on rotation only.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { prefixedId } from '../../domain/ids.js';
import { FORMATS } from '../../domain/payload.js';
import { generateSecret } from '../../domain/signing.js';
import { isStatusCode } from '../../domain/statuses.js';
import { createAddressPolicy } from '../../outbound/address-guard.js';
import { ORDERINGS, type Webhook, type WebhookInput } from '../../store/types.js';
import { tenantOf } from '../auth.js';
import { invalid, notFound } from '../errors.js';
import { IdParams, iso, pageOf, PageQuery } from '../schemas.js';

/** Headers the sender owns: overriding them would break HTTP framing or the signature. */
export const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'proxy-connection', 'expect', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const TYPE_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))+)$/;

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

/** Checks what a schema cannot: URL, trigger, event types, services of this tenant, headers. */
async function checkWebhook(request: FastifyRequest, tenantId: string, b: Partial<Body>): Promise<void> {
  const { store, config } = request.server.ctx;
  if (b.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(b.endpoint);
    } catch {
      throw invalid('endpoint', 'must be an absolute http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('endpoint', 'must be an http or https URL');
    // First filter only: the dispatcher checks the address it actually connects to, every time.
    const own = new URL(config.publicUrl);
    const isOwnInspector = url.origin === own.origin && url.pathname.startsWith('/in/');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host) ? host : host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : null;
    if (literal && !isOwnInspector) {
      const verdict = createAddressPolicy(config.allowedTargets).check(literal);
      if (!verdict.allowed) throw invalid('endpoint', `refused target: ${verdict.reason} (see MESSO_ALLOWED_TARGETS)`);
    }
  }
  if (b.trigger !== undefined && b.trigger !== null) {
    const t = String(b.trigger);
    if (t !== 'all' && t !== 'message_created' && !(/^\d+$/.test(t) && isStatusCode(Number(t)))) {
      throw invalid('trigger', `"${t}" is not all, message_created or an OpenCity status code`);
    }
  }
  for (const [i, e] of (b.events ?? []).entries()) {
    if (!TYPE_PATTERN.test(e)) throw invalid(`events.${i}`, `"${e}" is not an event type such as application.status_changed or application.*`);
  }
  if (Array.isArray(b.filters)) {
    for (const [i, id] of b.filters.entries()) {
      if (id === 'all') continue;
      if (!(await store.getService(tenantId, id))) throw invalid(`filters.${i}`, `service ${id} does not exist for this tenant`);
    }
  }
  if (b.headers) {
    const names = Object.keys(b.headers);
    if (names.length > 50) throw invalid('headers', 'at most 50 headers');
    for (const name of names) {
      if (!HEADER_NAME.test(name)) throw invalid(`headers.${name}`, 'is not a valid header name');
      if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalid(`headers.${name}`, 'is set by messo and may not be overridden');
      if (/[\r\n\0]/.test(b.headers[name])) throw invalid(`headers.${name}`, 'must not contain line breaks');
    }
  }
}

function normalizeFilters(f: Body['filters']): 'all' | string[] {
  if (f === undefined || f === 'all') return 'all';
  return f.includes('all') ? 'all' : [...new Set(f)];
}

export const webhookRoutes: FastifyPluginAsync = async (app) => {
  const { store, config } = app.ctx;
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
    const tenantId = await tenantOf(request);
    const b = request.body;
    await checkWebhook(request, tenantId, b);
    const events = b.events ?? [];
    const input: WebhookInput = {
      title: b.title, description: b.description ?? null, endpoint: b.endpoint, method: b.method ?? 'POST',
      trigger: b.trigger === undefined || b.trigger === null ? (events.length > 0 ? null : 'all') : String(b.trigger),
      events, filters: normalizeFilters(b.filters), headers: b.headers ?? {}, version: b.version ?? 1,
      format: b.format ?? 'opencity', active: b.active ?? true, ordering: b.ordering ?? 'none',
      max_concurrency: b.max_concurrency ?? null, rate_limit: b.rate_limit ?? null, secret: generateSecret(),
    };
    const w = await store.createWebhook({ ...input, id: prefixedId('wh'), tenant_id: tenantId });
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
    const { tenantId, webhook } = await load(request, request.params.id);
    const b = request.body;
    await checkWebhook(request, tenantId, b);
    const patch: Partial<WebhookInput> = {};
    for (const k of ['title', 'description', 'endpoint', 'method', 'headers', 'version', 'format', 'active', 'ordering', 'max_concurrency', 'rate_limit', 'events'] as const) {
      if (b[k] !== undefined) (patch as Record<string, unknown>)[k] = b[k];
    }
    if (b.trigger !== undefined) patch.trigger = b.trigger === null ? null : String(b.trigger);
    if (b.filters !== undefined) patch.filters = normalizeFilters(b.filters);
    const events = patch.events ?? webhook.events;
    const trigger = patch.trigger !== undefined ? patch.trigger : webhook.trigger;
    if (events.length === 0 && trigger === null) throw invalid('trigger', 'a webhook needs a trigger or event types');
    const updated = await store.updateWebhook(tenantId, webhook.id, patch);
    if (!updated) throw notFound('webhook');
    return webhookOut(updated);
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
