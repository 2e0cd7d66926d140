/**
 * CloudEvents as the official SDK (`cloudevents` on npm) reads them, in both modes: the same
 * event, a reverse-DNS type under the configured prefix, a `source` URI naming the tenant; in
 * binary mode the attributes travel as ce-* headers, `data` is the body, and the Standard
 * Webhooks signature covers exactly that body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HTTP, type CloudEvent } from 'cloudevents';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createApplication, createWebhook, deliveryEnv, move, on, waitForPath, type DeliveryEnv } from './delivery-helpers.js';
import type { ReceivedRequest } from './harness.js';

function toEvent(r: ReceivedRequest): CloudEvent<Record<string, unknown>> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k] = v;
  const parsed = HTTP.toEvent({ headers, body: r.body });
  assert.ok(!Array.isArray(parsed));
  return parsed as CloudEvent<Record<string, unknown>>;
}

describe('CloudEvents, read with the CloudEvents SDK', () => {
  let e: DeliveryEnv;
  before(async () => { e = await deliveryEnv({ MESSO_CLOUDEVENTS_TYPE_PREFIX: 'it.comune.bugliano' }); });
  after(() => e.close());

  it('sends one event in structured and in binary mode, per webhook', async () => {
    const structured = await createWebhook(e, { events: ['application.status_changed'], format: 'cloudevents', title: 'structured' });
    const binary = await createWebhook(e, { events: ['application.status_changed'], format: 'cloudevents-binary', title: 'binary' });
    const got = await e.client.get(`/api/webhooks/${binary.id}`);
    assert.equal(got.body.format, 'cloudevents-binary');
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const [s] = await waitForPath(e, structured.path, 1);
    const [b] = await waitForPath(e, binary.path, 1);

    assert.equal(s.headers['content-type'], 'application/cloudevents+json');
    assert.equal(b.headers['content-type'], 'application/json');
    assert.equal(b.headers['ce-specversion'], '1.0');
    assert.equal(HTTP.isEvent({ headers: b.headers as Record<string, string>, body: b.body }), true);

    const se = toEvent(s);
    const be = toEvent(b);
    assert.equal(se.validate(), true);
    assert.equal(be.validate(), true);
    for (const ev of [se, be]) {
      assert.equal(ev.type, 'it.comune.bugliano.application.status_changed');
      assert.equal(ev.source, `urn:messo:tenant:${e.tenantId}`);
      assert.equal(ev.subject, app);
      assert.equal(ev.specversion, '1.0');
    }
    assert.equal(be.id, se.id, 'the same event');
    assert.equal(be.time, se.time);
    assert.deepEqual(be.data, se.data, 'the same data');
    assert.equal(be.data?.status, '2000');
    assert.equal(be.data?.previous_status, 1900);
    // The body sent is data alone, and the signature is over it.
    assert.deepEqual(JSON.parse(b.body), se.data);
    assert.doesNotThrow(() => new StandardWebhook(binary.secret).verify(b.body, b.headers as Record<string, string>));
    assert.doesNotThrow(() => new StandardWebhook(structured.secret).verify(s.body, s.headers as Record<string, string>));
    assert.equal(on(e, binary.path).length, 1);
  });

  it('refuses an unknown format naming the field', async () => {
    const r = await e.client.post('/api/webhooks', { title: 'x', endpoint: `${e.receiver.url}/x`, format: 'cloudevents-batch' });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, 'format');
  });
});
