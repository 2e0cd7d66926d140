/**
 * Scale-out tests on PostgreSQL with real processes: one `messo serve --no-dispatcher` and
 * `messo worker`s sharing one fresh schema, receivers that tally what arrives, each worker's
 * own attempt count (its /metrics), and a PostgreSQL server restart that always leaves the
 * server running.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, Client, waitUntil, type Receiver, type ReceivedRequest } from './harness.js';
import { freshPgSchema, pgAdmin, type PgSchema } from './pg.js';
import { startMesso, type Proc } from './proc.js';

const run = promisify(execFile);

/** Short request timeouts give a lease of 2 × (1000 + 500) + 2000 = 5 s: takeovers within seconds. */
export const SHORT_TIMEOUTS = { MESSO_REQUEST_TIMEOUT_MS: '1000', MESSO_CONNECT_TIMEOUT_MS: '500' };

export interface WorkerProc {
  proc: Proc;
  /** Attempts this process made, by outcome (success, retry, failed), from its /metrics. */
  attempts(): Promise<Record<string, number>>;
  /** Its dispatcher's id: the lease owner of what it claims (from /healthz). */
  dispatcherId(): Promise<string>;
}

export interface Cluster {
  pg: PgSchema;
  env: Record<string, string>;
  serve: Proc;
  workers: WorkerProc[];
  /** A client with the tenant's API key. */
  api: Client;
  addWorker(): Promise<WorkerProc>;
  /** Everything this cluster started is still running (nothing crashed). */
  alive(): boolean;
  /** SIGTERM to every process (SIGKILL after a grace), then the schema goes. */
  close(): Promise<void>;
}

/** Starts `messo worker --port 0` and waits until it serves /metrics (store open, dispatcher on). */
export async function startWorkerProc(env: Record<string, string>): Promise<WorkerProc> {
  // Info level only for the start line that names the metrics port; the dispatcher logs warnings up.
  const proc = await startMesso(['worker', '--port', '0'], { ...env, MESSO_LOG_LEVEL: 'info' });
  let port = 0;
  try {
    await waitUntil(() => {
      if (proc.child.exitCode !== null) throw new Error(`worker exited early:\n${proc.output()}`);
      const m = /"port":(\d+)[^\n]*messo worker started/.exec(proc.output());
      if (m) port = Number(m[1]);
      return port > 0;
    }, 45_000, 'the worker to start');
  } catch (err) {
    // No orphan: it would hold the test file's process open through its pipes.
    proc.child.kill('SIGKILL');
    await proc.exited;
    throw err;
  }
  return {
    proc,
    async dispatcherId() {
      return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).dispatcher;
    },
    async attempts() {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/^messo_attempts_total\{outcome="(\w+)"\} (\d+)/gm)) out[m[1]] = Number(m[2]);
      return out;
    },
  };
}

export async function startCluster(workers: number, extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const pg = await freshPgSchema('messo_scale');
  const env = {
    MESSO_PORT: '0', MESSO_DATABASE_URL: pg.url, MESSO_ADMIN_TOKEN: ADMIN_TOKEN,
    MESSO_ALLOWED_TARGETS: '127.0.0.0/8',
    MESSO_API_REQUESTS_PER_MINUTE: '0', MESSO_MAX_CONNECTIONS_PER_ADDRESS: '1000000', MESSO_MAX_WEBHOOKS_PER_TENANT: '1000000',
    MESSO_MAX_DELIVERIES_PER_BATCH: '100000000', ...extraEnv,
  };
  const started: Proc[] = [];
  const close = async () => {
    // Workers first, so none is left mid-attempt with the API gone; then the API.
    await Promise.all(started.slice(1).map((p) => stopProc(p)));
    if (started[0]) await stopProc(started[0]);
    await pg.drop().catch(() => undefined);
  };
  try {
    // The API first: it applies the migrations, so workers start on a ready schema.
    const serve = await startMesso(['serve', '--no-dispatcher'], env, 30_000);
    started.push(serve);
    const admin = new Client(serve.url!, ADMIN_TOKEN);
    const t = await admin.post('/api/tenants', { name: 'Comune di Scala' });
    const k = await admin.post(`/api/tenants/${t.body.id}/keys`, {});
    if (k.status !== 201) throw new Error(`key: ${k.status} ${k.text}`);
    const cluster: Cluster = {
      pg, env, serve, workers: [], api: admin.as(k.body.key),
      async addWorker() {
        const w = await startWorkerProc(env);
        started.push(w.proc);
        cluster.workers.push(w);
        return w;
      },
      alive: () => started.every((p) => p.child.exitCode === null && p.child.signalCode === null),
      close,
    };
    await Promise.all(Array.from({ length: workers }, () => cluster.addWorker()));
    return cluster;
  } catch (err) {
    await close();
    throw err;
  }
}

/** SIGTERM, then SIGKILL if it has not exited within graceMs. */
export async function stopProc(p: Proc, graceMs = 15_000): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([p.exited, new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), graceMs); })]);
  clearTimeout(timer);
  if (code !== 'late') return code;
  p.child.kill('SIGKILL');
  return p.exited;
}

export async function createWebhook(api: Client, body: Record<string, unknown>): Promise<string> {
  const res = await api.post('/api/webhooks', { trigger: 'all', ...body });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
  return res.body.id as string;
}

export async function createService(api: Client, name: string): Promise<string> {
  const res = await api.post('/api/services', { name });
  if (res.status !== 201) throw new Error(`service: ${res.status} ${res.text}`);
  return res.body.id as string;
}

/** `n` snapshots of new applications (one delivery each per matching webhook), service chosen by index. */
export function snapshots(n: number, service: (i: number) => string, prefix = 'app') {
  return Array.from({ length: n }, (_, i) => ({
    event_id: randomUUID(), type: 'application.snapshot',
    data: { application: { id: `${prefix}-${i}`, service_id: service(i), status: 2000 } },
  }));
}

/** Posts events in batches of 1,000 (the API's maximum); throws unless each is taken whole. */
export async function ingest(api: Client, events: object[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const chunk = events.slice(i, i + 1000);
    const res = await api.post('/api/events/batch', { events: chunk });
    if (res.body?.created !== chunk.length) throw new Error(`batch at ${i}: ${res.status} ${res.text.slice(0, 300)}`);
  }
}

/**
 * Which event a body is about: its pratica and status (the body's event_id is the delivery's own,
 * as the core's is its send job's, so it cannot name the event).
 */
export const eventKey = (e: { data: { application: { id: string; status: number } } }): string =>
  `${e.data.application.id} ${e.data.application.status}`;

export interface Arrival {
  webhookId: string;
  /** `eventKey` of the event the body is about. */
  eventId: string;
  at: number;
  /** What the receiver answered. */
  status: number;
  body: Record<string, any>;
}

/**
 * Receivers that tally arrivals as they come (the test polls cheap counters, not 5,000 bodies),
 * and answer `answer(request)`: a status and a delay.
 */
export class Tally {
  readonly arrivals: Arrival[] = [];
  readonly byWebhookId = new Map<string, Arrival[]>();
  readonly events = new Set<string>();
  /** Requests received and not yet answered, now and at most. */
  active = 0;
  maxActive = 0;

  constructor(readonly answer: (r: { webhookId: string; body: Record<string, any>; index: number; seen: boolean }) => { status?: number; delayMs?: number } = () => ({})) {}

  attach(...receivers: Receiver[]): void {
    for (const r of receivers) r.handler = (req) => this.record(req);
  }

  get duplicates(): number {
    return this.arrivals.length - this.byWebhookId.size;
  }

  private record(req: ReceivedRequest) {
    const webhookId = String(req.headers['webhook-id']);
    const body = JSON.parse(req.body) as Record<string, any>;
    const seen = this.byWebhookId.has(webhookId);
    const { status = 200, delayMs = 0 } = this.answer({ webhookId, body, index: this.arrivals.length, seen });
    const a: Arrival = { webhookId, eventId: `${String(body.id)} ${String(body.status)}`, at: Date.now(), status, body };
    this.arrivals.push(a);
    if (seen) this.byWebhookId.get(webhookId)!.push(a); else this.byWebhookId.set(webhookId, [a]);
    this.events.add(a.eventId);
    // Counted until the answer goes out: this timer is queued before the receiver's own (same
    // delay), so it fires just before the response is written — before any next request can come.
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    setTimeout(() => { this.active--; }, delayMs);
    return { status, delayMs, body: 'ok' };
  }
}

/** Runs SQL in the cluster's schema. */
export function inSchema<T = any>(pg: PgSchema, sql: string, params: unknown[] = []): Promise<T[]> {
  return pgAdmin(async (c) => {
    await c.query(`SET search_path TO "${pg.schema}"`);
    return (await c.query(sql, params)).rows as T[];
  });
}

/**
 * Samples who owns each endpoint (every 100 ms) until stopped: the owners each endpoint had.
 * Owner ids are the dispatchers' own (`wrk_…`), one per process.
 */
export function watchOwners(pg: PgSchema): { stop(): Promise<Map<string, Set<string>>> } {
  const owners = new Map<string, Set<string>>();
  let on = true;
  const loop = (async () => {
    for (let i = 0; on && i < 3000; i++) {
      const rows = await inSchema<{ endpoint_key: string; owner: string | null }>(pg, 'SELECT endpoint_key, owner FROM endpoints').catch(() => []);
      for (const r of rows) if (r.owner) (owners.get(r.endpoint_key) ?? owners.set(r.endpoint_key, new Set()).get(r.endpoint_key)!).add(r.owner);
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  return { stop: async () => { on = false; await loop; return owners; } };
}

export function describeOwners(owners: Map<string, Set<string>>): string {
  const all = new Set([...owners.values()].flatMap((s) => [...s]));
  return `${all.size} distinct owners; per endpoint ${[...owners.values()].map((s) => s.size).join('/')}`;
}

// ---- the PostgreSQL server itself (the machine's cluster, as its environment notes start it)

function pgVersion(): string {
  return readdirSync('/etc/postgresql')[0];
}

async function pgctl(action: 'start' | 'restart' | 'status'): Promise<number> {
  try {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', action], { timeout: 60_000 });
    return 0;
  } catch (err) {
    return typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
  }
}

async function acceptsConnections(): Promise<boolean> {
  return pgAdmin((c) => c.query('SELECT 1')).then(() => true, () => false);
}

/** Restarts the server (fast shutdown: every connection is cut) and waits until it answers again. */
export async function restartPg(): Promise<void> {
  const code = await pgctl('restart');
  if (code !== 0) throw new Error(`pg_ctlcluster restart exited with ${code}`);
  await waitUntil(acceptsConnections, 30_000, 'PostgreSQL to accept connections after the restart');
}

/** Whatever happened, leaves the server running: started if it is not. */
export async function ensurePgRunning(): Promise<void> {
  if (await acceptsConnections()) return;
  if ((await pgctl('status')) !== 0) await pgctl('start');
  await waitUntil(acceptsConnections, 30_000, 'PostgreSQL to accept connections');
}
