/**
 * The bridge for an OpenCity core's own webhooks (issue 11, item 5), driven with the core's own
 * webhook bodies (test/fixtures/opencity-reference), over real HTTP on SQLite: applications at
 * version "1.0" and "2.0" and messages arrive, repeats are recognised without the core's
 * event_id (an application by id + status + latest_status_change_time, a message by id), and
 * what is bridged is delivered by messo's webhooks exactly as the core would send it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createTenant, startReceiver, startTestServer, waitUntil, type Client, type Receiver, type TestServer } from './harness.js';

type Body = Record<string, any>;
const ref = (name: string): Body =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/opencity-reference/${name}.json`, import.meta.url), 'utf8'));
const EVENT_KEYS = ['event_id', 'event_created_at', 'event_version', 'app_version'];
const withoutEventKeys = (b: Body): Body => Object.fromEntries(Object.entries(b).filter(([k]) => !EVENT_KEYS.includes(k)));

describe('bridge for the core\'s own webhooks', () => {
  let server: TestServer;
  let client: Client;
  let token: string;
  let receiver: Receiver;
  const send = async (body: unknown, t = token) => server.api.post(`/ingest/opencity-webhook/${t}`, body);

  before(async () => {
    server = await startTestServer({ MESSO_DISPATCHER: 'true' });
    const tenant = await createTenant(server, 'Comune di Bugliano');
    client = tenant.client;
    token = (await client.post('/api/ingest-tokens', { name: 'core webhook' })).body.token;
    receiver = await startReceiver();
  });
  after(async () => { await receiver.close(); await server.close(); });

  it('takes a version-1.0 application body, and its message; repeats with a new event_id are duplicates', async () => {
    const hook = await client.post('/api/webhooks', { title: 'all', endpoint: `${receiver.url}/all`, trigger: 'all', version: '1.0' });
    assert.equal(hook.status, 201, hook.text);
    const app = ref('webhook-opencity-v1-2000');
    const first = await send(app);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.result, 'created');
    assert.equal(first.body.type, 'application.created');
    // The core's next send job for the same change has another event_id: recognised all the same.
    const again = await send({ ...app, event_id: randomUUID(), event_created_at: '2025-03-10T09:07:00+01:00' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.result, 'duplicate');
    assert.equal(again.body.event_id, first.body.event_id);

    const stored = await client.get(`/api/applications/${app.id}`);
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.body, withoutEventKeys(app), 'the pratica as the core shows it at version 1');

    const msg = ref('webhook-opencity-message-v1');
    const m = await send(msg);
    assert.equal(m.status, 201, m.text);
    assert.equal(m.body.type, 'message.created');
    const m2 = await send({ ...msg, event_id: randomUUID() });
    assert.equal(m2.status, 200);
    assert.equal(m2.body.result, 'duplicate');
    const listed = (await client.get(`/api/applications/${app.id}/messages`)).body.items;
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0], withoutEventKeys(msg), "the core's 15-key message");

    // messo's own webhook (trigger all) sends both on, as the core would have.
    await waitUntil(() => receiver.requests.filter((r) => r.url === '/all').length >= 2, 10_000, 'two deliveries');
    const sent = receiver.requests.filter((r) => r.url === '/all').map((r) => JSON.parse(r.body));
    const sentApp = sent.find((b) => b.message === undefined)!;
    const sentMsg = sent.find((b) => b.message !== undefined)!;
    assert.deepEqual(withoutEventKeys(sentApp), withoutEventKeys(app));
    assert.deepEqual(Object.keys(sentApp), Object.keys(app), "the core's keys in its order");
    assert.equal(sentApp.event_version, '1.0');
    assert.deepEqual(withoutEventKeys(sentMsg), withoutEventKeys(msg));
    assert.equal(sentMsg.event_version, '1.0');
    assert.equal(receiver.requests.filter((r) => r.url === '/all').length, 2, 'nothing for the repeats');
  });

  it('a newer status of the same pratica is a status change; the same status set again (time moved) too', async () => {
    const app = ref('webhook-opencity-v1-2000');
    const taken = { ...app, event_id: randomUUID(), status: '4000', status_name: 'status_pending', latest_status_change_time: app.latest_status_change_time + 3600 };
    const r = await send(taken);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.type, 'application.status_changed');
    const r2 = await send({ ...taken, event_id: randomUUID() });
    assert.equal(r2.body.result, 'duplicate');
    const again = await send({ ...taken, event_id: randomUUID(), latest_status_change_time: taken.latest_status_change_time + 60 });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.type, 'application.status_changed');
    const events = (await client.get(`/api/events?subject=${app.id}&type=application.*`)).body.items;
    assert.deepEqual(events.map((e: Body) => [e.data.from ?? null, e.data.to ?? null]), [[null, null], [2000, 4000], [4000, 4000]]);
  });

  it('takes a version-2.0 application body (its data kept as the nested keys it has)', async () => {
    const other = await createTenant(server, 'Comune di Altrove');
    const otherToken = (await other.client.post('/api/ingest-tokens', {})).body.token;
    const v2 = ref('webhook-opencity-v2-2000-lists');
    const r = await send(v2, otherToken);
    assert.equal(r.status, 201, r.text);
    const got = (await other.client.get(`/api/applications/${v2.id}?version=2`)).body;
    assert.equal(got.status, '2000');
    assert.equal(got.service_id, v2.service_id);
    assert.deepEqual(got.data, v2.data, 'version 2 read back as it came');
    assert.equal((await client.get(`/api/applications/${v2.id}`)).status, 404, "nothing in the first tenant");
    const msg = await send(ref('webhook-opencity-message-v2-lists'), otherToken);
    assert.equal(msg.status, 201, msg.text);
  });

  it('a status change the producer sink already brought is a repeat, not a second event', async () => {
    const third = await createTenant(server, 'Comune di Terzo');
    const t3 = (await third.client.post('/api/ingest-tokens', {})).body.token;
    const { tenant_id: _core, ...producer } = ref('producer-applications-2000');
    const id = randomUUID(); // application ids are unique across tenants: the first test used the fixture's
    const viaSink = await server.api.post(`/ingest/opencity/${t3}/applications`, { ...producer, id });
    assert.equal(viaSink.status, 201, viaSink.text);
    const viaBridge = await send({ ...ref('webhook-opencity-v1-2000'), id }, t3);
    assert.equal(viaBridge.status, 200, viaBridge.text);
    assert.equal(viaBridge.body.result, 'duplicate');
    const events = (await third.client.get('/api/events')).body.items;
    assert.deepEqual(events.map((e: Body) => e.type), ['application.created']);
  });

  it('never refuses an authenticated JSON body: what it cannot apply is ingest.rejected', async () => {
    const before = (await client.get('/api/events?type=ingest.rejected')).body.items.length;
    const cases: [string, unknown, string | null][] = [
      ['message on an unknown pratica', { ...ref('webhook-opencity-message-v1'), id: randomUUID(), application: randomUUID() }, 'application'],
      ['a service body', { id: randomUUID(), name: 'Servizio', slug: 'servizio' }, null],
      ['unknown shape', { hello: 'world' }, null],
      ['a list', [1, 2], null],
      ['application without id', { ...withoutEventKeys(ref('webhook-opencity-v1-2000')), id: null }, 'id'],
      ['invalid status', { ...ref('webhook-opencity-v1-2000'), id: randomUUID(), status: 'pending' }, 'status'],
      ['bad event_created_at', { ...ref('webhook-opencity-v1-2000'), event_created_at: 'ieri' }, 'event_created_at'],
      ['prototype key', { ...ref('webhook-opencity-v1-2000'), id: randomUUID(), data: { 'constructor.prototype.polluted': 'yes' } }, 'data.constructor.prototype.polluted'],
    ];
    for (const [what, body, field] of cases) {
      const r = await send(body);
      assert.equal(r.status, 200, `${what}: ${r.text}`);
      assert.equal(r.body.result, 'rejected', what);
      const e = (await client.get(`/api/events?type=ingest.rejected&limit=500`)).body.items.at(-1);
      assert.equal(e.data.source, 'opencity-webhook', what);
      assert.equal(e.data.field, field, what);
    }
    assert.equal((await client.get('/api/events?type=ingest.rejected&limit=500')).body.items.length, before + cases.length);
    assert.equal(({} as Body).polluted, undefined);
    assert.equal((await server.api.post(`/ingest/opencity-webhook/ingt_${'B'.repeat(32)}`, { hello: 'world' })).status, 401);
    const bad = await server.api.request('POST', `/ingest/opencity-webhook/${token}`, '{"id":', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
  });
});
