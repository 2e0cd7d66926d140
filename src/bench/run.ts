/**
 * `npm run bench`: delivery throughput and latency, next to a plain undici loop posting the
 * same bodies to the same receiver in the same run. Not a test: it reports, it does not gate.
 *
 *   npm run bench -- [--events 20000] [--concurrency 10] [--store sqlite|postgres]
 *                    [--workers 0|1|2|4] [--endpoints 1] [--paced-seconds 5] [--rate 1000] [--json file]
 *
 * `--endpoints K` spreads the events over K receiver origins (one webhook each): an endpoint is
 * served by one dispatcher at a time, so more workers only help with more endpoints.
 *
 * Phases: (1) plain loop: N POSTs with `concurrency` in flight; (2) messo throughput: N events
 * ingested in batches of 1,000 into an API process, then `workers` dispatcher processes
 * (default 1) started on the queue, rate = deliveries between the first and the last arrival —
 * the dispatcher's own speed, apart from ingest; with `--workers 0` the API process dispatches
 * while it ingests, and the rate is from the first batch to the last arrival; (3) messo latency:
 * events at `rate`/s for `paced-seconds`, from "accepted by the API" to "received".
 * Traffic stays on 127.0.0.1.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { sampleApplication } from '../domain/sample.js';
import { renderApplication } from '../domain/application.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const N = Number(args.get('events') ?? 20_000);
const CONCURRENCY = Number(args.get('concurrency') ?? 10);
const STORE = args.get('store') ?? 'sqlite';
const WORKERS = Number(args.get('workers') ?? 1);
const ENDPOINTS = Number(args.get('endpoints') ?? 1);
const PACED_SECONDS = Number(args.get('paced-seconds') ?? 5);
const RATE = Number(args.get('rate') ?? 1000);
const ADMIN = 'bench-admin-token-0123456789';
const BIN = fileURLToPath(new URL('../../../bin/messo.js', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

function request(child: ChildProcess, cmd: string): Promise<any> {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send({ cmd });
  });
}

async function startReceiver(): Promise<{ child: ChildProcess; url: string; urls: string[] }> {
  const child = fork(fileURLToPath(new URL('./receiver.js', import.meta.url)), [String(ENDPOINTS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { ports } = await new Promise<{ ports: number[] }>((resolve) => child.once('message', resolve as never));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  return { child, url: urls[0], urls };
}

function startMesso(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const execArgv = args.length && process.env.MESSO_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MESSO_BENCH_PROFILE}`] : [];
  const child = fork(BIN, args, { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`messo ${args[0]} exited (${code}):\n${out}`)));
    if (args[0] === 'worker') setTimeout(() => resolve({ child, url: '' }), 500);
  });
}

async function api(base: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

function snapshotEvents(n: number, tenant: string, services: string[] = []) {
  return Array.from({ length: n }, (_, i) => {
    const doc = sampleApplication(tenant, Date.now());
    if (services.length > 0) doc.service_id = services[i % services.length];
    return { event_id: randomUUID(), type: 'application.created', data: { application: doc } };
  });
}

/** N POSTs, `concurrency` in flight per receiver origin, like messo's per-endpoint limit. */
async function plainLoop(urls: string[], bodies: string[]): Promise<number> {
  const pools = urls.map((u) => new Pool(u, { connections: CONCURRENCY, pipelining: 1 }));
  let next = 0;
  const t0 = now();
  await Promise.all(pools.flatMap((pool) => Array.from({ length: CONCURRENCY }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await pool.request({ path: '/plain', method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.body.dump();
    }
  })));
  const rate = bodies.length / ((now() - t0) / 1000);
  await Promise.all(pools.map((p) => p.close()));
  return rate;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'messo-bench-'));
  const receiver = await startReceiver();
  const procs: ChildProcess[] = [];
  const pgUrl = args.get('database-url') ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${Date.now().toString(36)}`;
  const databaseUrl = STORE === 'postgres' ? `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}` : `sqlite:${join(dir, 'bench.db')}`;
  const env = {
    MESSO_PORT: '0', MESSO_DATABASE_URL: databaseUrl, MESSO_ADMIN_TOKEN: ADMIN, MESSO_LOG_LEVEL: 'error',
    MESSO_ALLOWED_TARGETS: '127.0.0.0/8', MESSO_ENDPOINT_CONCURRENCY: String(CONCURRENCY), MESSO_BODY_LIMIT: '64mb',
  };
  try {
    // 1. Plain loop with the bodies messo will send.
    const tenant = randomUUID();
    const bodies = snapshotEvents(N, tenant).map((e) => JSON.stringify({ ...renderApplication(e.data.application, 1), event_id: e.event_id }));
    await plainLoop(receiver.urls, bodies.slice(0, Math.min(2000, N))); // warm-up
    const plainRate = await plainLoop(receiver.urls, bodies);
    await request(receiver.child, 'reset');

    // 2. messo: one API process (dispatching itself, or not when workers are given) + workers.
    const server = await startMesso(WORKERS > 0 ? ['serve', '--no-dispatcher'] : ['serve'], env);
    procs.push(server.child);
    const t = await api(server.url, ADMIN, 'POST', '/api/tenants', { name: 'Comune di Benchmark' });
    const key = (await api(server.url, ADMIN, 'POST', `/api/tenants/${t.id}/keys`, {})).key;
    // One webhook per receiver origin; each event goes to one of them (by service).
    const services: string[] = [];
    for (const [i, url] of receiver.urls.entries()) {
      const svc = await api(server.url, key, 'POST', '/api/services', { name: `Servizio ${i}` });
      services.push(svc.id);
      await api(server.url, key, 'POST', '/api/webhooks', { title: `bench ${i}`, endpoint: `${url}/hook`, trigger: 'all', filters: [svc.id] });
    }

    const events = snapshotEvents(N, t.id, services);
    const t0 = now();
    for (let i = 0; i < events.length; i += 1000) await api(server.url, key, 'POST', '/api/events/batch', { events: events.slice(i, i + 1000) });
    const ingestRate = N / ((now() - t0) / 1000);
    for (let i = 0; i < WORKERS; i++) procs.push((await startMesso(['worker'], env)).child);
    for (;;) {
      const { count } = await request(receiver.child, 'count');
      if (count >= N) break;
      if (now() - t0 > 600_000) throw new Error(`only ${count} of ${N} delivered after 10 minutes`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const { arrivals: all } = await request(receiver.child, 'arrivals');
    const times = (all as [string, number][]).map(([, at]) => at).sort((a, b) => a - b);
    const messoRate = WORKERS > 0 ? (N - 1) / ((times[times.length - 1] - times[0]) / 1000) : N / ((times[times.length - 1] - t0) / 1000);
    await request(receiver.child, 'reset');

    // 3. Latency at a steady rate: batches of 10 every 10 ms = 1,000 events/s.
    const accepted = new Map<string, number>();
    const perTick = Math.max(1, Math.round(RATE / 100));
    const ticks = PACED_SECONDS * 100;
    const start = now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < ticks; i++) {
      const batch = snapshotEvents(perTick, t.id, services);
      inflight.push(api(server.url, key, 'POST', '/api/events/batch', { events: batch }).then(() => {
        const at = now();
        for (const e of batch) accepted.set(e.data.application.id, at);
      }));
      const due = start + (i + 1) * 10;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(inflight);
    const pacedRate = accepted.size / ((now() - start) / 1000);
    for (;;) {
      const { count } = await request(receiver.child, 'count');
      if (count >= accepted.size) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const { arrivals } = await request(receiver.child, 'arrivals');
    const lat = (arrivals as [string, number][]).map(([id, at]) => at - (accepted.get(id) ?? at)).sort((a, b) => a - b);

    const result = {
      date: new Date().toISOString(), events: N, concurrency: CONCURRENCY, store: STORE, workers: WORKERS, endpoints: ENDPOINTS,
      plain_loop_per_s: Math.round(plainRate),
      messo_deliveries_per_s: Math.round(messoRate),
      ratio: Number((messoRate / plainRate).toFixed(2)),
      ingest_events_per_s: Math.round(ingestRate),
      paced_rate_per_s: Math.round(pacedRate),
      latency_ms: { p50: Number(pct(lat, 0.5).toFixed(1)), p99: Number(pct(lat, 0.99).toFixed(1)), max: Number(lat[lat.length - 1].toFixed(1)) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\nplain undici loop: ${result.plain_loop_per_s}/s   messo (${STORE}, ${WORKERS || 'in-process'} workers, ${ENDPOINTS} endpoints): ${result.messo_deliveries_per_s}/s  = ${Math.round(result.ratio * 100)} %\n`);
    process.stdout.write(`latency accepted→received at ${result.paced_rate_per_s} events/s: p50 ${result.latency_ms.p50} ms, p99 ${result.latency_ms.p99} ms\n`);
    if (args.get('json')) writeFileSync(args.get('json')!, JSON.stringify(result, null, 2));
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
    receiver.child.send({ cmd: 'exit' });
    if (STORE === 'postgres') {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await c.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
