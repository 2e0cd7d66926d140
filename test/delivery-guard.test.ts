/**
 * The SSRF guard end to end, with loopback forms only: with no allowed targets, literal
 * loopback endpoints are refused at creation, and a hostname that resolves to loopback passes
 * creation but is refused at the address actually connected to: the delivery fails at once
 * with the reason (no retries), a recorded error, not a crash. Also the auto-disable after a window of failures.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { createTenant, startReceiver, startTestServer, waitUntil, type Client, type Receiver, type TestServer } from './harness.js';
import { createApplication, createWebhook, deliveryEnv, move, waitForDelivery, waitForPath, type DeliveryEnv } from './delivery-helpers.js';

async function loopbackName(): Promise<string | null> {
  for (const name of [hostname(), 'localhost']) {
    try {
      const a = await lookup(name);
      if (a.address.startsWith('127.') || a.address === '::1') return name;
    } catch {
      /* try the next */
    }
  }
  return null;
}

describe('SSRF guard, nothing allowed', () => {
  let server: TestServer;
  let client: Client;
  let receiver: Receiver;
  let serviceId: string;
  before(async () => {
    server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_ALLOWED_TARGETS: '', MESSO_RETRY_SCHEDULE: '0,0.1' });
    client = (await createTenant(server)).client;
    serviceId = (await client.post('/api/services', { name: 'S' })).body.id;
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await server.close();
  });

  it('refuses literal loopback forms at creation', async () => {
    const p = receiver.port;
    for (const endpoint of [`http://127.0.0.1:${p}/`, `http://localhost:${p}/`, `http://[::1]:${p}/`, `http://[::ffff:127.0.0.1]:${p}/`, `http://2130706433:${p}/`, `http://127.1:${p}/`]) {
      const r = await client.post('/api/webhooks', { title: 'x', endpoint, trigger: 'all' });
      assert.equal(r.status, 400, endpoint);
      assert.equal(r.body.field, 'endpoint');
    }
    assert.equal((await client.get('/api/webhooks')).body.items.length, 0);
  });

  it('refuses a name resolving to loopback at connect time, every attempt, as a recorded error', async (t) => {
    const name = await loopbackName();
    if (name === 'localhost' || name === null) {
      t.skip('no host name other than localhost resolves to loopback on this machine');
      return;
    }
    const wh = await client.post('/api/webhooks', { title: 'dns', endpoint: `http://${name}:${receiver.port}/dns`, trigger: '2000' });
    assert.equal(wh.status, 201, 'a host name passes the first filter');
    const app = (await client.post('/api/applications', { service_id: serviceId, status: 1900 })).body.id;
    await client.post(`/api/applications/${app}/transitions`, { status: 2000 });
    let d: any;
    await waitUntil(async () => {
      const list = (await client.get(`/api/deliveries?webhook_id=${wh.body.id}&status=failed`)).body.items;
      if (list.length === 0) return false;
      d = (await client.get(`/api/deliveries/${list[0].id}`)).body;
      return true;
    });
    // Refused is terminal: one attempt, failed at once with the guard's reason, not retried.
    assert.deepEqual(d.attempt_log.map((a: any) => a.error_class), ['refused_target']);
    assert.match(d.attempt_log[0].error_message ?? d.attempt_log[0].error ?? JSON.stringify(d.attempt_log[0]), /refused target/);
    const test = await client.post(`/api/webhooks/${wh.body.id}/test`, {});
    assert.equal(test.body.error_class, 'refused_target');
    assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
    assert.equal((await server.api.get('/healthz')).status, 200);
  });
});

describe('auto-disable', () => {
  let e: DeliveryEnv;
  before(async () => { e = await deliveryEnv({ MESSO_AUTO_DISABLE_AFTER_SEC: '1', MESSO_RETRY_SCHEDULE: '0,0.4,0.4,0.4,0.4' }); });
  after(async () => { await e.close(); });

  it('disables a webhook that only failed for the window and emits webhook.disabled', async () => {
    const watcher = await createWebhook(e, { events: ['webhook.disabled', 'webhook.enabled'], title: 'watcher' });
    const bad = await createWebhook(e, { trigger: '2000', title: 'failing' });
    e.receiver.handler = (r) => (r.url === bad.path ? { status: 500 } : { status: 200 });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    await waitUntil(async () => (await e.client.get(`/api/webhooks/${bad.id}`)).body.active === false, 10_000, 'auto-disable');
    const w = (await e.client.get(`/api/webhooks/${bad.id}`)).body;
    assert.match(w.disabled_reason, /no successful delivery/);
    const [note] = await waitForPath(e, watcher.path, 1);
    const body = JSON.parse(note.body);
    assert.equal(body.webhook.id, bad.id);
    const d = await waitForDelivery(e, `webhook_id=${bad.id}`, ['failed']);
    assert.match(d.last_error, /disabled|HTTP 500/);
    await e.client.patch(`/api/webhooks/${bad.id}`, { active: true });
    const notes = await waitForPath(e, watcher.path, 2);
    assert.equal(JSON.parse(notes[1].body).reason, 'enabled by the user');
  });
});

describe('failing streak', () => {
  let e: DeliveryEnv;
  // A retry a minute later: within the test, only the success below can end the streak.
  before(async () => { e = await deliveryEnv({ MESSO_RETRY_SCHEDULE: '0,60' }); });
  after(async () => { await e.close(); });

  it('a success ends the streak of a failure recorded after its own claim', async () => {
    // Both deliveries go out in one claim, which read no streak; the first answers 500 at once,
    // the second 200 later. The dispatcher remembers the failure it wrote, so the success clears
    // it (it no longer clears a webhook whose claim read no streak, to save two statements).
    const hook = await createWebhook(e, { trigger: 'all', title: 'streak' });
    e.receiver.handler = (_r, index) => (index === 0 ? { status: 500 } : { status: 200, delayMs: 300 });
    const snap = (id: string) => ({ event_id: randomUUID(), type: 'application.snapshot', data: { application: { id, service_id: e.serviceId, status: 2000 } } });
    const batch = await e.client.post('/api/events/batch', { events: [snap(randomUUID()), snap(randomUUID())] });
    assert.equal(batch.status, 200, batch.text);
    await waitForDelivery(e, `webhook_id=${hook.id}&status=succeeded`, ['succeeded']);
    await waitUntil(async () => (await e.client.get(`/api/webhooks/${hook.id}`)).body.health.state === 'ok', 5_000, 'the streak cleared');
    assert.equal((await e.client.get(`/api/webhooks/${hook.id}`)).body.health.failing_since, null);
  });
});

describe('own request inspector, nothing else allowed', () => {
  it('webhooks to the server\'s own /in/ bins work out of the box, signed and verified there', async () => {
    const server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_ALLOWED_TARGETS: '' });
    try {
      const { client } = await createTenant(server);
      const serviceId = (await client.post('/api/services', { name: 'S' })).body.id;
      const bin = await client.post('/api/inspector/bins', { name: 'prova' });
      assert.equal(bin.status, 201, bin.text);
      assert.ok(bin.body.url.startsWith(server.config.publicUrl));
      const wh = await client.post('/api/webhooks', { title: 'to my bin', endpoint: bin.body.url, trigger: '2000' });
      assert.equal(wh.status, 201, wh.text);
      await client.patch(`/api/inspector/bins/${bin.body.id}`, { secret: wh.body.secret });
      const app = (await client.post('/api/applications', { service_id: serviceId, status: 1900 })).body.id;
      await client.post(`/api/applications/${app}/transitions`, { status: 2000 });
      let captures: any[] = [];
      await waitUntil(async () => {
        captures = (await client.get(`/api/inspector/bins/${bin.body.id}/requests`)).body.items;
        return captures.length > 0;
      });
      assert.deepEqual(captures[0].signature, { valid: true });
      // The bin has the request before the dispatcher has recorded the answer (on PostgreSQL the
      // outcome is written after it, in a batch): wait for the record, not only the capture.
      let status = '';
      await waitUntil(async () => {
        status = (await client.get(`/api/deliveries?webhook_id=${wh.body.id}`)).body.items[0]?.status;
        return status !== 'sending';
      });
      assert.equal(status, 'succeeded');
    } finally {
      await server.close();
    }
  });
});
