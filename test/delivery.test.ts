/**
 * Delivery end to end: real server, real dispatcher, real receivers on 127.0.0.1.
 * Covers the outbox (one delivery per matching webhook, frozen bodies), the three formats,
 * signing checked by the maintained libraries, and the outcome rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { readFileSync } from 'node:fs';
import { waitUntil } from './harness.js';
import { createApplication, createWebhook, deliveryEnv, move, on, waitForDelivery, waitForPath, type DeliveryEnv } from './delivery-helpers.js';

// The core's own webhook body (test/fixtures/opencity-reference): the keys, in its order.
const referenceKeys = Object.keys(JSON.parse(readFileSync(new URL('../../test/fixtures/opencity-reference/webhook-opencity-v2-2000.json', import.meta.url), 'utf8')));

function headersOf(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

describe('delivery', () => {
  let e: DeliveryEnv;
  before(async () => { e = await deliveryEnv(); });
  after(async () => { await e.close(); });

  it('delivers an OpenCity-format body, signed, with custom headers, when a pratica enters the trigger status', async () => {
    const wh = await createWebhook(e, { trigger: '2000', version: 2, headers: { 'X-Protocollo-Key': 'abc', 'Content-Type': 'application/json; charset=utf-8' }, filters: [e.serviceId] });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const [req] = await waitForPath(e, wh.path, 1);
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['x-protocollo-key'], 'abc');
    assert.equal(req.headers['content-type'], 'application/json; charset=utf-8');
    const body = JSON.parse(req.body);
    assert.deepEqual(Object.keys(body), referenceKeys, "the core's keys in the core's order");
    assert.equal(body.id, app);
    assert.equal(body.status, '2000');
    assert.equal(body.status_name, 'status_submitted');
    assert.deepEqual(body.data, { applicant: { name: 'Mario' } }, 'version 2: data segments dropped');
    assert.equal(body.app_version, '0.1.0');
    assert.equal(body.event_version, '2.0', "event_version is the webhook's version, as the core writes it");
    assert.match(body.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID of its own');
    assert.ok(req.body.includes('"url":"http:\\/\\/'), 'written as PHP writes it: slashes escaped');
    assert.match(body.event_created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    // Both maintained libraries accept the signature.
    const headers = headersOf(req.headers);
    assert.doesNotThrow(() => new StandardWebhook(wh.secret).verify(req.body, headers));
    assert.doesNotThrow(() => new SvixWebhook(wh.secret).verify(req.body, headers));
    assert.match(headers['webhook-id'], /^msg_/);
    const d = await waitForDelivery(e, `webhook_id=${wh.id}`, ['succeeded']);
    assert.equal(d.attempts, 1);
    assert.equal(d.attempt_log[0].status_code, 200);
    await e.client.delete(`/api/webhooks/${wh.id}`);
  });

  it('freezes each body when its event happens: two quick changes give two deliveries with their own status', async () => {
    const wh = await createWebhook(e, { trigger: 'all', version: 1 });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    await move(e, app, 4000);
    const reqs = await waitForPath(e, wh.path, 3);
    const bodies = reqs.map((r) => JSON.parse(r.body));
    assert.deepEqual(bodies.map((b) => b.status).sort(), ['1900', '2000', '4000']);
    assert.equal(new Set(bodies.map((b) => b.event_id)).size, 3);
    for (const b of bodies) {
      assert.equal(b.data['applicant.data.name'], 'Mario', 'version 1: flat data keys');
      assert.equal(b.status_name, { 1900: 'status_pre_submit', 2000: 'status_submitted', 4000: 'status_pending' }[b.status as string]);
      assert.equal(b.event_version, '1.0');
    }
    await e.client.delete(`/api/webhooks/${wh.id}`);
  });

  it('sends the standard and cloudevents formats', async () => {
    const std = await createWebhook(e, { events: ['application.status_changed'], format: 'standard', version: 2, title: 'std' });
    const ce = await createWebhook(e, { events: ['application.*'], format: 'cloudevents', title: 'ce' });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    await waitForPath(e, std.path, 1);
    await waitForPath(e, ce.path, 2);
    const bodies = [...on(e, std.path), ...on(e, ce.path)].map((r) => ({ ct: r.headers['content-type'], b: JSON.parse(r.body) }));
    const s = bodies.find((x) => x.b.type === 'application.status_changed' && x.b.data && !x.b.specversion);
    assert.ok(s, 'standard body');
    assert.equal(s.ct, 'application/json');
    assert.deepEqual(Object.keys(s.b).sort(), ['data', 'timestamp', 'type']);
    assert.equal(s.b.data.status, '2000');
    assert.equal(s.b.data.previous_status, 1900);
    const c = bodies.filter((x) => x.b.specversion === '1.0');
    assert.equal(c.length, 2, 'created and status_changed as CloudEvents');
    for (const x of c) {
      assert.equal(x.ct, 'application/cloudevents+json');
      for (const k of ['id', 'source', 'type', 'time', 'data', 'subject']) assert.ok(x.b[k], k);
    }
    await e.client.delete(`/api/webhooks/${std.id}`);
    await e.client.delete(`/api/webhooks/${ce.id}`);
  });

  it('sends message.created to message_created webhooks with the message JSON', async () => {
    const wh = await createWebhook(e, { trigger: 'message_created' });
    const app = await createApplication(e, 1900);
    const m = await e.client.post(`/api/applications/${app}/messages`, { message: 'Servono altri documenti', author: 'Ufficio scuole' });
    assert.equal(m.status, 201);
    const [req] = await waitForPath(e, wh.path, 1);
    const body = JSON.parse(req.body);
    assert.deepEqual(Object.keys(body), [
      'id', 'message', 'subject', 'author', 'application', 'visibility', 'email', 'created_at', 'sent_at', 'read_at', 'clicked_at',
      'attachments', 'protocol_required', 'protocolled_at', 'protocol_number', 'event_id', 'event_created_at', 'event_version', 'app_version',
    ], "the core's fifteen keys and the four event keys, in its order");
    assert.equal(body.application, app);
    assert.equal(body.event_version, '2.0', 'a webhook made without a version is at "2.0", as in the core');
    await e.client.delete(`/api/webhooks/${wh.id}`);
  });

  it('retries failures on the schedule and records every attempt', async () => {
    const wh = await createWebhook(e, { trigger: '2000' });
    e.receiver.handler = (r) => (r.url === wh.path && on(e, wh.path).length <= 2 ? { status: 500, body: 'boom' } : { status: 204 });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const d = await waitForDelivery(e, `webhook_id=${wh.id}`, ['succeeded']);
    assert.equal(d.attempts, 3);
    assert.deepEqual(d.attempt_log.map((a: any) => a.status_code), [500, 500, 204]);
    assert.equal(d.attempt_log[0].response_body, 'boom');
    assert.ok(d.attempt_log[0].next_attempt_at);
    const ids = new Set(on(e, wh.path).map((r) => r.headers['webhook-id']));
    assert.equal(ids.size, 1, 'webhook-id is stable across retries');
    e.receiver.handler = () => ({ status: 200 });
    await e.client.delete(`/api/webhooks/${wh.id}`);
  });

  it('ends in failed after the last attempt, then resend and recover send it again', async () => {
    const wh = await createWebhook(e, { trigger: '2000' });
    e.receiver.handler = (r) => (r.url === wh.path ? { status: 500 } : { status: 200 });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const d = await waitForDelivery(e, `webhook_id=${wh.id}`, ['failed'], 20_000);
    assert.equal(d.attempts, 3);
    assert.equal(d.next_attempt_at, null);
    e.receiver.handler = () => ({ status: 200 });
    const r = await e.client.post(`/api/deliveries/${d.id}/resend`);
    assert.equal(r.status, 202);
    await waitForDelivery(e, `webhook_id=${wh.id}`, ['succeeded'], 20_000);
    const again = await e.client.post(`/api/deliveries/${d.id}/resend`);
    assert.equal(again.status, 202, 'a succeeded delivery may be resent too');
    await waitForDelivery(e, `webhook_id=${wh.id}`, ['succeeded'], 20_000);
    // Recover: a second webhook fails terminally, then its window is recovered.
    const wh2 = await createWebhook(e, { trigger: '4000', title: 'recover' });
    e.receiver.handler = (r) => (r.url === wh2.path ? { status: 500 } : { status: 200 });
    await move(e, app, 4000);
    await waitForDelivery(e, `webhook_id=${wh2.id}`, ['failed'], 20_000);
    e.receiver.handler = () => ({ status: 200 });
    const rec = await e.client.post(`/api/webhooks/${wh2.id}/recover`, { since: new Date(Date.now() - 60_000).toISOString() });
    assert.equal(rec.status, 202);
    assert.ok(rec.body.recovered >= 1);
    await waitForDelivery(e, `webhook_id=${wh2.id}`, ['succeeded'], 20_000);
    const bad = await e.client.post(`/api/webhooks/${wh2.id}/recover`, { since: 'yesterday' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'since');
    await e.client.delete(`/api/webhooks/${wh.id}`);
    await e.client.delete(`/api/webhooks/${wh2.id}`);
  });

  it('410 Gone disables the webhook at once and emits webhook.disabled', async () => {
    const watcher = await createWebhook(e, { events: ['webhook.*'], title: 'watcher', endpoint: `${e.receiver.url}/watch` });
    const wh = await createWebhook(e, { trigger: '2000', endpoint: `${e.receiver.url}/gone` });
    e.receiver.handler = (r) => (r.url === '/gone' ? { status: 410 } : { status: 200 });
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const d = await waitForDelivery(e, `webhook_id=${wh.id}`, ['failed']);
    assert.equal(d.attempts, 1, 'no retry after 410');
    // The dispatcher records the attempt, then disables the webhook: on PostgreSQL a read may
    // fall between the two commits (the whole suite there once saw it still active).
    let w = await e.client.get(`/api/webhooks/${wh.id}`);
    await waitUntil(async () => {
      w = await e.client.get(`/api/webhooks/${wh.id}`);
      return w.body.active === false;
    }, 5_000, 'the webhook disabled');
    assert.match(w.body.disabled_reason, /410/);
    await waitUntil(() => e.receiver.requests.some((r) => r.url === '/watch' && JSON.parse(r.body).webhook?.id === wh.id));
    const ev = await e.client.get(`/api/events?type=webhook.disabled&subject=${wh.id}`);
    assert.equal(ev.body.items.length, 1);
    // Re-enabling emits webhook.enabled.
    const on = await e.client.patch(`/api/webhooks/${wh.id}`, { active: true });
    assert.equal(on.body.active, true);
    assert.equal(on.body.disabled_reason, null);
    const en = await e.client.get(`/api/events?type=webhook.enabled&subject=${wh.id}`);
    assert.equal(en.body.items.length, 1);
    e.receiver.handler = () => ({ status: 200 });
    await e.client.delete(`/api/webhooks/${wh.id}`);
    await e.client.delete(`/api/webhooks/${watcher.id}`);
  });

  it('rotating the secret signs with both secrets during the overlap', async () => {
    const wh = await createWebhook(e, { trigger: '2000' });
    const rot = await e.client.post(`/api/webhooks/${wh.id}/rotate-secret`);
    assert.equal(rot.status, 200);
    assert.notEqual(rot.body.secret, wh.secret);
    assert.ok(rot.body.previous_secret_expires_at);
    const app = await createApplication(e, 1900);
    await move(e, app, 2000);
    const [req] = await waitForPath(e, wh.path, 1);
    const headers = headersOf(req.headers);
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    assert.doesNotThrow(() => new StandardWebhook(wh.secret).verify(req.body, headers), 'old secret still verifies');
    assert.doesNotThrow(() => new StandardWebhook(rot.body.secret).verify(req.body, headers), 'new secret verifies');
    const list = await e.client.get(`/api/webhooks/${wh.id}`);
    assert.equal(list.body.secret, undefined, 'the secret is not shown again');
    await e.client.delete(`/api/webhooks/${wh.id}`);
  });

  it('serves Prometheus metrics', async () => {
    assert.equal((await e.server.api.get('/metrics')).status, 401, 'not without the admin token');
    const r = await e.server.adminApi.get('/metrics');
    assert.equal(r.status, 200);
    for (const name of ['messo_attempts_total', 'messo_attempt_duration_seconds', 'messo_queue_depth', 'messo_oldest_due_delivery_age_seconds', 'messo_fanout_jobs', 'messo_build_info', 'http_request_duration_seconds']) {
      assert.ok(r.text.includes(name), name);
    }
  });
});
