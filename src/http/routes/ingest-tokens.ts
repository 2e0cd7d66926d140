/**
 * Ingest tokens of the calling tenant: the secret an OpenCity core puts in its KAFKA_URL
 * (`<public url>/ingest/opencity/<token>`). The token is answered once, at creation; after
 * that only its prefix is shown. Revoking one refuses the next request that uses it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { IngestToken } from '../../store/index.js';
import { tenantOf } from '../../http-common/auth.js';
import { notFound } from '../../http-common/errors.js';
import { ref } from '../../http-common/components.js';
import { ok } from '../../http-common/openapi.js';
import { IdParams, iso } from '../../http-common/schemas.js';

const TokenBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: 'opencity', description: 'e.g. the core instance it is for' })),
}, { additionalProperties: false });

const tokenOut = (t: IngestToken) => ({
  id: t.id, name: t.name, prefix: t.prefix, created_at: iso(t.created_at)!, revoked_at: iso(t.revoked_at), last_used_at: iso(t.last_used_at),
});

export const ingestTokenRoutes: FastifyPluginAsync = async (app) => {
  const { store, config } = app.runtime;
  const tags = ['ingest'];

  app.post<{ Body: Static<typeof TokenBody> }>('/ingest-tokens', {
    schema: {
      tags, operationId: 'createIngestToken', summary: 'Create an ingest token for an OpenCity core; the token is shown once',
      body: TokenBody, response: ok(201, ref('IngestToken'), 'Created'),
    },
  }, async (request, reply) => {
    const issued = await store.ingestTokens.create(await tenantOf(request), request.body?.name ?? 'opencity');
    return reply.status(201).send({
      ...tokenOut(issued), token: issued.token, kafka_url: `${config.publicUrl}/ingest/opencity/${issued.token}`,
      webhook_url: `${config.publicUrl}/ingest/opencity-webhook/${issued.token}`,
    });
  });

  app.get('/ingest-tokens', {
    schema: { tags, operationId: 'listIngestTokens', summary: "List this tenant's ingest tokens (prefixes only)", response: ok(200, ref('IngestTokenList')) },
  }, async (request) => ({ items: (await store.ingestTokens.list(await tenantOf(request))).map(tokenOut) }));

  app.delete<{ Params: { id: string } }>('/ingest-tokens/:id', {
    schema: { tags, operationId: 'revokeIngestToken', summary: 'Revoke an ingest token (the core is refused from the next request)', params: IdParams, response: ok(200, ref('IngestToken')) },
  }, async (request) => {
    const t = await store.ingestTokens.revoke(await tenantOf(request), request.params.id);
    if (!t) throw notFound('ingest token');
    return tokenOut(t);
  });
};
