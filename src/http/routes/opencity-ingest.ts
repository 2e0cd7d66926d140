/**
 * Drop-in ingest for an existing OpenCity core (issues 6 and 11). The core publishes every
 * change by POSTing the entity JSON to `{KAFKA_URL}/{topic}` with only `Content-Type:
 * application/json` and a 2-second timeout; anything but 200/201 aborts the citizen's request
 * that made the change (2.13 ends in `dd($e)`), and skips the core's own webhooks for it.
 * Pointing its KAFKA_URL at `<messo>/ingest/opencity/<token>` is all it takes; the token in the
 * path is the credential, so this plugin sits outside the /api auth hook. The token never
 * reaches a log: the request serializer masks it (src/logger.ts).
 *
 * So the sink never breaks the core: only a bad token (401), a body that is not JSON (400) or
 * one over MESSO_BODY_LIMIT (413) are errors. Every other authenticated JSON post is answered
 * 200/201; what cannot be applied (unknown shape, invalid status, another tenant_id, key paths
 * naming a prototype link…) is kept as an `ingest.rejected` event with the reason, for an
 * operator to see in GET /api/events and the dashboard.
 *
 * The bridge for the core's own webhooks (`/ingest/opencity-webhook/<token>`) follows the same
 * rules; see usecases/opencity-bridge.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { sha256 } from '../../domain/ids.js';
import type { Tenant } from '../../store/index.js';
import { createOpenCityBridge } from '../../usecases/opencity-bridge.js';
import { isRejection, readEnvelope, topicOf, unsafeData, isSupportedVersion, type Rejection } from '../../usecases/opencity-envelope.js';
import { createOpenCityIngest, OPENCITY_TOPICS } from '../../usecases/opencity-ingest.js';
import { OpenCityIngestResult, ref } from '../../http-common/components.js';
import { nulFieldOf } from '../../http-common/base.js';
import { ApiError } from '../../http-common/errors.js';
import { ok, problems } from '../../http-common/openapi.js';

const AnyJson = Type.Unknown({ description: 'the entity JSON as the core publishes it, plus tenant_id, event_id, event_created_at, event_version, app_version' });

const Params = Type.Object({
  token: Type.String({ maxLength: 200, description: 'an ingest token (POST /api/ingest-tokens)' }),
  topic: Type.String({ maxLength: 200, description: `${OPENCITY_TOPICS.join(', ')}, or another name: the body says which entity it is` }),
});
const BridgeParams = Type.Object({ token: Params.properties.token });

type Result = Static<typeof OpenCityIngestResult>;

export const opencityIngestRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.runtime;
  const tenants = new WeakMap<FastifyRequest, { tenant: Tenant; tokenPrefix: string }>();
  const ingest = createOpenCityIngest(app.runtime);
  const bridge = createOpenCityBridge(app.runtime, ingest);

  /** Before the body is looked at: an unknown token is answered as such whatever the body. */
  const authenticate = async (request: FastifyRequest) => {
    const { token } = request.params as { token: string };
    const found = await store.ingestTokens.findLive(sha256(token));
    if (!found) throw new ApiError('unauthorized', 'the ingest token in the URL is not valid or was revoked', { field: 'token' });
    tenants.set(request, { tenant: found.tenant, tokenPrefix: found.token.prefix });
    request.tenantId = found.tenant.id;
  };

  /**
   * JSON holding U+0000, which PostgreSQL cannot store: kept as ingest.rejected (the body as
   * escaped JSON text), never answered 400. Null when the body has none.
   */
  const nulRejection = (request: FastifyRequest): Rejection | null => {
    const field = nulFieldOf(request);
    if (field === null) return null;
    const clean = field.replaceAll('\u0000', '\uFFFD');
    return { rejected: `${clean} holds the NUL character (\\u0000), which cannot be stored`, field: clean };
  };

  /** Both routes answer alike: 200/201 for every authenticated JSON post. */
  const answers = {
    ...ok(200, ref('OpenCityIngestResult'), 'Duplicate, skipped or kept as ingest.rejected'), ...ok(201, ref('OpenCityIngestResult'), 'Created'), ...problems(401),
  };

  /** A body that is not JSON at all (empty) is the one content error the core is told about. */
  const requireBody = (body: unknown) => {
    if (body === undefined) throw new ApiError('malformed_json', 'the body is empty: a JSON entity is expected');
  };

  app.post<{ Params: Static<typeof Params>; Body: unknown }>('/ingest/opencity/:token/:topic', {
    schema: {
      tags: ['ingest'], security: [], operationId: 'ingestOpenCity',
      summary: "Receive an OpenCity core's event (set the core's KAFKA_URL to <messo>/ingest/opencity/<token>); 200/201 for every authenticated JSON post",
      params: Params, body: AnyJson,
      response: answers,
    },
    preValidation: authenticate,
  }, async (request, reply) => {
    const { tenant, tokenPrefix } = tenants.get(request)!;
    const { metrics } = app.runtime;
    const arrivedAt = Date.now();
    const body = request.body;
    requireBody(body);
    const source = `opencity/${request.params.topic.slice(0, 100)}`;
    const log = request.log.child({ topic: request.params.topic, token_prefix: tokenPrefix, tenant_id: tenant.id });
    const nul = nulRejection(request);
    const coreEventId = (b: unknown) => (!nul && typeof b === 'object' && b !== null && typeof (b as { event_id?: unknown }).event_id === 'string' ? (b as { event_id: string }).event_id.slice(0, 200) : null);
    const rejected = async (r: Rejection): Promise<Result> => {
      const out = await ingest.reject({ tenant, source, reason: r.rejected, field: r.field, body, arrivedAt, coreEventId: coreEventId(body) }, log);
      metrics.recordIngest('opencity', 'rejected');
      return { result: 'rejected', event_id: coreEventId(body), type: out.type, reason: r.rejected, recorded_id: out.recorded_id };
    };

    if (nul) return reply.status(200).send(await rejected(nul));
    const env = readEnvelope(body, arrivedAt);
    if (isRejection(env)) return reply.status(200).send(await rejected(env));
    if (env.tenantId !== null && env.tenantId !== tenant.id && env.tenantId !== tenant.external_id) {
      return reply.status(200).send(await rejected({
        rejected: `tenant_id ${env.tenantId.slice(0, 200)} is not this token's tenant: set the tenant's external_id to the core's instance id`, field: 'tenant_id',
      }));
    }
    if (!isSupportedVersion(env.version)) {
      log.debug({ event_version: env.version }, 'opencity ingest: unsupported event_version skipped');
      metrics.recordIngest('opencity', 'skipped');
      return reply.status(200).send({ result: 'skipped', event_id: env.eventId, type: null });
    }
    const topic = topicOf(request.params.topic, env.entity);
    if (isRejection(topic)) return reply.status(200).send(await rejected(topic));
    const unsafe = unsafeData(env.entity);
    if (unsafe) return reply.status(200).send(await rejected(unsafe));

    const base = { event_id: env.eventId, tenant_id: tenant.id, event_version: env.version, event_created_at: env.createdAt, app_id: env.appId };
    const outcome = await ingest.applyOrReject({ topic, tenant, entity: env.entity, base }, body, source, log);
    log.debug({ result: outcome.result, type: outcome.type, event_id: env.eventId }, 'opencity ingest');
    metrics.recordIngest('opencity', outcome.result);
    return reply.status(outcome.result === 'created' ? 201 : 200).send({ ...outcome, event_id: env.eventId });
  });

  app.post<{ Params: Static<typeof BridgeParams>; Body: unknown }>('/ingest/opencity-webhook/:token', {
    schema: {
      tags: ['ingest'], security: [], operationId: 'ingestOpenCityWebhook',
      summary: "Receive an OpenCity core's own webhook (trigger all, version 1.0 or 2.0): applications and messages; 200/201 for every authenticated JSON post",
      params: BridgeParams, body: AnyJson,
      response: answers,
    },
    preValidation: authenticate,
  }, async (request, reply) => {
    const { tenant, tokenPrefix } = tenants.get(request)!;
    requireBody(request.body);
    const log = request.log.child({ bridge: true, token_prefix: tokenPrefix, tenant_id: tenant.id });
    const nul = nulRejection(request);
    if (nul) {
      const out = await ingest.reject({ tenant, source: 'opencity-webhook', reason: nul.rejected, field: nul.field, body: request.body, arrivedAt: Date.now() }, log);
      app.runtime.metrics.recordIngest('opencity-webhook', 'rejected');
      return reply.status(200).send({ ...out, event_id: null });
    }
    const outcome = await bridge.receive(tenant, request.body, Date.now(), log);
    log.debug({ result: outcome.result, type: outcome.type }, 'opencity webhook bridge');
    app.runtime.metrics.recordIngest('opencity-webhook', outcome.result);
    return reply.status(outcome.result === 'created' ? 201 : 200).send(outcome);
  });
};
