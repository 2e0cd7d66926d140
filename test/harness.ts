/**
 * Test harness: a real messo server on 127.0.0.1:0 over a fresh SQLite file (or a fresh
 * PostgreSQL schema), plus a small HTTP client and real receivers. No mocks of the store or
 * of HTTP. Loopback is opened in the SSRF guard for tests only, through MESSO_ALLOWED_TARGETS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer, type StartOptions } from '../src/server.js';
import { checkAnswer } from './contract.js';
import { freshPgSchema } from './pg.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer extends RunningServer {
  dir: string;
  api: Client;
  adminApi: Client;
  close(): Promise<void>;
}

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class Client {
  constructor(readonly base: string, readonly token: string | null, readonly extraHeaders: Record<string, string> = {}) {}

  as(token: string | null, extra: Record<string, string> = {}): Client {
    return new Client(this.base, token, extra);
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const h: Record<string, string> = { ...this.extraHeaders, ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    // Every answer is checked against the server's OpenAPI document (test/contract.ts).
    await checkAnswer(this.base, method, this.base + path, res, parsed, text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, headers?: Record<string, string>) { return this.request<T>('GET', path, undefined, headers); }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) { return this.request<T>('POST', path, body, headers); }
  patch<T = any>(path: string, body?: unknown) { return this.request<T>('PATCH', path, body); }
  delete<T = any>(path: string) { return this.request<T>('DELETE', path); }
}

export function tempDir(prefix = 'messo-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts messo on port 0 with a fresh SQLite file, or a fresh schema when the environment has
 * MESSO_TEST_DATABASE_URL=postgres://… (the whole suite on PostgreSQL), or `env`'s own URL.
 */
export async function startTestServer(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<TestServer> {
  const dir = tempDir();
  const pg = !env.MESSO_DATABASE_URL && /^postgres(ql)?:\/\//.test(process.env.MESSO_TEST_DATABASE_URL ?? '') ? await freshPgSchema() : null;
  const config = loadConfig({
    MESSO_PORT: '0',
    MESSO_HOST: '127.0.0.1',
    MESSO_DATABASE_URL: pg?.url ?? `sqlite:${join(dir, 'messo.db')}`,
    MESSO_ADMIN_TOKEN: ADMIN_TOKEN,
    MESSO_LOG_LEVEL: 'silent',
    MESSO_ALLOWED_TARGETS: '127.0.0.0/8,::1/128',
    // Off unless a test asks for delivery: no test may send to a non-loopback endpoint by accident.
    MESSO_DISPATCHER: 'false',
    // Tests drive the API hard from one address: the rate limits are off unless a test sets them
    // (test/hardening-quotas.test.ts does).
    MESSO_API_REQUESTS_PER_MINUTE: '0',
    MESSO_AUTH_FAILURES_PER_MINUTE: '0',
    MESSO_ANONYMOUS_BINS_PER_HOUR: '0',
    MESSO_MAX_CONNECTIONS_PER_ADDRESS: '10000',
    ...env,
  });
  const server = await startServer(config, { logger: false, ...opts });
  const base = server.url.replace('[::1]', '[::1]');
  return {
    ...server,
    dir,
    api: new Client(base, null),
    adminApi: new Client(base, ADMIN_TOKEN),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}

/** A tenant with an API key and a client that uses it. */
export async function createTenant(server: TestServer, name = 'Comune di Prova'): Promise<{ id: string; key: string; client: Client }> {
  const t = await server.adminApi.post('/api/tenants', { name });
  if (t.status !== 201) throw new Error(`tenant: ${t.status} ${t.text}`);
  const k = await server.adminApi.post(`/api/tenants/${t.body.id}/keys`, { name: 'test' });
  if (k.status !== 201) throw new Error(`key: ${k.status} ${k.text}`);
  return { id: t.body.id, key: k.body.key, client: server.api.as(k.body.key) };
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** How to answer; may be changed while running. Default 200. */
  handler: (req: ReceivedRequest, index: number) => { status?: number; headers?: Record<string, string>; body?: string; delayMs?: number; hang?: boolean; destroy?: boolean };
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Most requests to this path open at once (received, not yet answered or dropped by the client). */
  peakInFlight(path: string): number;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: (() => void)[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const open = new Map<string, { now: number; peak: number }>();
  const r: Receiver = {
    url: '',
    port: 0,
    requests,
    handler: () => ({ status: 200, body: 'ok' }),
    waitFor: (count, timeoutMs = 10_000) => waitUntil(() => requests.length >= count, timeoutMs, `${count} requests (got ${requests.length})`).then(() => requests),
    peakInFlight: (path) => open.get(path)?.peak ?? 0,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: ReceivedRequest = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
      const index = requests.length;
      requests.push(rec);
      const o = open.get(rec.url) ?? { now: 0, peak: 0 };
      open.set(rec.url, o);
      o.peak = Math.max(o.peak, ++o.now);
      res.once('close', () => o.now--);
      for (const w of waiters.splice(0)) w();
      const a = r.handler(rec, index);
      if (a.destroy) { req.socket.destroy(); return; }
      if (a.hang) { hanging.add(res); return; }
      const send = () => {
        res.writeHead(a.status ?? 200, a.headers ?? {});
        res.end(a.body ?? '');
      };
      if (a.delayMs) setTimeout(send, a.delayMs); else send();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}`;
  return r;
}

/** Polls a condition until it holds; never a fixed sleep. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
