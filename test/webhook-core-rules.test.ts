/**
 * Webhook configuration and trigger rules as the OpenCity core has them (issue 11, items 2-3),
 * over real HTTP on SQLite: version strings "1.0"/"2.0" (default "2.0"), a service filter that
 * names a service not published yet, and when `all`, a status code and `message_created` fire.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createWebhook, deliveryEnv, on, waitForPath, type DeliveryEnv } from './delivery-helpers.js';
import { waitUntil } from './harness.js';

const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/opencity/${name}.json`, import.meta.url), 'utf8'));
const bodies = (e: DeliveryEnv, path: string) => on(e, path).map((r) => JSON.parse(r.body));

describe('webhook version as the core stores it', () => {
  let e: DeliveryEnv;
  before(async () => { e = await deliveryEnv(); });
  after(async () => { await e.close(); });

  it('accepts 1, 2, "1", "2", "1.0", "2.0"; answers "1.0" / "2.0"; a new webhook gets "2.0"', async () => {
    const cases: [unknown, string][] = [[undefined, '2.0'], [1, '1.0'], [2, '2.0'], ['1', '1.0'], ['2', '2.0'], ['1.0', '1.0'], ['2.0', '2.0']];
    for (const [version, expected] of cases) {
      const r = await e.client.post('/api/webhooks', { title: 'v', endpoint: `${e.receiver.url}/v`, ...(version === undefined ? {} : { version }) });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.version, expected, `version ${String(version)}`);
      assert.equal((await e.client.get(`/api/webhooks/${r.body.id}`)).body.version, expected);
      const patched = await e.client.patch(`/api/webhooks/${r.body.id}`, { version: expected === '1.0' ? '2.0' : 1 });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.version, expected === '1.0' ? '2.0' : '1.0');
      assert.equal((await e.client.delete(`/api/webhooks/${r.body.id}`)).status, 204);
    }
    const listed = (await e.client.get('/api/webhooks')).body.items;
    assert.ok(listed.every((w: any) => w.version === '1.0' || w.version === '2.0'));
  });

  it('a default webhook sends the version-2 body with event_version "2.0"', async () => {
    const wh = await createWebhook(e, { trigger: '2000' });
    const app = await e.client.post('/api/applications', { service_id: e.serviceId, status: 2000, data: { 'applicant.data.name': 'Mario' } });
    assert.equal(app.status, 201, app.text);
    const [r] = await waitForPath(e, wh.path, 1);
    const body = JSON.parse(r.body);
    assert.equal(body.event_version, '2.0');
    assert.deepEqual(body.data, { applicant: { name: 'Mario' } });
  });

  it('keeps a filter naming a service not published yet, shows it as unknown, and matches once it exists', async () => {
    const future = randomUUID();
    const wh = await createWebhook(e, { trigger: 'all', filters: [e.serviceId, future] });
    const got = await e.client.get(`/api/webhooks/${wh.id}`);
    assert.deepEqual(got.body.filters, [e.serviceId, future]);
    assert.deepEqual(got.body.unknown_services, [future]);
    const svc = await e.client.post('/api/services', { id: future, name: 'Bonus bebè' });
    assert.equal(svc.status, 201, svc.text);
    assert.deepEqual((await e.client.get(`/api/webhooks/${wh.id}`)).body.unknown_services, []);
    const app = await e.client.post('/api/applications', { service_id: future, status: 2000 });
    assert.equal(app.status, 201, app.text);
    const [r] = await waitForPath(e, wh.path, 1);
    assert.equal(JSON.parse(r.body).service_id, future);
  });
});

describe('trigger rules as the core', () => {
  let e: DeliveryEnv;
  before(async () => { e = await deliveryEnv(); });
  after(async () => { await e.close(); });

  it('all, a status code and message_created, over the API (4000 → 4000 included)', async () => {
    const all = await createWebhook(e, { trigger: 'all', version: '1.0' });
    const s4000 = await createWebhook(e, { trigger: 4000, version: '1.0' });
    const msg = await createWebhook(e, { trigger: 'message_created', version: '1.0' });
    const app = await e.client.post('/api/applications', { service_id: e.serviceId, status: 2000 });
    const id: string = app.body.id;
    for (const to of [4000, 4000]) assert.equal((await e.client.post(`/api/applications/${id}/transitions`, { status: to })).status, 200);
    const m = await e.client.post(`/api/applications/${id}/messages`, { message: 'Serve un documento', subject: 'Richiesta' });
    assert.equal(m.status, 201, m.text);
    assert.equal((await e.client.post(`/api/applications/${id}/transitions`, { status: 7000 })).status, 200);

    // all: created 2000, 4000, 4000 again, the message, 7000 — in that order (one endpoint, sent in order).
    await waitForPath(e, all.path, 5);
    const allBodies = bodies(e, all.path);
    assert.deepEqual(allBodies.map((b) => (b.message !== undefined ? 'message' : b.status)).sort(), ['2000', '4000', '4000', '7000', 'message'].sort());
    // the status code: each time 4000 is set, the same-status move included.
    await waitForPath(e, s4000.path, 2);
    // message_created: the message only.
    const [mb] = await waitForPath(e, msg.path, 1);
    assert.equal(JSON.parse(mb.body).id, m.body.id);
    assert.equal(JSON.parse(mb.body).event_version, '1.0');
    await waitUntil(async () => (await e.client.get(`/api/deliveries?webhook_id=${all.id}`)).body.items.every((d: any) => d.status === 'succeeded'));
    assert.equal(on(e, s4000.path).length, 2, '4000 twice, nothing for 2000, 7000 or the message');
    assert.ok(bodies(e, s4000.path).every((b) => b.status === '4000'));
    assert.equal(on(e, msg.path).length, 1);
    assert.equal(on(e, all.path).length, 5);
  });

  it('a newer snapshot with the same status and a moved latest_status_change_time fires the status trigger again', async () => {
    const tenant = (await e.client.get('/api/tenants')).body.items[0];
    const core = tenant.external_id ?? tenant.id;
    const token = (await e.client.post('/api/ingest-tokens', { name: 'core' })).body.token;
    const base = fixture('application-4000-taken-in-charge');
    const s4000 = await createWebhook(e, { trigger: 4000, filters: [base.service_id] });
    const send = (body: Record<string, unknown>) => e.server.api.post(`/ingest/opencity/${token}/applications`, { ...body, tenant_id: core });
    const first = await send({ ...base });
    assert.equal(first.status, 201, first.text);
    // The same status set again ten minutes later: the core moves latest_status_change_time.
    const again = await send({
      ...base, event_id: randomUUID(), event_created_at: '2025-11-20T11:55:00+01:00',
      latest_status_change_time: base.latest_status_change_time + 600, latest_status_change_at: '2025-11-20T11:55:00+01:00',
    });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.type, 'application.status_changed');
    // An edit that does not set the status again is an update, and fires nothing.
    const edit = await send({ ...base, event_id: randomUUID(), event_created_at: '2025-11-20T12:00:00+01:00', latest_status_change_time: base.latest_status_change_time + 600, latest_status_change_at: '2025-11-20T11:55:00+01:00', user_compilation_notes: 'x' });
    assert.equal(edit.body.type, 'application.updated', edit.text);
    await waitForPath(e, s4000.path, 2);
    await waitUntil(async () => (await e.client.get(`/api/deliveries?webhook_id=${s4000.id}`)).body.items.every((d: any) => d.status === 'succeeded'));
    assert.equal(on(e, s4000.path).length, 2);
  });
});
