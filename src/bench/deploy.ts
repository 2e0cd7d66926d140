/**
 * A system under test, started fresh for each group of phases: messo in the run's topology
 * (one process, or an API and N workers) on a new SQLite file or PostgreSQL schema, or
 * a peer. A fresh store per group keeps one phase's leftovers (undelivered rows, 1,000
 * fan-out webhooks) out of the next one's figures.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import { ingestFeed, type Feed, type TenantTarget } from './bodies.js';
import type { BenchOptions, IngestMode, PeerKind } from './options.js';
import { localPostgresCpu, startServe, startWorker, stopAll, type Watched } from './procs.js';

const ADMIN = 'bench-admin-token-0123456789';
const BIN = fileURLToPath(new URL('../../../bin/messo.js', import.meta.url));

export interface WebhookSpec {
  endpoint: string;
}

export interface Deployment {
  /** e.g. "messo SQLite, API + 1 worker". */
  name: string;
  url: string;
  watched: Watched[];
  /** CPU seconds used so far by the database server, when it runs on this machine (procs.ts localPostgresCpu). */
  serverCpu?: () => number | null;
  /** A new tenant whose events (spread over `services` services) go to one webhook per spec, each for every service. */
  tenant(services: number, webhooks: WebhookSpec[], mode: IngestMode): Promise<TenantTarget>;
  feed(mode: IngestMode, t: TenantTarget, n: number, batchSize?: number): Feed;
  api(token: string, method: string, path: string, body?: unknown): Promise<ApiObject>;
  /** messo_claims_total of the API process, by `found`; null when it has none (no dispatcher, the peer). */
  claims(): Promise<{ some: number; none: number } | null>;
  /** messo_fanout_jobs: events whose deliveries are still being written (0 for the peer). */
  fanoutJobs(): Promise<number>;
  stop(): Promise<void>;
}

/** What the setup calls answer, as far as the bench reads them: ids, keys, tokens. */
type ApiObject = Record<string, string>;

async function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<ApiObject> {
  const res = await fetch(base + path, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as ApiObject;
}

const metricsText = async (url: string) => (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();

/** Reads messo_claims_total from /metrics. */
async function claimCounts(url: string): Promise<{ some: number; none: number } | null> {
  const text = await metricsText(url);
  const get = (found: string) => Number(new RegExp(`^messo_claims_total\\{found="${found}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  const some = get('some');
  const none = get('none');
  return Number.isNaN(some) && Number.isNaN(none) ? null : { some: some || 0, none: none || 0 };
}

/**
 * A database URL whose server is this machine: a loopback address, or a Unix socket (a host that
 * is a path, in the URL's host or in libpq's `?host=`; `new URL` refuses `user@/db?host=…`).
 */
export function isLoopbackDatabase(url: string): boolean {
  const q = url.indexOf('?');
  const param = q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get('host');
  const host = (param ?? decodeURIComponent(new URL(url).hostname)).replace(/^\[|\]$/g, '');
  if (host === '' || host.startsWith('/') || host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

export const topologyName = (workers: number) => (workers === 0 ? 'one process' : `API + ${workers} worker${workers > 1 ? 's' : ''}`);

/**
 * messo on a fresh store. `dispatching: false` runs the API alone (`serve --no-dispatcher`, no
 * worker): ingest measured apart from delivery. Otherwise `--workers 0` is one process that
 * ingests and dispatches (`npm start`), `--workers N` an API and N `messo worker` processes.
 */
export async function deployMesso(o: BenchOptions, dispatching: boolean): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'messo-bench-'));
  const schema = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const databaseUrl = o.store === 'postgres' ? `${o.databaseUrl}${o.databaseUrl.includes('?') ? '&' : '?'}schema=${schema}` : `sqlite:${join(dir, 'bench.db')}`;
  const env = {
    MESSO_PORT: '0', MESSO_DATABASE_URL: databaseUrl, MESSO_ADMIN_TOKEN: ADMIN, MESSO_LOG_LEVEL: 'error',
    MESSO_ALLOWED_TARGETS: '127.0.0.0/8', MESSO_ENDPOINT_CONCURRENCY: String(o.concurrency), MESSO_BODY_LIMIT: '64mb',
    // The load generator is one address and one key: the quotas would measure themselves.
    MESSO_API_REQUESTS_PER_MINUTE: '0', MESSO_MAX_CONNECTIONS_PER_ADDRESS: '1000000', MESSO_MAX_CONNECTIONS: '1000000',
    MESSO_MAX_WEBHOOKS_PER_TENANT: '1000000', MESSO_MAX_DELIVERIES_PER_BATCH: '100000000',
  };
  const children: ChildProcess[] = [];
  const watched: Watched[] = [];
  const cleanup = async () => {
    await stopAll(children);
    if (o.store === 'postgres') {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: o.databaseUrl });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await c.end();
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const serveArgs = dispatching && o.workers === 0 ? [] : ['--no-dispatcher'];
    const server = await startServe(BIN, serveArgs, env);
    children.push(server.child);
    watched.push({ role: 'api', child: server.child });
    if (dispatching) {
      for (let i = 1; i <= o.workers; i++) {
        const w = await startWorker(BIN, env);
        children.push(w);
        watched.push({ role: `worker ${i}`, child: w });
      }
    }
    const store = o.store === 'postgres' ? 'PostgreSQL' : 'SQLite';
    const name = `messo ${store}, ${dispatching ? topologyName(o.workers) : 'API alone (no dispatcher)'}`;
    return {
      name, url: server.url, watched,
      ...(o.store === 'postgres' && isLoopbackDatabase(o.databaseUrl) ? { serverCpu: localPostgresCpu } : {}),
      api: (token, method, path, body) => call(server.url, token, method, path, body),
      claims: () => claimCounts(server.url),
      fanoutJobs: async () => Number(/^messo_fanout_jobs (\d+)$/m.exec(await metricsText(server.url))?.[1] ?? 0),
      async tenant(services, webhooks, mode) {
        const t = await call(server.url, ADMIN, 'POST', '/api/tenants', { name: `Comune di Benchmark ${Date.now()}` });
        const key = (await call(server.url, ADMIN, 'POST', `/api/tenants/${t.id}/keys`, {})).key;
        const ids: string[] = [];
        for (let i = 0; i < services; i++) ids.push((await call(server.url, key, 'POST', '/api/services', { name: `Servizio ${i}` })).id);
        // Webhooks 8 at a time: 1,000 of them one by one take seconds the fan-out phase does not measure.
        let next = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (next < webhooks.length) {
            const i = next++;
            const { endpoint } = webhooks[i];
            // With one webhook per origin each webhook takes the events of "its" service; fan-out webhooks take them all.
            const filters = webhooks.length === services ? [ids[i]] : ids;
            await call(server.url, key, 'POST', '/api/webhooks', { title: `bench ${i}`, endpoint: `${endpoint}/hook`, trigger: 'all', filters, version: '1.0' });
          }
        }));
        const ingestToken = mode === 'opencity' ? (await call(server.url, key, 'POST', '/api/ingest-tokens', { name: 'bench core' })).token : null;
        return { tenantId: t.id, key, ingestToken, services: ids };
      },
      feed: (mode, t, n, batchSize) => ingestFeed(mode, t, n, batchSize),
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * A peer, one process that answers POST /api/events with 201 and, unless `dispatching` is
 * false, sends every event to `target` with undici. Both take the same single-POST bodies as
 * messo; neither has tenants, webhooks or fan-out.
 * - `bullmq` (peer-bullmq.ts): the 201 once the job is in Redis; what a team writes in an afternoon.
 * - `floor` (peer-floor.ts): the 201 once the event and its delivery are committed to a SQLite
 *   file of its own, or with `--store postgres` to a schema of its own (dropped at its exit);
 *   the least a durable webhook system does.
 */
export async function deployPeer(o: BenchOptions, kind: PeerKind, dispatching: boolean, target: string): Promise<Deployment> {
  const { fork } = await import('node:child_process');
  const onPostgres = kind === 'floor' && o.store === 'postgres';
  const dir = kind === 'floor' && !onPostgres ? mkdtempSync(join(tmpdir(), 'messo-bench-floor-')) : null;
  const env = kind === 'bullmq' ? { PEER_QUEUE: `bench-${Date.now().toString(36)}` }
    : onPostgres ? { PEER_DATABASE_URL: o.databaseUrl, PEER_SCHEMA: `bench_floor_${Date.now().toString(36)}`, PEER_COPIES: String(o.floorCopies) }
      : { PEER_DB: join(dir!, 'floor.db'), PEER_COPIES: String(o.floorCopies) };
  const child = fork(fileURLToPath(new URL(`./peer-${kind}.js`, import.meta.url)), [], {
    env: { ...process.env, ...env, PEER_TARGET: `${target}/hook`, PEER_CONCURRENCY: String(o.concurrency), PEER_WORKER: dispatching ? '1' : '0' },
    execArgv: process.env.MESSO_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MESSO_BENCH_PROFILE}`] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string }));
    child.once('exit', (code) => reject(new Error(`${kind} peer exited (${code})${kind === 'bullmq' ? '; is Redis on 127.0.0.1:6379?' : ''}`)));
  });
  const label = kind === 'bullmq' ? 'BullMQ peer, one process'
    : `floor peer, ${onPostgres ? 'PostgreSQL' : 'SQLite'}, one process${o.floorCopies > 1 ? `, data written ${o.floorCopies} times` : ''}`;
  return {
    name: `${label}${dispatching ? '' : ' (no worker)'}`, url, watched: [{ role: 'peer', child }],
    ...(onPostgres && isLoopbackDatabase(o.databaseUrl) ? { serverCpu: localPostgresCpu } : {}),
    api: () => Promise.reject(new Error(`the ${kind} peer has no API`)),
    claims: () => Promise.resolve(null),
    fanoutJobs: () => Promise.resolve(0),
    tenant: async (services) => ({ tenantId: 'peer', key: 'peer', ingestToken: null, services: Array.from({ length: services }, (_, i) => `svc-${i}`) }),
    feed: (_mode, t, n) => ingestFeed('single', t, n),
    stop: async () => {
      await stopAll([child]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
