/**
 * Inspector signature check (Standard Webhooks) and replay through the SSRF guard.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { sign } from '../src/domain/signing.js';
import { createTenant, startReceiver, startTestServer, waitUntil, type Client, type Receiver, type TestServer } from './harness.js';
import { newBin, send } from './inspector-helpers.js';

// The Standard Webhooks reference vector (DESIGN.md).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

let server: TestServer;
let api: Client;

before(async () => {
  server = await startTestServer();
  api = (await createTenant(server)).client;
});
after(() => server.close());

const newest = async (binId: string) => (await api.get(`/api/inspector/bins/${binId}/requests?limit=1`)).body.items[0];

describe('signature verdicts', () => {
  test('the reference vector: its signature is the one our signer makes; received today it is outside the tolerance', async () => {
    assert.equal(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
    const bin = await newBin(api, { secret: VECTOR.secret });
    assert.equal(bin.has_secret, true);
    assert.equal(bin.secret, undefined, 'the secret is not echoed back');
    await send(bin.url, {
      headers: ['content-type', 'application/json', 'webhook-id', VECTOR.id, 'webhook-timestamp', String(VECTOR.timestamp), 'webhook-signature', VECTOR.signature],
      body: VECTOR.body,
    });
    const c = await newest(bin.id);
    assert.equal(c.signature.valid, false);
    assert.equal(c.signature.reason, 'timestamp_out_of_tolerance');
    assert.match(c.signature.detail, /old, tolerance is 300s/);
  });

  test('valid when signed now by an independent implementation; each failure says why', async () => {
    const bin = await newBin(api, { secret: VECTOR.secret });
    const now = new Date();
    const seconds = String(Math.floor(now.getTime() / 1000));
    const signature = new StandardWebhook(VECTOR.secret).sign(VECTOR.id, now, VECTOR.body);
    const deliver = (headers: string[], body = VECTOR.body) => send(bin.url, { headers: ['content-type', 'application/json', ...headers], body });

    await deliver(['webhook-id', VECTOR.id, 'webhook-timestamp', seconds, 'webhook-signature', signature]);
    assert.deepEqual((await newest(bin.id)).signature, { valid: true });

    // Rotation: several signatures, one of them ours, is valid.
    await deliver(['webhook-id', VECTOR.id, 'webhook-timestamp', seconds, 'webhook-signature', `v1,${Buffer.alloc(32).toString('base64')} ${signature}`]);
    assert.deepEqual((await newest(bin.id)).signature, { valid: true });

    await deliver(['webhook-id', VECTOR.id, 'webhook-timestamp', seconds]);
    let v = (await newest(bin.id)).signature;
    assert.equal(v.reason, 'missing_headers');
    assert.match(v.detail, /webhook-signature/);

    await deliver(['webhook-id', VECTOR.id, 'webhook-timestamp', seconds, 'webhook-signature', signature], '{"test": 2432232315}');
    v = (await newest(bin.id)).signature;
    assert.equal(v.reason, 'no_matching_signature');

    await deliver(['webhook-id', VECTOR.id, 'webhook-timestamp', String(Number(seconds) + 3600), 'webhook-signature', signature]);
    v = (await newest(bin.id)).signature;
    assert.equal(v.reason, 'timestamp_out_of_tolerance');
    assert.match(v.detail, /in the future/);
  });

  test('a bin without a secret shows no verdict; setting one judges captures as they arrived', async () => {
    const bin = await newBin(api);
    const at = Math.floor(Date.now() / 1000);
    await send(bin.url, { headers: ['webhook-id', 'msg_1', 'webhook-timestamp', String(at), 'webhook-signature', sign(VECTOR.secret, 'msg_1', at, 'hello')], body: 'hello' });
    assert.equal((await newest(bin.id)).signature, null);
    const patched = await api.patch(`/api/inspector/bins/${bin.id}`, { secret: VECTOR.secret });
    assert.equal(patched.body.has_secret, true);
    assert.deepEqual((await newest(bin.id)).signature, { valid: true });
  });

  test('a malformed secret is refused naming the field', async () => {
    for (const secret of ['not-a-secret', 'whsec_!!!', 'whsec_c2hvcnQ=']) {
      const r = await api.post('/api/inspector/bins', { secret });
      assert.equal(r.status, 400, secret);
      assert.equal(r.body.field, 'secret');
    }
  });

  test('end to end: a messo webhook delivering into a bin carries a valid signature', async () => {
    const live = await startTestServer({ MESSO_DISPATCHER: 'true' });
    try {
      const client = (await createTenant(live)).client;
      const bin = await newBin(client);
      const hook = await client.post('/api/webhooks', { title: 'to the inspector', endpoint: bin.url, trigger: 'all' });
      assert.equal(hook.status, 201, hook.text);
      await client.patch(`/api/inspector/bins/${bin.id}`, { secret: hook.body.secret });
      const app = { id: randomUUID(), service_id: randomUUID(), status: 2000, subject: 'Iscrizione asilo nido' };
      const ev = await client.post('/api/events', { event_id: randomUUID(), type: 'application.snapshot', data: { application: app } });
      assert.equal(ev.status, 201, ev.text);
      await waitUntil(async () => (await client.get(`/api/inspector/bins/${bin.id}`)).body.request_count >= 1, 10_000, 'the delivery to reach the bin');
      const c = (await client.get(`/api/inspector/bins/${bin.id}/requests?limit=1`)).body.items[0];
      assert.deepEqual(c.signature, { valid: true });
      assert.equal(JSON.parse(c.body).id, app.id);
    } finally {
      await live.close();
    }
  });
});

describe('replay', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  test('resends method, headers and body to a URL and returns the answer', async () => {
    const bin = await newBin(api);
    await send(`${bin.url}/x?y=1`, { method: 'PUT', headers: ['content-type', 'application/json', 'X-Tag', 'a', 'X-Tag', 'b', 'webhook-id', 'msg_42'], body: '{"hello":"world"}' });
    const c = await newest(bin.id);
    receiver.handler = () => ({ status: 201, headers: { 'x-receiver': 'yes' }, body: 'created it' });
    const r = await api.post(`/api/inspector/bins/${bin.id}/requests/${c.id}/replay`, { url: `${receiver.url}/hook?from=replay` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ok, true);
    assert.equal(r.body.status_code, 201);
    assert.equal(r.body.body, 'created it');
    assert.equal(r.body.headers['x-receiver'], 'yes');
    assert.equal(typeof r.body.duration_ms, 'number');
    const [got] = await receiver.waitFor(1);
    assert.equal(got.method, 'PUT');
    assert.equal(got.url, '/hook?from=replay');
    assert.equal(got.body, '{"hello":"world"}');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['x-tag'], 'a, b');
    assert.equal(got.headers['webhook-id'], 'msg_42');
    assert.notEqual(got.headers.host, new URL(bin.url).host, 'the host header is the target, not the bin');

    // Another method on request; a receiver that is down is a result, not an error.
    const post = await api.post(`/api/inspector/bins/${bin.id}/requests/${c.id}/replay`, { url: receiver.url, method: 'post' });
    assert.equal(post.body.method, 'POST');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await api.post(`/api/inspector/bins/${bin.id}/requests/${c.id}/replay`, { url: `http://127.0.0.1:${port}/` });
    assert.equal(down.status, 200);
    assert.deepEqual([down.body.ok, down.body.error_class], [false, 'connection_refused']);
  });

  test('binary bodies are resent byte for byte', async () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    let received: Buffer | null = null;
    const raw = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received = Buffer.concat(chunks);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const bin = await newBin(api);
      await send(bin.url, { headers: ['content-type', 'application/octet-stream'], body: bytes });
      const c = await newest(bin.id);
      const r = await api.post(`/api/inspector/bins/${bin.id}/requests/${c.id}/replay`, { url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/` });
      assert.equal(r.body.status_code, 200);
      assert.ok(received !== null && (received as Buffer).equals(bytes));
    } finally {
      raw.closeAllConnections();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  test('bad URLs are refused naming the field', async () => {
    const bin = await newBin(api);
    await send(bin.url, { body: 'x' });
    const c = await newest(bin.id);
    for (const url of ['not a url', 'ftp://127.0.0.1/x', 'file:///etc/passwd']) {
      const r = await api.post(`/api/inspector/bins/${bin.id}/requests/${c.id}/replay`, { url });
      assert.equal(r.status, 400, url);
      assert.equal(r.body.field, 'url');
    }
    const missing = await api.post(`/api/inspector/bins/${bin.id}/requests/req_nope/replay`, { url: receiver.url });
    assert.equal(missing.status, 404);
  });

  test('with a guard that refuses loopback, replay to loopback is refused and nothing is sent', async () => {
    const strict = await startTestServer({ MESSO_ALLOWED_TARGETS: '' });
    try {
      const t = await createTenant(strict);
      const bin = await newBin(t.client);
      await send(bin.url, { body: 'secret internal call' });
      const c = (await t.client.get(`/api/inspector/bins/${bin.id}/requests`)).body.items[0];
      const before = receiver.requests.length;
      for (const url of [receiver.url, `http://localhost:${receiver.port}/`, `http://[::ffff:127.0.0.1]:${receiver.port}/`, `http://2130706433:${receiver.port}/`]) {
        const r = await t.client.post(`/api/inspector/bins/${bin.id}/requests/${c.id}/replay`, { url });
        assert.equal(r.status, 400, `${url}: ${r.text}`);
        assert.equal(r.body.field, 'url');
        assert.match(r.body.detail, /loopback/);
      }
      assert.equal(receiver.requests.length, before);
    } finally {
      await strict.close();
    }
  });
});
