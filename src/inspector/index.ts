/**
 * The request inspector (issue 4): two plugins that src/app.ts registers.
 *
 * - `inspectorPublicRoutes` (root): the capture endpoint `/in/<bin>/…`, the public routes
 *   `/public/inspector/…` for anonymous bins (404 unless MESSO_INSPECTOR_PUBLIC=true), and the
 *   sweep of expired bins.
 * - `inspectorApiRoutes` (under /api/inspector, behind bearer auth): tenant-scoped bins.
 */
import type { FastifyPluginAsync } from 'fastify';
import { tenantOf } from '../http-common/auth.js';
import { ApiError } from '../http-common/errors.js';
import { captureRoutes } from './capture.js';
import { binRoutes } from './routes.js';
import { BinSweeper } from './sweep.js';

export const inspectorPublicRoutes: FastifyPluginAsync = async (app) => {
  await app.register(captureRoutes);
  await app.register(async (pub) => {
    pub.addHook('onRequest', async () => {
      if (!app.runtime.config.inspectorPublic) {
        throw new ApiError('not_found', 'the public inspector is off on this server (MESSO_INSPECTOR_PUBLIC); use /api/inspector with an API key');
      }
    });
    await pub.register(binRoutes({ ownerOf: async () => null, anonymous: true }));
  }, { prefix: '/public/inspector' });

  const sweeper = new BinSweeper(app.runtime.store.inspector, app.log);
  app.addHook('onReady', async () => sweeper.start());
  app.addHook('preClose', async () => sweeper.stop());
};

export const inspectorApiRoutes: FastifyPluginAsync = async (api) => {
  await api.register(binRoutes({ ownerOf: tenantOf, anonymous: false }));
};

export { BinSweeper } from './sweep.js';
