/**
 * Running messo: the API (and, by default, the dispatcher) in one process, with graceful
 * shutdown. `messo worker` runs the dispatcher alone (src/worker.ts).
 *
 * Start-up order: the port is settled first (port 0 picks a free one), so the configuration,
 * and with it the public URL that bin URLs and the own-inspector exception name, is final
 * before the runtime is built from it; then the store, the runtime, the engine, the app.
 */
import type { FastifyInstance } from 'fastify';
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { withPort, type Config } from './config.js';
import { startEngine } from './engine.js';
import { createLogger } from './logger.js';
import { createRuntime } from './runtime.js';
import { openStore, resolveKeyring, type Store } from './store/index.js';
import { listenMetrics, type MetricsListener } from './http-common/metrics-listener.js';
import { resolveAdminToken, type AdminToken } from './usecases/admin-token.js';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  /** The configuration this server runs with: the port and public URL are the real ones. */
  config: Readonly<Config>;
  url: string;
  admin: AdminToken;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger | false;
  /** The dispatcher (unless config.dispatcher is off) and retention; default true. */
  engine?: boolean;
}

/** A port that is free now on this host: the kernel's pick for port 0, given back at once. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const addr = probe.address();
      probe.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  // A free port can be taken by another process between the probe and the listen: rare, and
  // then the whole start is simply done again on a new one.
  for (let tries = 0; ; tries++) {
    try {
      return await startOn(config.port === 0 ? withPort(config, await freePort(config.host)) : config, opts);
    } catch (err) {
      if (config.port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 4) throw err;
    }
  }
}

async function startOn(config: Config, opts: StartOptions): Promise<RunningServer> {
  const log = opts.logger === false ? createLogger('silent') : opts.logger ?? createLogger(config.logLevel);
  const store = await openStore(config.databaseUrl, { keyring: resolveKeyring(config), cloudEventsTypePrefix: config.cloudEventsTypePrefix, fanoutChunk: config.fanoutChunk });
  const runtime = createRuntime({ config, store, log });
  const engine = opts.engine === false ? null : startEngine(runtime);
  let app: FastifyInstance | null = null;
  let metrics: MetricsListener | null = null;
  const stopAll = async () => {
    await metrics?.close();
    if (app) await app.close();
    await engine?.stop();
    await runtime.close();
    await store.close();
  };
  try {
    const admin = await resolveAdminToken(store, config);
    app = await buildApp(runtime, { adminTokenHash: admin.hash, logger: opts.logger === false ? false : log });
    const url = await app.listen({ port: config.port, host: config.host });
    if (config.metricsPort !== null) metrics = await listenMetrics(runtime.metrics.registry, config.metricsPort, config.host);
    let stopping: Promise<void> | null = null;
    return {
      app,
      store,
      config: runtime.config,
      url,
      admin,
      // Idempotent: the first call does the work, later calls wait for it.
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/**
 * Stops gracefully on SIGTERM/SIGINT: in-flight requests and deliveries finish (the dispatcher
 * gives them 10 s), then the store closes. Should that take longer than `forceAfterMs`, or a
 * second signal come, the process exits at once: a deploy never waits on a stuck shutdown, and
 * whatever was claimed comes due again when its lease runs out.
 */
export function stopOnSignals(stop: () => Promise<void>, log: Logger, forceAfterMs = 30_000): void {
  let count = 0;
  const handler = (signal: string) => {
    count++;
    if (count > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down: finishing in-flight requests and deliveries');
    setTimeout(() => {
      log.error({ after_ms: forceAfterMs }, 'shutdown did not finish in time: exiting now');
      process.exit(1);
    }, forceAfterMs).unref();
    stop().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}
