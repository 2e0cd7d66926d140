/**
 * `messo worker`: the dispatcher alone, for scale-out next to API processes on a shared
 * database. Optionally serves /healthz and /metrics on a port of its own.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { startEngine } from './engine.js';
import { createRuntime } from './runtime.js';
import { openStore, resolveKeyring } from './store/index.js';
import { listenMetrics, type MetricsListener } from './http-common/metrics-listener.js';

export interface RunningWorker {
  stop(): Promise<void>;
  port: number | null;
}

export async function startWorker(config: Config, log: Logger, opts: { port?: number } = {}): Promise<RunningWorker> {
  const store = await openStore(config.databaseUrl, { keyring: resolveKeyring(config), cloudEventsTypePrefix: config.cloudEventsTypePrefix, fanoutChunk: config.fanoutChunk });
  // A worker is there to dispatch, whatever MESSO_DISPATCHER says for API processes.
  const runtime = createRuntime({ config: { ...config, dispatcher: true }, store, log });
  const engine = startEngine(runtime);
  let listener: MetricsListener | null = null;
  if (opts.port !== undefined) {
    // The dispatcher's id is its lease owner in the store: what an operator greps for.
    listener = await listenMetrics(runtime.metrics.registry, opts.port, config.host, () => ({ status: 'ok', dispatcher: engine.dispatcherId }));
  }
  const port = listener?.port ?? null;
  let stopping: Promise<void> | null = null;
  return {
    port,
    stop() {
      stopping ??= (async () => {
        await listener?.close();
        await engine.stop();
        await runtime.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
