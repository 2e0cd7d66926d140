/**
 * Inspector capture: fidelity (bytes, headers as sent, method, path, query), limits (body size,
 * per-bin cap, bin lifetime) and scoping (tenants, anonymous bins). Real server, real HTTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.js';
import { BinSweeper } from '../src/inspector/sweep.js';
import { createTenant, startTestServer, waitUntil, type Client, type TestServer } from './harness.js';
import { newBin, send, SseReader } from './inspector-helpers.js';

const MiB = 1024 * 1024;

describe('capture fidelity', () => {
  let server: TestServer;
  let api: Client;

  before(async () => {
    server = await startTestServer();
    api = (await createTenant(server)).client;
  });
  after(() => server.close());

  const only = async (binId: string) => {
    const list = await api.get(`/api/inspector/bins/${binId}/requests`);
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    const full = await api.get(`/api/inspector/bins/${binId}/requests/${list.body.items[0].id}`);
    assert.equal(full.status, 200);
    return full.body;
  };

  test('a bin has an unguessable id (at least 128 bits) and a public URL', async () => {
    const a = await newBin(api);
    const b = await newBin(api);
    assert.notEqual(a.id, b.id);
    const random = a.id.replace(/^bin_/, '');
    assert.ok(Buffer.from(random, 'base64url').length >= 16, `id ${a.id} carries fewer than 128 bits`);
    assert.equal(a.url, `${server.config.publicUrl}/in/${a.id}`);
    assert.equal(a.anonymous, false);
  });

  test('binary bodies round-trip byte for byte, as base64; text stays text', async () => {
    const bin = await newBin(api);
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80]), randomBytes(4096)]);
    const r = await send(bin.url, { headers: ['content-type', 'application/octet-stream'], body: bytes });
    assert.equal(r.status, 200);
    const c = await only(bin.id);
    assert.equal(c.body_encoding, 'base64');
    assert.equal(c.size, bytes.length);
    assert.ok(Buffer.from(c.body, 'base64').equals(bytes));

    const bin2 = await newBin(api);
    const text = '{"città":"Bugliano","€":1,"emoji":"🙂"}';
    await send(bin2.url, { headers: ['content-type', 'application/json; charset=utf-8'], body: text });
    const t = await only(bin2.id);
    assert.equal(t.body_encoding, 'utf8');
    assert.equal(t.body, text);
    assert.equal(t.size, Buffer.byteLength(text));
    assert.equal(t.content_type, 'application/json; charset=utf-8');

    // Valid UTF-8 with a NUL byte: PostgreSQL TEXT cannot hold it, so it is kept as base64.
    const bin3 = await newBin(api);
    await send(bin3.url, { headers: ['content-type', 'text/plain'], body: Buffer.from('a\u0000b') });
    const n = await only(bin3.id);
    assert.equal(n.body_encoding, 'base64');
    assert.equal(Buffer.from(n.body, 'base64').toString(), 'a\u0000b');
  });

  test('headers keep their names as sent, their order and their repeats', async () => {
    const bin = await newBin(api);
    const sent = ['X-Trace', 'first', 'Accept', '*/*', 'x-trace', 'second', 'X-Mixed-CASE', 'Value', 'X-Trace', 'third'];
    await send(bin.url, { headers: sent, body: 'x' });
    const c = await only(bin.id);
    const got = c.headers.map((h: { name: string; value: string }) => [h.name, h.value]).flat();
    // Our headers appear in this exact order; undici adds host/connection/content-length around them.
    const start = got.indexOf('X-Trace');
    assert.deepEqual(got.slice(start, start + sent.length), sent);
  });

  test('method, sub-path, query, client address and time are recorded', async () => {
    const bin = await newBin(api);
    const before = Date.now();
    const r = await send(`${bin.url}/orders/42/a%20b?x=1&x=2&empty=&q=caf%C3%A9`, { method: 'PUT', headers: ['content-type', 'text/csv'], body: 'a,b\n1,2\n' });
    assert.equal(r.status, 200);
    const c = await only(bin.id);
    assert.equal(c.method, 'PUT');
    assert.equal(c.path, '/orders/42/a%20b');
    assert.equal(c.query, 'x=1&x=2&empty=&q=caf%C3%A9');
    assert.deepEqual(c.query_params, [{ name: 'x', value: '1' }, { name: 'x', value: '2' }, { name: 'empty', value: '' }, { name: 'q', value: 'café' }]);
    assert.equal(c.url, `${bin.url}/orders/42/a%20b?x=1&x=2&empty=&q=caf%C3%A9`);
    assert.equal(c.content_type, 'text/csv');
    assert.equal(c.client_ip, '127.0.0.1');
    assert.equal(c.http_version, '1.1');
    const at = Date.parse(c.received_at);
    assert.ok(at >= before - 5 && at <= Date.now() + 5);
  });

  test('every method is captured, bodies on GET too, any content type, or none', async () => {
    const bin = await newBin(api);
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const r = await send(bin.url, { method });
      assert.equal(r.status, 200, method);
    }
    await send(bin.url, { method: 'GET', headers: ['content-type', 'application/json'], body: '{"on":"get"}' });
    await send(bin.url, { method: 'POST', headers: ['content-type', 'application/x-made-up+whatever'], body: 'weird' });
    await send(bin.url, { method: 'POST', body: 'no content type at all' });
    const list = await api.get(`/api/inspector/bins/${bin.id}/requests?order=asc&limit=100`);
    assert.deepEqual(list.body.items.map((c: any) => c.method), ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET', 'POST', 'POST']);
    const [getBody, weird, none] = list.body.items.slice(7);
    assert.equal(getBody.body, '{"on":"get"}');
    assert.equal(weird.body, 'weird');
    assert.equal(weird.content_type, 'application/x-made-up+whatever');
    assert.equal(none.body, 'no content type at all');
    assert.equal(none.content_type, null);
  });

  test('an unknown bin answers 404 problem+json', async () => {
    const r = await send(`${server.config.publicUrl}/in/bin_doesnotexist`, { body: 'x' });
    assert.equal(r.status, 404);
    assert.match(String(r.headers['content-type']), /application\/problem\+json/);
    assert.equal(r.json.status, 404);
  });

  test('a body at the limit is kept whole; one byte more answers 413 and stores nothing', async () => {
    const bin = await newBin(api);
    const limit = server.config.inspectorBodyLimit;
    assert.equal(limit, 10 * MiB);
    const exact = randomBytes(limit);
    const ok = await send(bin.url, { headers: ['content-type', 'application/octet-stream'], body: exact });
    assert.equal(ok.status, 200);
    const list = await api.get(`/api/inspector/bins/${bin.id}/requests`);
    const c = list.body.items[0];
    assert.equal(c.size, limit);
    assert.equal(c.body_truncated, true, 'lists carry a preview of large bodies');
    const full = await api.get(`/api/inspector/bins/${bin.id}/requests/${c.id}`);
    assert.ok(Buffer.from(full.body.body, 'base64').equals(exact));

    const over = await send(bin.url, { headers: ['content-type', 'application/octet-stream'], body: Buffer.alloc(limit + 1, 1) });
    assert.equal(over.status, 413);
    assert.match(String(over.headers['content-type']), /application\/problem\+json/);
    // Without a Content-Length (chunked), the limit is enforced while reading.
    async function* chunks() {
      for (let i = 0; i < 11; i++) yield Buffer.alloc(MiB, 2);
    }
    const chunked = await request(bin.url, { method: 'POST', body: Readable.from(chunks()), headers: { 'content-type': 'application/octet-stream' } })
      .then(async (res) => { await res.body.dump(); return res.statusCode; }, (err) => err.code);
    assert.ok(chunked === 413 || chunked === 'UND_ERR_SOCKET' || chunked === 'ECONNRESET', `chunked over the limit: ${chunked}`);
    // A GET with an oversized body is refused too (Fastify does not read GET bodies; we do).
    const getOver = await send(bin.url, { method: 'GET', headers: ['content-type', 'text/plain'], body: Buffer.alloc(limit + 1, 0x61) });
    assert.equal(getOver.status, 413);
    const after = await api.get(`/api/inspector/bins/${bin.id}`);
    assert.equal(after.body.request_count, 1);
  });

  test('1,000 requests into a bin capped at 50 keep the newest 50, and the server stays up', async () => {
    const bin = await newBin(api, { max_requests: 50 });
    let next = 0;
    const worker = async () => {
      while (next < 1000) {
        const i = next++;
        const r = await send(bin.url, { headers: ['content-type', 'text/plain'], body: `request ${i}` });
        assert.equal(r.status, 200);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, worker));
    const elapsed = Date.now() - started;
    const got = await api.get(`/api/inspector/bins/${bin.id}`);
    assert.equal(got.body.request_count, 50);
    assert.equal(got.body.hits, 1000);
    const kept = await api.get(`/api/inspector/bins/${bin.id}/requests?limit=100&order=asc`);
    const seqs = kept.body.items.map((c: any) => c.seq);
    assert.equal(seqs.length, 50);
    // Only this bin writes here, so the newest 50 are 50 consecutive sequence numbers.
    assert.equal(seqs[49] - seqs[0], 49);
    assert.equal((await server.api.get('/readyz')).status, 200);
    console.log(`# 1000 captures into a 50-capped bin in ${elapsed} ms (${Math.round(1000 / (elapsed / 1000))}/s)`);
  });

  test('max_requests above the server setting is refused, naming the field', async () => {
    const r = await api.post('/api/inspector/bins', { max_requests: server.config.inspectorMaxRequests + 1 });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, 'max_requests');
    const t = await api.post('/api/inspector/bins', { ttl_sec: server.config.inspectorBinTtlSec + 1 });
    assert.equal(t.status, 400);
    assert.equal(t.body.field, 'ttl_sec');
  });
});

describe('bin lifetime', () => {
  let server: TestServer;
  let api: Client;

  before(async () => {
    server = await startTestServer();
    api = (await createTenant(server)).client;
  });
  after(() => server.close());

  test('an expired bin answers 404 everywhere, and the sweep removes it and its captures', async () => {
    const bin = await newBin(api, { ttl_sec: 1 });
    assert.equal((await send(bin.url, { body: 'before expiry' })).status, 200);
    await waitUntil(async () => (await api.get(`/api/inspector/bins/${bin.id}`)).status === 404, 5000, 'the bin to expire');
    assert.equal((await send(bin.url, { body: 'after expiry' })).status, 404);
    assert.equal((await api.get(`/api/inspector/bins/${bin.id}/requests`)).status, 404);
    const rows = () => server.store.inspector.capturesAfter(bin.id, 0, 10, 10);
    assert.equal((await rows()).length, 1, 'captures stay until the sweep');
    const done = await server.store.inspector.purgeExpired();
    assert.deepEqual(done, { bins: 1, captures: 1 });
    assert.equal((await rows()).length, 0);
  });

  test('the periodic sweeper removes what expired; stop is idempotent', async () => {
    const bin = await newBin(api);
    await send(bin.url, { body: 'doomed' });
    assert.equal((await api.delete(`/api/inspector/bins/${bin.id}`)).status, 204);
    const sweeper = new BinSweeper(server.store.inspector, server.app.log, 60_000);
    sweeper.start();
    await sweeper.sweep();
    assert.equal((await server.store.inspector.capturesAfter(bin.id, 0, 10, 10)).length, 0);
    await sweeper.stop();
    await sweeper.stop();
  });

  test('deleting a bin makes it 404 at once; the sweep purges in small batches', async () => {
    while ((await server.store.inspector.purgeExpired()).captures > 0) { /* start from a clean sweep */ }
    const bin = await newBin(api);
    for (let i = 0; i < 12; i++) await send(bin.url, { body: `n${i}` });
    const del = await api.delete(`/api/inspector/bins/${bin.id}`);
    assert.equal(del.status, 204);
    assert.equal((await send(bin.url, { body: 'x' })).status, 404);
    // Batches of 5: three steps for twelve captures, the bin row goes with the last one.
    assert.deepEqual(await server.store.inspector.purgeExpired(Date.now(), { batch: 5 }), { bins: 0, captures: 5 });
    assert.deepEqual(await server.store.inspector.purgeExpired(Date.now(), { batch: 5 }), { bins: 0, captures: 5 });
    assert.deepEqual(await server.store.inspector.purgeExpired(Date.now(), { batch: 5 }), { bins: 1, captures: 2 });
    assert.deepEqual(await server.store.inspector.purgeExpired(Date.now(), { batch: 5 }), { bins: 0, captures: 0 });
  });
});

describe('who sees a bin', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ MESSO_INSPECTOR_PUBLIC: 'true' });
  });
  after(() => server.close());

  test("another tenant's bin is 404; the admin reaches it with X-Tenant-Id", async () => {
    const a = await createTenant(server, 'Comune A');
    const b = await createTenant(server, 'Comune B');
    const bin = await newBin(a.client);
    assert.equal((await b.client.get(`/api/inspector/bins/${bin.id}`)).status, 404);
    assert.equal((await b.client.get(`/api/inspector/bins/${bin.id}/requests`)).status, 404);
    assert.equal((await b.client.delete(`/api/inspector/bins/${bin.id}`)).status, 404);
    assert.equal((await b.client.get('/api/inspector/bins')).body.items.length, 0);
    assert.equal((await server.api.get(`/api/inspector/bins/${bin.id}`)).status, 401);
    const admin = server.adminApi.as(server.adminApi.token, { 'x-tenant-id': a.id });
    assert.equal((await admin.get(`/api/inspector/bins/${bin.id}`)).status, 200);
    // A tenant bin is not reachable through the public routes either.
    assert.equal((await server.api.get(`/public/inspector/bins/${bin.id}`)).status, 404);
  });

  test('anonymous bins: created and read without a key when the public inspector is on', async () => {
    const bin = await newBin(server.api, { name: 'try it' }, '/public/inspector');
    assert.equal(bin.anonymous, true);
    const stream = await SseReader.open(`${server.config.publicUrl}/public/inspector/bins/${bin.id}/stream`);
    assert.equal((await stream.next()).event, 'ready');
    assert.equal((await send(bin.url, { body: 'hello' })).status, 200);
    assert.equal((await stream.requests(1))[0].capture.body, 'hello');
    stream.close();
    const list = await server.api.get(`/public/inspector/bins/${bin.id}/requests`);
    assert.equal(list.status, 200);
    assert.equal(list.body.items[0].body, 'hello');
    // A tenant cannot see it through the API, and anonymous bins cannot replay (no open relay).
    const t = await createTenant(server, 'Comune C');
    assert.equal((await t.client.get(`/api/inspector/bins/${bin.id}`)).status, 404);
    const replay = await server.api.post(`/public/inspector/bins/${bin.id}/requests/${list.body.items[0].id}/replay`, { url: 'http://127.0.0.1:9/' });
    assert.equal(replay.status, 404);
  });

  test("an anonymous bin's id (its credential) never reaches the logs whole", async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
    const logged = await startTestServer({ MESSO_INSPECTOR_PUBLIC: 'true' }, { logger: createLogger('debug', sink) });
    try {
      const bin = await newBin(logged.api, {}, '/public/inspector');
      await send(`${bin.url}/x?y=1`, { body: 'hello' });
      await logged.api.get(`/public/inspector/bins/${bin.id}/requests`);
      await send(`${logged.config.publicUrl}/in/${bin.id}x`, { body: 'unknown bin' });
      assert.ok(lines.some((l) => l.includes('/in/bin_')), 'requests are logged');
      assert.deepEqual(lines.filter((l) => l.includes(bin.id.slice(8))), []);
    } finally {
      await logged.close();
    }
  });

  test('with the public inspector off, the public routes are 404', async () => {
    const off = await startTestServer();
    try {
      const r = await off.api.post('/public/inspector/bins', {});
      assert.equal(r.status, 404);
      assert.match(r.body.detail, /MESSO_INSPECTOR_PUBLIC/);
    } finally {
      await off.close();
    }
  });
});
