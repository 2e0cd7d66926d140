/**
 * The HTTP ground every resource stands on: one Fastify instance with the runtime decorated,
 * strict JSON parsing (NUL refused, syntax errors as problems), the error handler that turns
 * every failure into problem+json from one catalogue, and the OpenAPI document. The resources
 * themselves are registered by src/app.ts.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import { BadCursorError, ConflictError, DuplicateError } from '../store/index.js';
import { InputError, MissingError } from '../usecases/errors.js';
import { ApiError, problemBody, PROBLEMS, type ProblemCode } from './errors.js';
import './fastify.js';
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
  const app: FastifyInstance = Fastify({
    ...(opts.logger === false ? { logger: false } : { loggerInstance: opts.logger }),
    bodyLimit: runtime.config.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    // The router refuses a bad %-escape or an over-long path segment before any handler runs:
    // answer those as problems too. No id is that long, so the latter is plainly "not found".
    frameworkErrors: (err, request, reply) => {
      const code: ProblemCode = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'not_found' : 'validation';
      const detail = code === 'not_found' ? 'no such resource: a path segment is longer than any id' : 'the URL is not valid';
      (reply as FastifyReply).status(PROBLEMS[code].status).type('application/problem+json').send(problemBody(code, detail, request.id));
    },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.decorate('runtime', runtime);

  // JSON with a syntax error must be a 400 problem, not a generic 500.
  app.addContentTypeParser(['application/json', 'application/problem+json', 'application/cloudevents+json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      const body = JSON.parse(text);
      // PostgreSQL text cannot hold U+0000 (SQLite can): refuse it everywhere, naming the field.
      const nul = /\\u0000/i.test(text) ? findNul(body, '') : null;
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
    const schema = request.routeOptions.schema?.body as { required?: string[] } | undefined;
    if (request.body === undefined && schema && !(schema.required?.length)) request.body = {};
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
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
    } else if (thrown instanceof MissingError) {
      code = 'not_found';
      detail = thrown.message;
    } else if (err instanceof BadCursorError) {
      code = 'bad_cursor';
      detail = err.message;
      extra = { field: 'cursor' };
    } else if (err instanceof ConflictError) {
      code = 'conflict';
      detail = err.message;
    } else if (err instanceof DuplicateError) {
      code = 'duplicate';
      detail = err.message;
      extra = { field: err.field };
    } else if (err.code && FASTIFY_CODES[err.code]) {
      code = FASTIFY_CODES[err.code];
      detail = err.message;
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      code = (Object.keys(PROBLEMS) as ProblemCode[]).find((k) => PROBLEMS[k].status === err.statusCode) ?? 'validation';
      detail = err.message;
    }
    if (PROBLEMS[code].status >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ code, detail }, 'request refused');
    reply.status(PROBLEMS[code].status).type('application/problem+json').send(problemBody(code, detail, request.id, extra));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).type('application/problem+json')
      .send(problemBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`, request.id));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'messo',
        version: '0.1.0',
        description: 'Webhooks for the pratiche of municipal digital services, compatible with OpenCity Italia.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A tenant API key, or the admin token' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}
