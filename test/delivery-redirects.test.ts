/**
 * Per-webhook follow_redirects (issue 11): off by default (a 3xx is the answer, as Standard
 * Webhooks asks); on, 301/302/307/308 are followed with method and body, at most 5 hops, the
 * address guard judging every hop, custom headers dropped on a hop to another origin. Real
 * receivers on loopback only; the refused hop is 127.0.0.2, outside MESSO_ALLOWED_TARGETS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReceiver, type Receiver } from './harness.js';
import { createWebhook, deliveryEnv, on, waitForDelivery, waitForPath, type DeliveryEnv } from './delivery-helpers.js';

describe('follow_redirects', () => {
  let e: DeliveryEnv;
  let second: Receiver;
  before(async () => {
    e = await deliveryEnv({ MESSO_ALLOWED_TARGETS: '127.0.0.1/32' });
    second = await startReceiver();
    e.receiver.handler = (req) => {
      const m = /^\/hop\/(\d+)\/(.*)$/.exec(req.url);
      if (m) {
        const n = Number(m[1]);
        return { status: 308, headers: { location: n > 1 ? `/hop/${n - 1}/${m[2]}` : `/${m[2]}` } };
      }
      if (req.url.startsWith('/to-guarded/')) return { status: 307, headers: { location: `http://127.0.0.2:${e.receiver.port}/final` } };
      if (req.url.startsWith('/to-other/')) return { status: 301, headers: { location: `${second.url}/other-final` } };
      if (req.url.startsWith('/see-other/')) return { status: 303, headers: { location: '/final-303' } };
      return { status: 200, body: 'ok' };
    };
  });
  after(async () => { await second.close(); await e.close(); });

  const test = async (id: string) => (await e.client.post(`/api/webhooks/${id}/test`, {})).body;

  it('is off by default: a redirect is the answer, and is not followed', async () => {
    const wh = await createWebhook(e, { endpoint: `${e.receiver.url}/hop/1/off-final`, trigger: 'all' });
    assert.equal((await e.client.get(`/api/webhooks/${wh.id}`)).body.follow_redirects, false);
    const r = await test(wh.id);
    assert.equal(r.status_code, 308);
    assert.equal(r.ok, false);
    assert.equal(on(e, '/off-final').length, 0);
  });

  it('on: follows 308s with the same method, body and signature, up to 5 hops', async () => {
    const wh = await createWebhook(e, { endpoint: `${e.receiver.url}/hop/5/five-final`, trigger: 'all', follow_redirects: true, headers: { 'X-Key': 'k' } });
    assert.equal((await e.client.get(`/api/webhooks/${wh.id}`)).body.follow_redirects, true);
    const r = await test(wh.id);
    assert.equal(r.status_code, 200, JSON.stringify(r));
    const [first] = on(e, '/hop/5/five-final');
    const [final] = on(e, '/five-final');
    assert.equal(final.method, 'POST');
    assert.equal(final.body, first.body, 'the same body');
    assert.equal(final.headers['webhook-signature'], first.headers['webhook-signature']);
    assert.equal(final.headers['x-key'], 'k', 'same origin: custom headers kept');

    // Through the dispatcher too, for a real delivery.
    const app = await e.client.post('/api/applications', { service_id: e.serviceId, status: 2000 });
    assert.equal(app.status, 201);
    await waitForPath(e, '/five-final', 2);
    const d = await waitForDelivery(e, `webhook_id=${wh.id}`, ['succeeded']);
    assert.equal(d.attempt_log[0].status_code, 200);
  });

  it('stops after 5 hops: the sixth redirect is the answer', async () => {
    const wh = await createWebhook(e, { endpoint: `${e.receiver.url}/hop/6/six-final`, trigger: 'message_created', follow_redirects: true });
    const r = await test(wh.id);
    assert.equal(r.status_code, 308);
    assert.equal(on(e, '/hop/1/six-final').length, 1, 'five hops taken');
    assert.equal(on(e, '/six-final').length, 0);
  });

  it('the address guard judges every hop', async () => {
    const wh = await createWebhook(e, { endpoint: `${e.receiver.url}/to-guarded/x`, trigger: 'message_created', follow_redirects: true });
    const r = await test(wh.id);
    assert.equal(r.ok, false);
    assert.equal(r.error_class, 'refused_target', JSON.stringify(r));
    assert.equal(on(e, '/final').length, 0);
  });

  it('a hop to another origin drops custom headers and keeps the signature; 303 is not followed', async () => {
    const wh = await createWebhook(e, { endpoint: `${e.receiver.url}/to-other/x`, trigger: 'message_created', follow_redirects: true, headers: { 'X-Key': 'secret' } });
    const r = await test(wh.id);
    assert.equal(r.status_code, 200, JSON.stringify(r));
    const [got] = second.requests.filter((q) => q.url === '/other-final');
    assert.equal(got.headers['x-key'], undefined);
    assert.ok(got.headers['webhook-signature']);
    const see = await createWebhook(e, { endpoint: `${e.receiver.url}/see-other/x`, trigger: 'message_created', follow_redirects: true });
    assert.equal((await test(see.id)).status_code, 303);
    assert.equal(on(e, '/final-303').length, 0);
  });

  it('can be switched off again', async () => {
    const wh = await createWebhook(e, { endpoint: `${e.receiver.url}/hop/1/patched`, trigger: 'message_created', follow_redirects: true });
    const p = await e.client.patch(`/api/webhooks/${wh.id}`, { follow_redirects: false });
    assert.equal(p.body.follow_redirects, false);
    assert.equal((await test(wh.id)).status_code, 308);
  });
});
