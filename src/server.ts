/**
 * Running messo: the API (and, by default, the dispatcher) in one process, with graceful
 * shutdown. `messo worker` runs the dispatcher alone (src/cli).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { sha256 } from './domain/ids.js';
import { buildApp } from './http/app.js';
import type { AppContext } from './http/context.js';
import { createLogger } from './logger.js';
import { engineFor } from './engine.js';
import { inspectorApiPlugin, inspectorCapturePlugin } from './inspector/index.js';
import { openStore } from './store/index.js';
import type { Store } from './store/store.js';

const ADMIN_HASH_KEY = 'admin_token_sha256';

export interface AdminToken {
  hash: string;
  /** Set only when the token was generated now: it is shown this once. */
  generated: string | null;
  source: 'env' | 'stored' | 'generated';
}

/** The admin token: from MESSO_ADMIN_TOKEN, or generated at first start and stored hashed. */
export async function resolveAdminToken(store: Store, config: Config, reset = false): Promise<AdminToken> {
  if (config.adminToken) return { hash: sha256(config.adminToken), generated: null, source: 'env' };
  const stored = reset ? null : await store.getSetting(ADMIN_HASH_KEY);
  if (stored) return { hash: stored, generated: null, source: 'stored' };
  const token = `messo_admin_${randomBytes(24).toString('base64url')}`;
  await store.setSetting(ADMIN_HASH_KEY, sha256(token));
  return { hash: sha256(token), generated: token, source: 'generated' };
}

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  url: string;
  admin: AdminToken;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger | false;
  /**
   * Adds engine hooks and plugins to the context before the app is built. Default: the
   * delivery engine (outbound client, metrics, and the dispatcher unless config.dispatcher is off).
   */
  extend?: (ctx: AppContext, log: Logger) => Promise<{ stop(): Promise<void> } | void>;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.logger === false ? createLogger('silent') : opts.logger ?? createLogger(config.logLevel);
  const store = await openStore(config.databaseUrl);
  const admin = await resolveAdminToken(store, config);
  const ctx: AppContext = { config, store, adminTokenHash: admin.hash, plugins: [], apiPlugins: [] };
  ctx.plugins!.push(inspectorCapturePlugin);
  ctx.apiPlugins!.push(inspectorApiPlugin);
  const engine = await (opts.extend ?? engineFor(config))(ctx, log);
  const app = await buildApp(ctx, { logger: opts.logger === false ? false : log });
  const address = await app.listen({ port: config.port, host: config.host });
  // Port 0 picks a free port: the derived public URL (bin URLs, the banner) must name it.
  if (!config.publicUrlSet && config.port === 0) {
    const port = new URL(address).port;
    config.publicUrl = config.publicUrl.replace(/:0$/, `:${port}`);
  }
  let stopping: Promise<void> | null = null;
  return {
    app,
    store,
    url: address,
    admin,
    stop() {
      // Idempotent: the first call does the work, later calls wait for it.
      stopping ??= (async () => {
        await app.close();
        if (engine) await engine.stop();
        await store.close();
      })();
      return stopping;
    },
  };
}

/** Stops gracefully on SIGTERM/SIGINT; a second signal exits at once. */
export function stopOnSignals(stop: () => Promise<void>, log: Logger): void {
  let count = 0;
  const handler = (signal: string) => {
    count++;
    if (count > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down: finishing in-flight requests and deliveries');
    stop().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}
