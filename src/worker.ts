/**
 * `messo worker`: the dispatcher alone, for scale-out next to API processes on a shared
 * database. Optionally serves /healthz and /metrics on a port of its own.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { startEngine } from './engine.js';
import { createRuntime } from './runtime.js';
import { openStore } from './store/index.js';

export interface RunningWorker {
  stop(): Promise<void>;
  port: number | null;
}

export async function startWorker(config: Config, log: Logger, opts: { port?: number } = {}): Promise<RunningWorker> {
  const store = await openStore(config.databaseUrl);
  // A worker is there to dispatch, whatever MESSO_DISPATCHER says for API processes.
  const runtime = createRuntime({ config: { ...config, dispatcher: true }, store, log });
  const engine = startEngine(runtime);
  let server: Server | null = null;
  let port: number | null = null;
  if (opts.port !== undefined) {
    const { registry } = runtime.metrics;
    server = createServer((req, res) => {
      if (req.url === '/healthz') {
        // The dispatcher's id is its lease owner in the store: what an operator greps for.
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', dispatcher: engine.dispatcherId }));
      } else if (req.url === '/metrics') {
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      } else {
        res.writeHead(404, { 'content-type': 'application/problem+json' }).end('{"type":"urn:messo:problem:not_found","title":"Not found","status":404}');
      }
    });
    await new Promise<void>((resolve) => server!.listen(opts.port, config.host, resolve));
    const addr = server.address();
    port = typeof addr === 'object' && addr ? addr.port : null;
  }
  let stopping: Promise<void> | null = null;
  return {
    port,
    stop() {
      stopping ??= (async () => {
        if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
        await engine.stop();
        await runtime.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
