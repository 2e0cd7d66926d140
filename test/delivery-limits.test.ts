/**
 * The dispatcher's protections: timeouts and resets as classified attempt errors, endpoint
 * isolation (a hanging receiver never slows a healthy one), per-endpoint concurrency, per-webhook
 * rate limits, per-application ordering, and slow-down on 429 with Retry-After.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver, waitUntil, type Receiver } from './harness.js';
import { createApplication, createWebhook, deliveryEnv, move, on, waitForDelivery, type DeliveryEnv } from './delivery-helpers.js';

describe('delivery limits and isolation', () => {
  let e: DeliveryEnv;
  let other: Receiver;
  before(async () => {
    e = await deliveryEnv({ MESSO_REQUEST_TIMEOUT_MS: '400', MESSO_RETRY_SCHEDULE: '0,0.2' });
    other = await startReceiver();
  });
  after(async () => {
    await other.close();
    await e.close();
  });

  it('records a timeout and a connection reset as classified errors', async () => {
    const slow = await createWebhook(e, { trigger: '2000', title: 'slow' });
    const reset = await createWebhook(e, { trigger: '2000', title: 'reset', endpoint: `${other.url}/reset` });
    e.receiver.handler = (r) => (r.url === slow.path ? { hang: true } : { status: 200 });
    other.handler = (r) => (r.url === '/reset' ? { destroy: true } : { status: 200 });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const d1 = await waitForDelivery(e, `webhook_id=${slow.id}`, ['failed']);
    assert.deepEqual(d1.attempt_log.map((a: any) => a.error_class), ['timeout', 'timeout']);
    assert.ok(d1.attempt_log[0].duration_ms >= 350 && d1.attempt_log[0].duration_ms < 3000, `duration ${d1.attempt_log[0].duration_ms}`);
    const d2 = await waitForDelivery(e, `webhook_id=${reset.id}`, ['failed']);
    assert.equal(d2.attempt_log[0].error_class, 'connection_reset');
    assert.match(d2.last_error, /connection_reset/);
    e.receiver.handler = () => ({ status: 200 });
    other.handler = () => ({ status: 200 });
    await e.client.delete(`/api/webhooks/${slow.id}`);
    await e.client.delete(`/api/webhooks/${reset.id}`);
  });

  it('a hanging endpoint never delays deliveries to a healthy one', async () => {
    const hang = await createWebhook(e, { trigger: 'all', title: 'hang', max_concurrency: 2 });
    const fast = await createWebhook(e, { trigger: 'all', title: 'fast', endpoint: `${other.url}/fast` });
    e.receiver.handler = (r) => (r.url === hang.path ? { hang: true } : { status: 200 });
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = Date.now();
      const app = await createApplication(e, 1900);
      await waitUntil(() => on({ ...e, receiver: other } as DeliveryEnv, '/fast').some((r) => JSON.parse(r.body).id === app), 5000);
      latencies.push(Date.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    // Were the hanging endpoint in the way, most deliveries would wait for its 400 ms timeout
    // (then the healthy one's own time on top). A loaded machine stalls some samples (p80 156 ms
    // and 162 ms were seen at load average 10–17 against 150), so the bound sits between the
    // two: well above a loaded healthy delivery, well below the timeout it would otherwise wait.
    const p80 = latencies[Math.floor(latencies.length * 0.8)];
    assert.ok(p80 < 300, `healthy endpoint p80 ${p80} ms while the other hangs (all: ${latencies.join(',')})`);
    // The receiver learns that a timed-out request is gone when its socket's close is read, which
    // can come just after the next request of the same endpoint: one over the limit is that race.
    const peak = e.receiver.peakInFlight(hang.path);
    assert.ok(peak <= 2 + 1, `the hanging endpoint never has more than its concurrency in flight (peak ${peak})`);
    e.receiver.handler = () => ({ status: 200 });
    await e.client.delete(`/api/webhooks/${hang.id}`);
    await e.client.delete(`/api/webhooks/${fast.id}`);
  });

  it('keeps at most max_concurrency requests in flight per endpoint', async () => {
    const r = await startReceiver();
    let active = 0;
    let peak = 0;
    r.handler = () => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => active--, 100);
      return { status: 200, delayMs: 100 };
    };
    const wh = await createWebhook(e, { trigger: 'all', endpoint: `${r.url}/c`, max_concurrency: 3 });
    for (let i = 0; i < 12; i++) await createApplication(e, 1900);
    await r.waitFor(12, 10_000);
    assert.ok(peak <= 3, `peak concurrency ${peak}`);
    assert.ok(peak >= 2, `peak concurrency ${peak}: the limit is used, not serialised`);
    await e.client.delete(`/api/webhooks/${wh.id}`);
    await r.close();
  });

  it('spreads requests to honour a per-webhook rate limit', async () => {
    const r = await startReceiver();
    const wh = await createWebhook(e, { trigger: 'all', endpoint: `${r.url}/rl`, rate_limit: 10 });
    const t0 = Date.now();
    for (let i = 0; i < 15; i++) await createApplication(e, 1900);
    const reqs = await r.waitFor(15, 10_000);
    const span = reqs[14].at - reqs[0].at;
    assert.ok(span >= 1200, `15 requests at 10/s took ${span} ms`);
    // Any one-second window holds at most 10 + 1.
    for (let i = 0; i < reqs.length; i++) {
      const inWindow = reqs.filter((x) => x.at >= reqs[i].at && x.at < reqs[i].at + 1000).length;
      assert.ok(inWindow <= 11, `${inWindow} requests within one second`);
    }
    assert.ok(Date.now() - t0 < 8000);
    await e.client.delete(`/api/webhooks/${wh.id}`);
    await r.close();
  });

  it('per_application ordering: one at a time per pratica, in event order, even across retries', async () => {
    const r = await startReceiver();
    let first = true;
    // The first request fails, forcing a retry while later events wait behind it.
    r.handler = () => {
      if (first) {
        first = false;
        return { status: 500 };
      }
      return { status: 200, delayMs: 20 };
    };
    const wh = await createWebhook(e, { trigger: 'all', endpoint: `${r.url}/o`, ordering: 'per_application' });
    const app = await createApplication(e, 1900);
    for (const s of [2000, 4000, 4100, 4200, 4300, 4000, 7000]) await move(e, app, s);
    const reqs = await r.waitFor(9, 15_000);
    const statuses = reqs.map((x) => JSON.parse(x.body).status);
    assert.deepEqual(statuses, ['1900', '1900', '2000', '4000', '4100', '4200', '4300', '4000', '7000']);
    await e.client.delete(`/api/webhooks/${wh.id}`);
    await r.close();
  });

  it("429 with Retry-After slows the tenant's lane (all its webhooks on that origin) down, not only that delivery", async () => {
    const r = await startReceiver();
    let n = 0;
    r.handler = () => (n++ === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    const a = await createWebhook(e, { trigger: 'all', endpoint: `${r.url}/a`, title: 'a' });
    const app1 = await createApplication(e, 1900);
    await r.waitFor(1);
    const t429 = r.requests[0].at;
    const b = await createWebhook(e, { trigger: 'all', endpoint: `${r.url}/b`, title: 'b' });
    await createApplication(e, 1900);
    await r.waitFor(4, 10_000);
    const after429 = r.requests.slice(1);
    for (const x of after429) assert.ok(x.at - t429 >= 900, `request ${x.url} came ${x.at - t429} ms after the 429`);
    const d = await waitForDelivery(e, `webhook_id=${a.id}&application_id=${app1}`, ['succeeded']);
    assert.equal(d.attempt_log[0].status_code, 429);
    await e.client.delete(`/api/webhooks/${a.id}`);
    await e.client.delete(`/api/webhooks/${b.id}`);
    await r.close();
  });

  it('never follows redirects: a 302 is a failed attempt and the target sees nothing', async () => {
    const target = await startReceiver();
    const wh = await createWebhook(e, { trigger: '2000', title: 'redirect' });
    e.receiver.handler = (r) => (r.url === wh.path ? { status: 302, headers: { location: `${target.url}/stolen` } } : { status: 200 });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const d = await waitForDelivery(e, `webhook_id=${wh.id}`, ['failed']);
    assert.equal(d.attempt_log[0].status_code, 302);
    assert.equal(target.requests.length, 0);
    e.receiver.handler = () => ({ status: 200 });
    await e.client.delete(`/api/webhooks/${wh.id}`);
    await target.close();
  });

  it('test sends a pratica now and returns the answer; health shows the last 24 h', async () => {
    const wh = await createWebhook(e, { trigger: '2000', version: 2 });
    e.receiver.handler = (r) => (r.url === wh.path ? { status: 201, headers: { 'x-receiver': 'yes' }, body: '{"ok":true}' } : { status: 200 });
    const app = await createApplication(e, 1900);
    const t = await e.client.post(`/api/webhooks/${wh.id}/test`, { application_id: app });
    assert.equal(t.status, 200);
    assert.equal(t.body.status_code, 201);
    assert.equal(t.body.response_body, '{"ok":true}');
    assert.equal(t.body.response_headers['x-receiver'], 'yes');
    assert.equal(JSON.parse(on(e, wh.path)[0].body).id, app);
    const sample = await e.client.post(`/api/webhooks/${wh.id}/test`, {});
    assert.equal(sample.body.ok, true);
    const missing = await e.client.post(`/api/webhooks/${wh.id}/test`, { application_id: 'nope' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.field, 'application_id');
    await move(e, app, 2000);
    await waitForDelivery(e, `webhook_id=${wh.id}`, ['succeeded']);
    const h = await e.client.get(`/api/webhooks/${wh.id}/health`);
    assert.equal(h.body.last_24h.attempts, 1);
    assert.equal(h.body.last_24h.success_rate, 1);
    assert.ok(h.body.per_minute.length >= 1);
    e.receiver.handler = () => ({ status: 200 });
    await e.client.delete(`/api/webhooks/${wh.id}`);
  });
});
