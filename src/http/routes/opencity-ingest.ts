/**
 * Drop-in ingest for an existing OpenCity core (issue 6). The core publishes every change by
 * POSTing the entity JSON to `{KAFKA_URL}/{topic}` with only `Content-Type: application/json`,
 * counts 200 and 201 as success and retries anything else later. Pointing its KAFKA_URL at
 * `<messo>/ingest/opencity/<token>` is all it takes; the token in the path is the credential,
 * so this plugin sits outside the /api auth hook. The token never reaches a log: the request
 * serializer masks it (src/logger.ts), and nothing here logs more than its prefix.
 *
 * A request goes: topic → token → envelope (schema) → tenant_id → event_version → entity →
 * the use case (usecases/opencity-ingest.ts: duplicate? → classify → append).
 *
 * Because the core retries every non-2xx forever, 4xx is kept for what the core must be told
 * (bad token, wrong tenant, a body it cannot have meant).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { parseTime } from '../../domain/dates.js';
import { sha256 } from '../../domain/ids.js';
import type { Tenant } from '../../store/index.js';
import {
  createOpenCityIngest, OPENCITY_TOPICS, SUPPORTED_EVENT_VERSIONS, type OpenCityTopic,
} from '../../usecases/opencity-ingest.js';
import { ApiError, invalid } from '../../http-common/errors.js';

/** The producer's keys around the entity; everything else in the body is the entity. */
const ENVELOPE_KEYS = ['tenant_id', 'event_id', 'event_created_at', 'event_version', 'app_version'];

const Envelope = Type.Object({
  tenant_id: Type.String({ minLength: 1, maxLength: 200, description: "the core's instance id: the tenant's id or external_id" }),
  event_id: Type.String({ minLength: 1, maxLength: 200, description: 'UUID; a repeat is answered 200 and writes nothing' }),
  event_created_at: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Number({ minimum: 0 })], { description: 'ISO 8601 date-time or Unix seconds' }),
  event_version: Type.Union([Type.Integer(), Type.String({ pattern: '^[0-9]{1,9}$' })], { description: '1 and 2 are understood; others are skipped' }),
  app_version: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
}, { additionalProperties: true, description: 'the entity JSON as the core publishes it, plus the envelope keys' });
type Envelope = Static<typeof Envelope>;

const Params = Type.Object({
  token: Type.String({ description: 'an ingest token (POST /api/ingest-tokens)' }),
  topic: Type.String({ description: OPENCITY_TOPICS.join(', ') }),
});

const Result = Type.Object({
  result: Type.Union([Type.Literal('created'), Type.Literal('duplicate'), Type.Literal('skipped')]),
  event_id: Type.String(),
  type: Type.Union([Type.String(), Type.Null()]),
});

interface Resolved {
  tenant: Tenant;
  topic: OpenCityTopic;
  tokenPrefix: string;
}

export const opencityIngestRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.runtime;
  const resolved = new WeakMap<FastifyRequest, Resolved>();
  const ingest = createOpenCityIngest(app.runtime);

  app.post<{ Params: Static<typeof Params>; Body: Envelope }>('/ingest/opencity/:token/:topic', {
    schema: {
      tags: ['ingest'], security: [],
      summary: "Receive an OpenCity core's event (set the core's KAFKA_URL to <messo>/ingest/opencity/<token>)",
      params: Params, body: Envelope, response: { 200: Result, 201: Result },
    },
    // Before body validation: an unknown topic or token is answered as such whatever the body.
    preValidation: async (request) => {
      const { token, topic } = request.params as Static<typeof Params>;
      if (!(OPENCITY_TOPICS as readonly string[]).includes(topic)) {
        throw new ApiError('not_found', `unknown topic: use one of ${OPENCITY_TOPICS.join(', ')}`, { field: 'topic' });
      }
      const found = await store.ingestTokens.findLiveByHash(sha256(token));
      const tenant = found ? await store.getTenant(found.tenant_id) : null;
      if (!found || !tenant) throw new ApiError('unauthorized', 'the ingest token in the URL is not valid or was revoked', { field: 'token' });
      resolved.set(request, { tenant, topic: topic as OpenCityTopic, tokenPrefix: found.prefix });
    },
  }, async (request, reply) => {
    const { tenant, topic, tokenPrefix } = resolved.get(request)!;
    const body = request.body;
    const log = request.log.child({ topic, event_id: body.event_id, token_prefix: tokenPrefix, tenant_id: tenant.id });

    if (body.tenant_id !== tenant.id && body.tenant_id !== tenant.external_id) {
      throw new ApiError('forbidden', "tenant_id is not this token's tenant: set the tenant's external_id to the core's instance id", { field: 'tenant_id' });
    }
    const version = Number(body.event_version);
    if (!SUPPORTED_EVENT_VERSIONS.includes(version)) {
      log.debug({ event_version: version }, 'opencity ingest: unsupported event_version skipped');
      return reply.status(200).send({ result: 'skipped', event_id: body.event_id, type: null });
    }
    const createdAt = parseTime(body.event_created_at);
    if (createdAt === null) throw invalid('event_created_at', 'must be an ISO 8601 date-time or Unix seconds');

    const entity: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!ENVELOPE_KEYS.includes(k)) entity[k] = v;
    const base = {
      event_id: body.event_id, tenant_id: tenant.id, event_version: version, event_created_at: createdAt,
      app_id: `opencity:${typeof body.app_version === 'string' && body.app_version.trim() !== '' ? body.app_version : 'unknown'}`,
    };

    const outcome = await ingest.apply({ topic, tenant, entity, base }, log);
    log.debug({ result: outcome.result, type: outcome.type }, 'opencity ingest');
    return reply.status(outcome.result === 'created' ? 201 : 200).send({ ...outcome, event_id: body.event_id });
  });
};
