/**
 * The HTTP ground every resource stands on: one Fastify instance with the runtime decorated,
 * strict JSON parsing (NUL refused, syntax errors as problems), the error handler that turns
 * every failure into problem+json from one catalogue, and the OpenAPI document. The resources
 * themselves are registered by src/app.ts.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import { BadCursorError, ConflictError, DuplicateError, isStoreUnavailable, RevokedKeyError } from '../store/index.js';
import { InputError, MissingError, QuotaError } from '../usecases/errors.js';
import { COMPONENTS } from './components.js';
import { ApiError, problemBody, PROBLEMS, type ProblemCode } from './errors.js';
import './fastify.js';
import { capConnections } from './connections.js';
import { clientErrorHandler, nulInUrl, requestIdOf, tooDeep } from './hardening.js';
import { documentRoute, swaggerOptions } from './openapi.js';
import { fieldErrors, validatorCompiler } from './validation.js';

/** Fastify's own error codes, mapped onto our catalogue. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
};

/** Dotted path of the first string (or key) holding U+0000, or null. */
/** Routes that take any JSON body and keep what they cannot apply, rather than answer 400. */
const TOLERANT_PATHS = ['/ingest/opencity/', '/ingest/opencity-webhook/'];
const nulBodies = new WeakMap<object, string>();

/** The field holding a NUL character in a tolerant route's body, or null. */
export const nulFieldOf = (request: object): string | null => nulBodies.get(request) ?? null;

function findNul(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (k.includes('\u0000')) return p;
    const found = findNul(v, p);
    if (found !== null) return found;
  }
  return null;
}

export async function createBaseApp(runtime: Runtime, opts: { logger: Logger | false }): Promise<FastifyInstance> {
  const { config } = runtime;
  const app: FastifyInstance = Fastify({
    ...(opts.logger === false ? { logger: false } : { loggerInstance: opts.logger }),
    bodyLimit: config.bodyLimit,
    // A client's X-Request-Id is kept only when it looks like an id (src/http-common/hardening.ts).
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Slow clients: the whole request within requestTimeout, its headers within headersTimeout
    // (never larger, or it wins), checked every few seconds rather than Node's 30 s.
    requestTimeout: config.serverRequestTimeoutMs,
    keepAliveTimeout: config.serverKeepAliveTimeoutMs,
    http: {
      headersTimeout: config.serverHeadersTimeoutMs,
      connectionsCheckingInterval: Math.min(5000, Math.max(50, Math.floor(config.serverHeadersTimeoutMs / 2))),
    },
    clientErrorHandler,
    forceCloseConnections: 'idle',
    // One line per request, written by the onResponse hook below: with the tenant and the problem.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    // The router refuses a bad %-escape or an over-long path segment before any handler runs:
    // answer those as problems too. No id is that long, so the latter is plainly "not found".
    frameworkErrors: (err, request, reply) => {
      const code: ProblemCode = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'not_found' : 'validation';
      const detail = code === 'not_found' ? 'no such resource: a path segment is longer than any id' : 'the URL is not valid';
      (reply as FastifyReply).status(PROBLEMS[code].status).type('application/problem+json').send(problemBody(code, detail, request.id));
    },
  }) as unknown as FastifyInstance;
  capConnections(app.server, config.maxConnections, config.maxConnectionsPerAddress);
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document, they do not filter: a body leaves exactly as the handler built it
  // (fast-json-stringify would drop keys the schema does not name, and reorder the rest).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.decorate('runtime', runtime);
  app.decorateRequest('tenantId', null);
  app.decorateRequest('problem', null);

  // JSON with a syntax error must be a 400 problem, not a generic 500.
  app.addContentTypeParser(['application/json', 'application/problem+json', 'application/cloudevents+json'], { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    // Checked before parsing: a body nested 100,000 deep must be a 400, not a stack overflow later.
    const deep = tooDeep(text);
    if (deep) return done(deep, undefined);
    try {
      const body = JSON.parse(text);
      // PostgreSQL text cannot hold U+0000 (SQLite can): refuse it everywhere, naming the field.
      const nul = /\\u0000/i.test(text) ? findNul(body, '') : null;
      if (nul !== null && TOLERANT_PATHS.some((p) => req.url.startsWith(p))) {
        // The OpenCity ingest never refuses a JSON body (issue 11): the route keeps it as ingest.rejected.
        nulBodies.set(req, nul || 'body');
        return done(null, body);
      }
      if (nul !== null) {
        const field = nul || 'body';
        return done(new ApiError('validation', `${field}: must not contain the NUL character (\\u0000)`, { field, errors: [{ field, message: 'must not contain the NUL character' }] }), undefined);
      }
      done(null, body);
    } catch (err) {
      done(new ApiError('malformed_json', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  // A POST without a body to a route whose fields are all optional means "all defaults".
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema?.body as { type?: string; required?: string[] } | undefined;
    if (request.body === undefined && schema?.type === 'object' && !(schema.required?.length)) request.body = {};
  });

  // PostgreSQL text cannot hold U+0000: a %00 in any path or query value is a 400 on every store.
  app.addHook('onRequest', async (request) => {
    if (!/%00/.test(request.url)) return;
    const nul = nulInUrl(request.params, request.query);
    if (nul) throw nul;
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // The request log line and the duration histogram. The route is the template
  // (/api/webhooks/:id), so ids never make new series; 'unmatched' for 404s without a route.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    runtime.metrics.recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    const line = {
      req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10,
      ...(request.tenantId ? { tenant_id: request.tenantId } : {}), ...(request.problem ? { problem: request.problem } : {}),
    };
    if (reply.statusCode >= 500) request.log.error(line, 'request completed');
    else request.log.info(line, 'request completed');
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const thrown: unknown = err;
    let code: ProblemCode = 'internal';
    let detail = 'an internal error occurred; quote the request id when reporting it';
    let extra: Record<string, unknown> = {};
    if (err instanceof ApiError) {
      code = err.code;
      detail = err.detail;
      extra = err.extra;
    } else if (err.validation) {
      const part = err.validationContext ?? 'body';
      const errors = fieldErrors(err.validation, part);
      code = 'validation';
      detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      extra = { field: errors[0]?.field, errors };
    } else if (thrown instanceof InputError) {
      code = 'validation';
      detail = thrown.message;
      extra = { field: thrown.field, errors: [{ field: thrown.field, message: thrown.reason }] };
    } else if (thrown instanceof QuotaError) {
      code = 'quota_exceeded';
      detail = thrown.message;
      extra = { field: thrown.field };
    } else if (thrown instanceof MissingError) {
      code = 'not_found';
      detail = thrown.message;
    } else if (err instanceof BadCursorError) {
      code = 'bad_cursor';
      detail = err.message;
      extra = { field: 'cursor' };
    } else if (err instanceof RevokedKeyError) {
      code = 'unauthorized';
      detail = err.message;
    } else if (err instanceof ConflictError) {
      code = 'conflict';
      detail = err.message;
    } else if (err instanceof DuplicateError) {
      code = 'duplicate';
      detail = err.message;
      extra = { field: err.field };
    } else if (isStoreUnavailable(thrown)) {
      code = 'unavailable';
      detail = 'the store is not reachable; try again shortly';
      reply.header('retry-after', '5');
    } else if (err.code && FASTIFY_CODES[err.code]) {
      code = FASTIFY_CODES[err.code];
      detail = err.message;
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      code = (Object.keys(PROBLEMS) as ProblemCode[]).find((k) => PROBLEMS[k].status === err.statusCode) ?? 'validation';
      detail = err.message;
    }
    request.problem = code;
    if (code === 'unavailable') request.log.warn({ err }, 'store not reachable');
    else if (PROBLEMS[code].status >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ code, detail }, 'request refused');
    reply.status(PROBLEMS[code].status).type('application/problem+json').send(problemBody(code, detail, request.id, extra));
  });

  app.setNotFoundHandler((request, reply) => {
    request.problem = 'not_found';
    reply.status(404).type('application/problem+json')
      .send(problemBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`, request.id));
  });

  // The document's named schemas, and the usual error answers of every route (openapi.ts).
  for (const schema of COMPONENTS) app.addSchema(schema);
  app.addHook('onRoute', documentRoute);
  await app.register(swagger, swaggerOptions(runtime.config.publicUrl, '0.1.0'));
  // The reference pages send the dashboard's security headers: a CSP with the hashes of its own
  // inline scripts, no framing, no sniffing, no referrer.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header: string) => header.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(' upgrade-insecure-requests;', ''),
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.url !== '/docs' && !request.url.startsWith('/docs/')) return;
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}
