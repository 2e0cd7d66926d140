/**
 * The HTTP application of messo: every resource registered in one place, like Svix's merged
 * routers. The app is separate from the server that listens (src/server.ts), so tests build it
 * the same way. Auth is a hook on the `/api` subtree; the ingest and the inspector's capture
 * URL sit outside it, because their credential is in the URL.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { authPlugin, hasAdminToken } from './http-common/auth.js';
import { ApiError } from './http-common/errors.js';
import { createBaseApp } from './http-common/base.js';
import { registerRateLimits } from './http-common/quotas.js';
import { problems, text } from './http-common/openapi.js';
import { dashboardPlugin } from './http/dashboard.js';
import { applicationRoutes } from './http/routes/applications.js';
import { deliveryRoutes } from './http/routes/deliveries.js';
import { eventRoutes } from './http/routes/events.js';
import { healthRoutes } from './http/routes/health.js';
import { ingestTokenRoutes } from './http/routes/ingest-tokens.js';
import { opencityIngestRoutes } from './http/routes/opencity-ingest.js';
import { serviceRoutes } from './http/routes/services.js';
import { tenantRoutes } from './http/routes/tenants.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { inspectorApiRoutes, inspectorPublicRoutes } from './inspector/index.js';
import type { Runtime } from './runtime.js';

export interface AppOptions {
  /** sha256 (hex) of the admin token; the token itself is never kept. */
  adminTokenHash: string;
  /** Request logs; false for none (tests). Default: the runtime's logger. */
  logger?: Logger | false;
}

export async function buildApp(runtime: Runtime, opts: AppOptions): Promise<FastifyInstance> {
  const app = await createBaseApp(runtime, { logger: opts.logger ?? runtime.log });
  await registerRateLimits(app);

  await app.register(healthRoutes);
  // With MESSO_METRICS_PORT, /metrics has a listener of its own (src/server.ts) and none here;
  // otherwise it needs the admin token: queue depths and webhook ids are not for everyone.
  if (runtime.config.metricsPort === null) {
    app.get('/metrics', {
      schema: {
        tags: ['operations'], operationId: 'metrics', summary: 'Prometheus metrics (admin token)', security: [{ bearer: [] }],
        response: { ...text('text/plain', 'Prometheus text exposition format'), ...problems(401) },
      },
    }, async (request, reply) => {
      if (!hasAdminToken(request, opts.adminTokenHash)) throw new ApiError('unauthorized', 'send Authorization: Bearer <admin token>, or serve metrics on a port of their own (MESSO_METRICS_PORT)');
      const { registry } = runtime.metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  }
  // Outside /api: an OpenCity core sends no auth header, the token is in the URL.
  await app.register(opencityIngestRoutes);
  await app.register(async (api) => {
    // The API speaks JSON only: without this, Fastify's built-in text/plain parser turns a
    // text body into a 400 "must be object" instead of the 415 a client needs to see.
    api.removeContentTypeParser('text/plain');
    // The router ignores a trailing slash, so `/api/events/` (an empty id) would answer the list:
    // no documented path ends with one, and an empty id names nothing.
    api.addHook('onRequest', async (request) => {
      const path = request.url.split('?')[0];
      if (path.length > 1 && path.endsWith('/')) throw new ApiError('not_found', `no such resource: ${path} ends with "/" (an empty id?)`);
    });
    await api.register(authPlugin, { adminTokenHash: opts.adminTokenHash });
    await api.register(tenantRoutes);
    await api.register(serviceRoutes);
    await api.register(applicationRoutes);
    await api.register(eventRoutes);
    await api.register(webhookRoutes);
    await api.register(deliveryRoutes);
    await api.register(ingestTokenRoutes);
    await api.register(inspectorApiRoutes, { prefix: '/inspector' });
  }, { prefix: '/api' });
  // The capture URL /in/<bin>/… and the anonymous bins of /public/inspector.
  await app.register(inspectorPublicRoutes);
  // Last: its catch-all for client routes must not take a path any route above serves.
  await app.register(dashboardPlugin());
  return app;
}
