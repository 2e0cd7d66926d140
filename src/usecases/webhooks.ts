/**
 * Webhook subscriptions: what makes one acceptable, beyond what a schema can say, and how a
 * request becomes the stored subscription. The API routes and any future client (CLI, import)
 * go through here, so the rules live once.
 */
import { isIP } from 'node:net';
import { prefixedId } from '../domain/ids.js';
import type { PayloadFormat } from '../domain/payload.js';
import { generateSecret } from '../domain/signing.js';
import { isStatusCode } from '../domain/statuses.js';
import type { Config } from '../config.js';
import { createAddressPolicy } from '../outbound/address-guard.js';
import { isOwnInspectorUrl } from '../outbound/client.js';
import type { Ordering, Store, Webhook, WebhookInput } from '../store/index.js';
import { InputError, MissingError, QuotaError } from './errors.js';

/** Headers the sender owns: overriding them would break HTTP framing or the signature. */
export const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'proxy-connection', 'expect', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const TYPE_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))+)$/;

export type WebhookVersionInput = 1 | 2 | '1' | '2' | '1.0' | '2.0';

/** A new webhook without a version gets `"2.0"`, as the core's form does. */
export const DEFAULT_WEBHOOK_VERSION: 1 | 2 = 2;

/** `1`, `"1"`, `"1.0"` → 1; the store keeps the number, the API shows the core's string. */
export function versionNumber(v: WebhookVersionInput): 1 | 2 {
  return Number(v) === 1 ? 1 : 2;
}

/** How the core stores and shows a webhook's version. */
export const versionString = (v: 1 | 2): '1.0' | '2.0' => (v === 1 ? '1.0' : '2.0');

/**
 * Services a filter names that this tenant has not published yet. The core publishes a service
 * only when it is saved, so a filter may name one messo has not seen: it is kept, and shown.
 */
export async function unknownServices(store: Pick<Store, 'getService'>, tenantId: string, filters: 'all' | string[]): Promise<string[]> {
  if (filters === 'all') return [];
  const unknown: string[] = [];
  for (const id of filters) if (!(await store.getService(tenantId, id))) unknown.push(id);
  return unknown;
}

/** A webhook as a client asks for it: every field optional (a patch); creation needs title and endpoint. */
export interface WebhookRequest {
  title?: string;
  description?: string | null;
  endpoint?: string;
  method?: 'POST' | 'PUT';
  trigger?: string | number | null;
  events?: string[];
  filters?: 'all' | string[];
  headers?: Record<string, string>;
  /** The core's strings `"1.0"` / `"2.0"`; `1`, `2`, `"1"`, `"2"` are read the same. */
  version?: WebhookVersionInput;
  active?: boolean;
  format?: PayloadFormat;
  ordering?: Ordering;
  max_concurrency?: number | null;
  rate_limit?: number | null;
  follow_redirects?: boolean;
}

export interface WebhookDeps {
  store: Pick<Store, 'createWebhook' | 'updateWebhook' | 'getWebhook' | 'countWebhooks'>;
  config: Pick<Config, 'publicUrl' | 'allowedTargets' | 'maxWebhooksPerTenant'>;
}

/** Checks what a schema cannot: URL, trigger, event types, the filter's shape, headers. */
export function checkWebhook(deps: WebhookDeps, b: WebhookRequest): void {
  if (b.endpoint !== undefined) checkEndpoint(deps.config, b.endpoint);
  if (b.trigger !== undefined && b.trigger !== null) {
    const t = String(b.trigger);
    if (t !== 'all' && t !== 'message_created' && !(/^\d+$/.test(t) && isStatusCode(Number(t)))) {
      throw new InputError('trigger', `"${t}" is not all, message_created or an OpenCity status code`);
    }
  }
  for (const [i, e] of (b.events ?? []).entries()) {
    if (!TYPE_PATTERN.test(e)) throw new InputError(`events.${i}`, `"${e}" is not an event type such as application.status_changed or application.*`);
  }
  if (Array.isArray(b.filters)) {
    // A service not seen yet is kept (see unknownServices); only the shape is checked here.
    for (const [i, id] of b.filters.entries()) {
      if (id.trim() === '') throw new InputError(`filters.${i}`, 'must be a service id or all');
    }
  }
  if (b.headers) {
    const names = Object.keys(b.headers);
    if (names.length > 50) throw new InputError('headers', 'at most 50 headers');
    for (const name of names) {
      if (!HEADER_NAME.test(name)) throw new InputError(`headers.${name}`, 'is not a valid header name');
      if (RESERVED_HEADERS.has(name.toLowerCase())) throw new InputError(`headers.${name}`, 'is set by messo and may not be overridden');
      if (/[\r\n\0]/.test(b.headers[name])) throw new InputError(`headers.${name}`, 'must not contain line breaks');
    }
  }
}

/**
 * A first filter only: a literal address the guard refuses is refused now, with the reason.
 * The dispatcher checks the address it actually connects to, on every attempt.
 */
function checkEndpoint(config: WebhookDeps['config'], endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InputError('endpoint', 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError('endpoint', 'must be an http or https URL');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host) ? host : host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : null;
  if (literal && !isOwnInspectorUrl(url, config.publicUrl)) {
    const verdict = createAddressPolicy(config.allowedTargets).check(literal);
    if (!verdict.allowed) throw new InputError('endpoint', `refused target: ${verdict.reason} (see MESSO_ALLOWED_TARGETS)`);
  }
}

function normalizeFilters(f: WebhookRequest['filters']): 'all' | string[] {
  if (f === undefined || f === 'all') return 'all';
  return f.includes('all') ? 'all' : [...new Set(f)];
}

export async function createWebhook(deps: WebhookDeps, tenantId: string, b: WebhookRequest & { title: string; endpoint: string }): Promise<Webhook> {
  checkWebhook(deps, b);
  // Counted, then created: two creations at the same instant may pass one over; the cap is
  // about fan-out and store size, not an exact count.
  const max = deps.config.maxWebhooksPerTenant;
  if (await deps.store.countWebhooks(tenantId) >= max) {
    throw new QuotaError('webhooks', `this tenant has ${max} webhooks, the most allowed (MESSO_MAX_WEBHOOKS_PER_TENANT); delete one first`);
  }
  const events = b.events ?? [];
  const input: WebhookInput = {
    title: b.title, description: b.description ?? null, endpoint: b.endpoint, method: b.method ?? 'POST',
    trigger: b.trigger === undefined || b.trigger === null ? (events.length > 0 ? null : 'all') : String(b.trigger),
    events, filters: normalizeFilters(b.filters), headers: b.headers ?? {}, version: b.version === undefined ? DEFAULT_WEBHOOK_VERSION : versionNumber(b.version),
    format: b.format ?? 'opencity', active: b.active ?? true, ordering: b.ordering ?? 'none',
    max_concurrency: b.max_concurrency ?? null, rate_limit: b.rate_limit ?? null,
    follow_redirects: b.follow_redirects ?? false, secret: generateSecret(),
  };
  return deps.store.createWebhook({ ...input, id: prefixedId('wh'), tenant_id: tenantId });
}

const PATCHABLE = ['title', 'description', 'endpoint', 'method', 'headers', 'format', 'active', 'ordering', 'max_concurrency', 'rate_limit', 'follow_redirects', 'events'] as const;

export async function updateWebhook(deps: WebhookDeps, tenantId: string, id: string, b: WebhookRequest): Promise<Webhook> {
  const webhook = await deps.store.getWebhook(tenantId, id);
  if (!webhook) throw new MissingError('webhook');
  checkWebhook(deps, b);
  const patch: Partial<WebhookInput> = {};
  for (const k of PATCHABLE) {
    if (b[k] !== undefined) (patch as Record<string, unknown>)[k] = b[k];
  }
  if (b.trigger !== undefined) patch.trigger = b.trigger === null ? null : String(b.trigger);
  if (b.filters !== undefined) patch.filters = normalizeFilters(b.filters);
  if (b.version !== undefined) patch.version = versionNumber(b.version);
  const events = patch.events ?? webhook.events;
  const trigger = patch.trigger !== undefined ? patch.trigger : webhook.trigger;
  if (events.length === 0 && trigger === null) throw new InputError('trigger', 'a webhook needs a trigger or event types');
  const updated = await deps.store.updateWebhook(tenantId, webhook.id, patch);
  if (!updated) throw new MissingError('webhook');
  return updated;
}
