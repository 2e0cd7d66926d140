/** Liveness and readiness, outside /api and without authentication. */
import type { FastifyPluginAsync } from 'fastify';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is alive' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['operations'], summary: 'The store answers' } }, async (request, reply) => {
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
