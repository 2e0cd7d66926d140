// The sender against real node:http servers on loopback, port 0 (its pure error classification
// is tested next to it, src/delivery/sender.test.ts). Hard rule: only loopback addresses are
// ever targeted; hostnames other than `localhost` go through an injected fake resolver.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { createAddressPolicy } from '../src/outbound/address-guard.js';
import { createSender, type SendResult } from '../src/outbound/sender.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  port: number;
  /** Every request, body fully read. */
  received: Received[];
  /** TCP connections accepted, whether or not a request followed. */
  connections: number;
  /** Resolves when the next request has arrived (before the handler runs). */
  nextRequest(): Promise<void>;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: TestServer[] = [];
const senders: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(senders.map((s) => s.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function startServer(handler: Handler, host = '127.0.0.1'): Promise<TestServer> {
  let waiter: (() => void) | null = null;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      waiter?.();
      waiter = null;
      handler(req, res);
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const state: TestServer = {
    port: (server.address() as AddressInfo).port,
    received: [],
    connections: 0,
    nextRequest: () => new Promise<void>((resolve) => (waiter = resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(state);
  return state;
}

const reply = (status: number, body = '', headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, headers);
  res.end(body);
};

const allowLoopback = createAddressPolicy(['127.0.0.0/8', '::1/128']);

function sender(opts: Partial<Parameters<typeof createSender>[0]> = {}) {
  const s = createSender({ policy: allowLoopback, ...opts });
  senders.push(s);
  return s;
}

const post = (url: string, extra: { signal?: AbortSignal; headers?: Record<string, string> } = {}) => ({
  url,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...extra.headers },
  body: '{"event_id":"e1"}',
  signal: extra.signal,
});

function assertResponse(r: SendResult): asserts r is Extract<SendResult, { kind: 'response' }> {
  assert.equal(r.kind, 'response', JSON.stringify(r));
}

function assertError(r: SendResult, errorClass: string): void {
  assert.equal(r.kind, 'error', JSON.stringify(r));
  assert.ok(r.kind === 'error' && r.errorClass === errorClass, JSON.stringify(r));
}

async function ipv6Available(): Promise<boolean> {
  const probe = http.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

test('2xx is ok, with status, headers and body; the request carries method, headers, body', async () => {
  const server = await startServer(reply(200, 'thanks', { 'x-receiver': 'r1' }));
  const r = await sender().send(post(`http://127.0.0.1:${server.port}/hook?x=1`, { headers: { 'webhook-id': 'msg_1' } }));
  assertResponse(r);
  assert.equal(r.ok, true);
  assert.equal(r.statusCode, 200);
  assert.equal(r.body, 'thanks');
  assert.equal(r.truncated, false);
  assert.equal(r.headers['x-receiver'], 'r1');
  assert.ok(r.durationMs >= 0);
  const [got] = server.received;
  assert.equal(got.method, 'POST');
  assert.equal(got.url, '/hook?x=1');
  assert.equal(got.body, '{"event_id":"e1"}');
  assert.equal(got.headers['webhook-id'], 'msg_1');
  assert.equal(got.headers['content-type'], 'application/json');
  assert.equal(got.headers['user-agent'], 'messo');
});

test('a caller-supplied User-Agent (any case) wins over the default; PUT and Buffer bodies work', async () => {
  const server = await startServer(reply(204));
  const s = sender({ userAgent: 'messo/9' });
  const r = await s.send({ url: `http://127.0.0.1:${server.port}/`, method: 'PUT', headers: { 'User-Agent': 'custom' }, body: Buffer.from('raw') });
  assertResponse(r);
  assert.equal(r.ok, true);
  assert.equal(r.statusCode, 204);
  assert.equal(server.received[0].method, 'PUT');
  assert.equal(server.received[0].headers['user-agent'], 'custom');
  assert.equal(server.received[0].body, 'raw');
  await s.send(post(`http://127.0.0.1:${server.port}/`));
  assert.equal(server.received[1].headers['user-agent'], 'messo/9');
});

test('4xx and 5xx are responses with ok false', async () => {
  for (const status of [400, 404, 410, 429, 500, 503]) {
    const server = await startServer(reply(status, `status ${status}`, { 'retry-after': '120' }));
    const r = await sender().send(post(`http://127.0.0.1:${server.port}/`));
    assertResponse(r);
    assert.equal(r.ok, false);
    assert.equal(r.statusCode, status);
    assert.equal(r.body, `status ${status}`);
    assert.equal(r.headers['retry-after'], '120');
  }
});

test('keep-alive: sequential sends to one origin reuse one connection', async () => {
  const server = await startServer(reply(200, 'ok'));
  const s = sender();
  for (let i = 0; i < 5; i++) assertResponse(await s.send(post(`http://127.0.0.1:${server.port}/`)));
  assert.equal(server.received.length, 5);
  // Not exactly 1: undici frees a connection a tick after its body ends, so a send issued in the
  // same tick opens a second one. Measured: 2 connections for any number of back-to-back sends.
  assert.ok(server.connections <= 2, `${server.connections} connections for 5 sends`);
});

test('the body is capped: 1 MiB sent, 16384 bytes kept and truncated marked', async () => {
  const big = Buffer.alloc(1024 * 1024, 'a');
  const server = await startServer(reply(500, big.toString()));
  const r = await sender().send(post(`http://127.0.0.1:${server.port}/`));
  assertResponse(r);
  assert.equal(r.truncated, true);
  assert.equal(r.body.length, 16384);
  assert.equal(r.statusCode, 500);
});

test('a body of exactly the cap is not truncated; a custom cap applies', async () => {
  const exact = await startServer(reply(200, 'b'.repeat(16384)));
  const r1 = await sender().send(post(`http://127.0.0.1:${exact.port}/`));
  assertResponse(r1);
  assert.equal(r1.body.length, 16384);
  assert.equal(r1.truncated, false);
  const r2 = await sender({ maxResponseBytes: 10 }).send(post(`http://127.0.0.1:${exact.port}/`));
  assertResponse(r2);
  assert.equal(r2.body, 'b'.repeat(10));
  assert.equal(r2.truncated, true);
});

test('redirects are not followed: a 302 is the result and its target sees nothing', async () => {
  const target = await startServer(reply(200, 'should not be reached'));
  const redirector = await startServer(reply(302, '', { location: `http://127.0.0.1:${target.port}/elsewhere` }));
  const r = await sender().send(post(`http://127.0.0.1:${redirector.port}/`));
  assertResponse(r);
  assert.equal(r.statusCode, 302);
  assert.equal(r.ok, false);
  assert.equal(r.headers.location, `http://127.0.0.1:${target.port}/elsewhere`);
  assert.equal(target.connections, 0);
});

test('a server that never answers gives timeout', async () => {
  const server = await startServer(() => {});
  const r = await sender({ timeoutMs: 200 }).send(post(`http://127.0.0.1:${server.port}/`));
  assertError(r, 'timeout');
  assert.ok(r.durationMs >= 150, String(r.durationMs));
});

test('a body that never ends also gives timeout (the total timeout covers the body)', async () => {
  const server = await startServer((_req, res) => {
    res.writeHead(200);
    res.write('partial');
  });
  assertError(await sender({ timeoutMs: 200 }).send(post(`http://127.0.0.1:${server.port}/`)), 'timeout');
});

test("the caller's signal aborts a send in flight, reported as aborted", async () => {
  const server = await startServer(() => {});
  const controller = new AbortController();
  const arrived = server.nextRequest();
  const pending = sender().send(post(`http://127.0.0.1:${server.port}/`, { signal: controller.signal }));
  await arrived;
  controller.abort();
  assertError(await pending, 'aborted');
  // Already aborted before sending.
  assertError(await sender().send(post(`http://127.0.0.1:${server.port}/`, { signal: AbortSignal.abort() })), 'aborted');
});

test('a closed port gives connection_refused', async () => {
  const server = await startServer(reply(200));
  await server.close();
  assertError(await sender().send(post(`http://127.0.0.1:${server.port}/`)), 'connection_refused');
});

test('a server that drops or resets the connection gives connection_reset', async () => {
  const closes = await startServer((req) => req.socket.destroy());
  assertError(await sender().send(post(`http://127.0.0.1:${closes.port}/`)), 'connection_reset');
  const resets = await startServer((req) => req.socket.resetAndDestroy());
  assertError(await sender().send(post(`http://127.0.0.1:${resets.port}/`)), 'connection_reset');
});

test('https to a plain-HTTP port gives tls', async () => {
  const server = await startServer(reply(200));
  assertError(await sender().send(post(`https://127.0.0.1:${server.port}/`)), 'tls');
});

test('bad URLs and non-HTTP schemes give other, without any connection', async () => {
  assertError(await sender().send(post('not a url')), 'other');
  assertError(await sender().send(post('ftp://127.0.0.1/')), 'other');
});

test('refused targets: loopback in every spelling is refused and the server sees nothing', async (t) => {
  const v4 = await startServer(reply(200, 'ok'));
  const urls = [
    `http://127.0.0.1:${v4.port}/`,
    `http://localhost:${v4.port}/`,
    `http://[::ffff:127.0.0.1]:${v4.port}/`,
    `http://2130706433:${v4.port}/`,
    `http://0x7f.1:${v4.port}/`,
  ];
  const strict = sender({ policy: createAddressPolicy([]) });
  for (const url of urls) assertError(await strict.send(post(url)), 'refused_target');
  if (await ipv6Available()) {
    const v6 = await startServer(reply(200, 'ok'), '::1');
    assertError(await strict.send(post(`http://[::1]:${v6.port}/`)), 'refused_target');
    assert.equal(v6.connections, 0);
  } else {
    t.diagnostic('IPv6 loopback unavailable: [::1] case skipped');
  }
  assert.equal(v4.connections, 0);
  const r = await strict.send(post(urls[0]));
  assert.ok(r.kind === 'error' && r.message.includes('127.0.0.1') && r.message.includes('loopback'), JSON.stringify(r));
});

test('allowed targets: with 127.0.0.0/8 and ::1/128 allowed, the same spellings go through', async (t) => {
  const v4 = await startServer(reply(200, 'ok'));
  const urls = [
    `http://127.0.0.1:${v4.port}/`,
    `http://localhost:${v4.port}/`,
    `http://[::ffff:127.0.0.1]:${v4.port}/`,
    `http://2130706433:${v4.port}/`,
  ];
  const s = sender();
  for (const url of urls) {
    const r = await s.send(post(url));
    assertResponse(r);
    assert.equal(r.statusCode, 200, url);
  }
  if (await ipv6Available()) {
    const v6 = await startServer(reply(200, 'ok'), '::1');
    const r = await s.send(post(`http://[::1]:${v6.port}/`));
    assertResponse(r);
    assert.equal(r.statusCode, 200);
  } else {
    t.diagnostic('IPv6 loopback unavailable: [::1] case skipped');
  }
});

/** A resolver that knows only the names given, all pointing at loopback addresses. */
function fakeResolver(table: Record<string, string[]>, calls: string[] = []): typeof dnsLookup {
  const fake = (hostname: string, _options: unknown, callback: (err: Error | null, addresses: LookupAddress[]) => void) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return process.nextTick(callback, err, []);
    }
    process.nextTick(callback, null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return fake as unknown as typeof dnsLookup;
}

test('a hostname is judged by the addresses it resolves to, at connect time', async () => {
  const server = await startServer(reply(200, 'ok'));
  const calls: string[] = [];
  const lookup = fakeResolver({ 'hooks.example': ['127.0.0.1'] }, calls);
  const url = `http://hooks.example:${server.port}/`;
  assertError(await sender({ policy: createAddressPolicy([]), lookup }).send(post(url)), 'refused_target');
  assert.equal(server.connections, 0);
  const r = await sender({ lookup }).send(post(url));
  assertResponse(r);
  assert.equal(server.received[0].headers.host, `hooks.example:${server.port}`);
  assert.deepEqual(calls, ['hooks.example', 'hooks.example']);
});

test('a name is refused when ANY of its addresses is refused (rebinding with mixed answers)', async () => {
  const server = await startServer(reply(200, 'ok'));
  const lookup = fakeResolver({ 'mixed.example': ['127.0.0.2', '127.0.0.1'] });
  const onlyDotOne = createAddressPolicy(['127.0.0.1/32']);
  const r = await sender({ policy: onlyDotOne, lookup }).send(post(`http://mixed.example:${server.port}/`));
  assertError(r, 'refused_target');
  assert.ok(r.kind === 'error' && r.message.includes('127.0.0.2'));
  assert.equal(server.connections, 0);
});

test('an unknown name gives dns', async () => {
  const lookup = fakeResolver({});
  assertError(await sender({ lookup }).send(post('http://nowhere.example/')), 'dns');
});

test('close is idempotent', async () => {
  const s = createSender({ policy: allowLoopback });
  await Promise.all([s.close(), s.close()]);
  await s.close();
});
