/** Liveness and readiness, outside /api and without authentication. */
import type { FastifyPluginAsync } from 'fastify';
import { ref } from '../../http-common/components.js';
import { ok, problems } from '../../http-common/openapi.js';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  const tags = ['operations'];
  app.get('/healthz', {
    schema: { tags, operationId: 'healthz', summary: 'The process is alive', security: [], response: ok(200, ref('Status')) },
  }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    schema: { tags, operationId: 'readyz', summary: 'The store answers', security: [], response: { ...ok(200, ref('Status')), ...problems(503) } },
  }, async (request, reply) => {
    try {
      await app.runtime.store.ping();
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'store not reachable');
      return reply.status(503).type('application/problem+json').send({
        type: 'urn:messo:problem:unavailable', title: 'Service unavailable', status: 503,
        detail: 'the store is not reachable', request_id: request.id,
      });
    }
  });
};
