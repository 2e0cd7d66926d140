/**
 * The OpenAPI document as a contract (issue 14): named components, an operationId on every
 * operation, and every error an operation can answer documented as application/problem+json.
 *
 * Routes declare their success answer (`ok(201, ref('Webhook'))`, `noContent`, `text(…)`) and
 * any error beyond the usual ones (`problems(409)`); `onRoute` below adds the usual ones from
 * what the route is: 500 always; 400 when it takes params, a query or a body; 413 and 415 on
 * POST, PUT and PATCH; 401, 403 and 404 behind the /api bearer auth (an unknown X-Tenant-Id is 404 too); 409
 * on /api writes (duplicates, conflicts). The test suite checks every answer it gets against
 * this document (test/contract.ts), so a missing code fails a test rather than a client.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { ref } from './components.js';
import { PROBLEMS } from './errors.js';

const TITLES: Record<number, string> = Object.fromEntries(
  Object.values(PROBLEMS).map((p) => [p.status, p.title]),
);

function problemResponse(status: number) {
  return {
    description: TITLES[status] ?? 'Problem',
    content: { 'application/problem+json': { schema: ref('Problem') } },
  };
}

/** Error answers a route documents beyond the usual ones. */
export function problems(...codes: number[]): Record<number, unknown> {
  return Object.fromEntries(codes.map((c) => [c, problemResponse(c)]));
}

/** A JSON success answer. */
export function ok(status: number, schema: unknown, description = 'OK'): Record<number, unknown> {
  return { [status]: { description, content: { 'application/json': { schema } } } };
}

/** 204: done, nothing to say. */
export const noContent = { 204: { description: 'Done; no body', type: 'null' } };

/** A 200 answer that is not JSON (metrics, a curl command, an event stream). */
export function text(mediaType: string, description: string): Record<number, unknown> {
  return { 200: { description, content: { [mediaType]: { schema: { type: 'string' } } } } };
}

export function swaggerOptions(publicUrl: string, version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'messo',
        version,
        description: 'Webhooks for the pratiche of municipal digital services, compatible with OpenCity Italia.',
        license: { name: 'EUPL-1.2', identifier: 'EUPL-1.2' },
      },
      servers: [{ url: publicUrl, description: 'this server (MESSO_PUBLIC_URL)' }],
      tags: [
        { name: 'operations', description: 'Liveness, readiness, metrics' },
        { name: 'tenants', description: 'Tenants (enti) and their API keys' },
        { name: 'services', description: 'Services of a tenant' },
        { name: 'applications', description: 'Applications (pratiche), their status changes and messages' },
        { name: 'events', description: 'The event log and its ingest' },
        { name: 'webhooks', description: 'Webhook subscriptions' },
        { name: 'deliveries', description: 'Deliveries, attempts, resend and recovery' },
        { name: 'ingest', description: 'Drop-in ingest for an OpenCity core' },
        { name: 'inspector', description: 'Request bins and their captures' },
      ],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A tenant API key, or the admin token' } },
      },
      security: [{ bearer: [] }],
    },
    // Shared schemas keep their own names in components.schemas.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transformObject: (doc) => ('openapiObject' in doc ? finishDocument(doc.openapiObject) : doc.swaggerObject),
  };
}

type Operation = {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { required?: string[]; minProperties?: number } }> };
  parameters?: { in: string; name: string; required?: boolean; description?: string; schema?: unknown }[];
};

/**
 * After @fastify/swagger, what route schemas cannot say. It marks every request body required:
 * a body whose fields are all optional may be left out (base.ts reads it as `{}`: `POST
 * /api/keys` with no body is a key named "default"). And the X-Accept-Version header.
 */
function finishDocument<T>(doc: T): T {
  const paths = (doc as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  for (const ops of Object.values(paths)) {
    for (const op of Object.values(ops)) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (schema && !schema.required?.length && !schema.minProperties) op.requestBody!.required = false;
      // The representation version may come as a header too (schemas.ts, requestedVersion); it
      // is read by the handler, not validated by a route schema, so it is added here.
      if (op.parameters?.some((p) => p.in === 'query' && p.name === 'version')) {
        op.parameters.push({
          in: 'header', name: 'X-Accept-Version', required: false, schema: { type: 'integer', enum: [1, 2] },
          description: 'representation version, as ?version= (the query wins when both are sent)',
        });
      }
    }
  }
  return doc;
}

interface RouteSchema {
  hide?: boolean;
  operationId?: string;
  params?: unknown;
  querystring?: unknown;
  body?: unknown;
  security?: unknown[];
  response?: Record<string, unknown>;
}

/** Fills in the usual error answers of a route and refuses an operation without an id. */
export function documentRoute(route: RouteOptions): void {
  const schema = route.schema as RouteSchema | undefined;
  if (!schema || schema.hide) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (methods.every((m) => m === 'HEAD')) return;
  if (!schema.operationId) throw new Error(`${methods.join(',')} ${route.url}: no operationId in its schema`);
  const codes = new Set<number>([500]);
  const writes = methods.some((m) => m === 'POST' || m === 'PATCH' || m === 'PUT');
  if (schema.params || schema.querystring || schema.body || route.url.includes(':')) codes.add(400);
  // A body is parsed before any handler runs, whether the route reads one or not.
  if (schema.body || writes) for (const c of [400, 413, 415]) codes.add(c);
  if (route.url.startsWith('/api/') && schema.security === undefined) {
    for (const c of [401, 403, 404]) codes.add(c);
    if (writes) codes.add(409);
  }
  // An unknown id; the anonymous inspector answers 404 everywhere when it is off.
  if (route.url.includes(':') || route.url.startsWith('/public/')) codes.add(404);
  // Rates and quotas (quotas.ts): per key under /api, wrong tokens and anonymous bins per address.
  if (/^\/(api|ingest|public)\//.test(route.url)) codes.add(429);
  // Every route but the liveness probe reads the store: out of reach, it is a 503 (base.ts).
  if (route.url !== '/healthz') codes.add(503);
  const response: Record<string, unknown> = { ...(schema.response ?? {}) };
  for (const c of codes) response[c] ??= problemResponse(c);
  schema.response = response;
}
