/**
 * The OpenCity drop-in ingest, driven the way a core drives it: real HTTP on 127.0.0.1, bodies
 * from test/fixtures/opencity (the application at version 1, as the core's producer serializes it
 * whatever event_version says, + tenant_id, event_id, event_created_at, event_version,
 * app_version), sent with only Content-Type: application/json. Logs are captured at debug level
 * to prove the token never reaches them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { createTenant, startReceiver, waitUntil, type Receiver, type TestServer } from './harness.js';
import { pgAdmin } from './pg.js';
import { APP_ID, atVersion2, entityOf, FLAT_DATA, fixture, NESTED_V2, SERVICE_ID, setup, UUID } from './opencity-helpers.js';

const SEQUENCE = [
  'application-1000-draft', 'application-2000-submitted', 'application-3000-registered',
  'application-4000-taken-in-charge', 'application-7000-accepted',
];

/** The ingest_tokens rows as stored, read around the store (SQLite file or PostgreSQL schema). */
async function rawTokenRows(server: TestServer): Promise<Record<string, unknown>[]> {
  const url = server.config.databaseUrl;
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare('SELECT * FROM ingest_tokens ORDER BY seq').all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const schema = new URL(url).searchParams.get('schema') ?? 'public';
  return pgAdmin(async (c) => (await c.query(`SELECT * FROM "${schema}".ingest_tokens ORDER BY seq`)).rows);
}

test('a pratica replayed as the core sends it becomes events, a projection that shows what the core sent, and delivered webhooks', async () => {
  const s = await setup({ MESSO_DISPATCHER: 'true' });
  const receivers: Receiver[] = [];
  try {
    assert.equal((await s.send('services', fixture('service'))).status, 201);
    const hooks: Record<string, string> = {};
    for (const [name, extra] of [['all-v1', { version: 1 }], ['all-v2', { version: 2 }], ['taken-in-charge', { version: 2, trigger: 4000 }]] as const) {
      const r = await startReceiver();
      receivers.push(r);
      const w = await s.tenant.client.post('/api/webhooks', { title: name, endpoint: r.url, filters: [SERVICE_ID], ...extra });
      assert.equal(w.status, 201, w.text);
      hooks[name] = w.body.id;
    }

    const answers: number[] = [];
    for (const name of SEQUENCE.slice(0, 3)) answers.push((await s.send('applications', fixture(name))).status);
    // The core timed out on the 3000 snapshot and sends it again: same event_id.
    const repeat = await s.send('applications', fixture('application-3000-registered'));
    assert.equal(repeat.status, 200, repeat.text);
    assert.deepEqual(repeat.body, { result: 'duplicate', event_id: fixture('application-3000-registered').event_id, type: 'application.status_changed' });
    for (const name of SEQUENCE.slice(3)) answers.push((await s.send('applications', fixture(name))).status);
    // An edit made while in 4000, retried by the core only after the acceptance got through.
    const late = await s.send('applications', fixture('application-4000-late-update'));
    answers.push(late.status);
    assert.deepEqual(answers, [201, 201, 201, 201, 201, 201]);
    assert.equal(late.body.type, 'ingest.outdated_snapshot');

    const events = (await s.tenant.client.get(`/api/events?subject=${APP_ID}`)).body.items;
    assert.deepEqual(events.map((e: any) => [e.type, e.data.from ?? null, e.data.to ?? null]), [
      ['application.created', null, null],
      ['application.status_changed', 1000, 2000],
      ['application.status_changed', 2000, 3000],
      ['application.status_changed', 3000, 4000],
      ['application.status_changed', 4000, 7000],
      ['ingest.outdated_snapshot', null, null],
    ]);
    assert.deepEqual(events.map((e: any) => e.event_id), [...SEQUENCE, 'application-4000-late-update'].map((n) => fixture(n).event_id));
    assert.ok(events.every((e: any) => e.event_version === 2 && e.app_id === 'opencity:2.15.0'));
    assert.equal(events[5].data.application.status, 4000, 'the late snapshot is kept as the core sent it');
    assert.equal(await s.countEvents(), 7, 'one service event, six application events, nothing for the repeat');

    // Projection: the accepted pratica exactly as the core sent it, not moved back by the late 4000.
    const accepted = entityOf(fixture('application-7000-accepted'));
    const v1 = await s.tenant.client.get(`/api/applications/${APP_ID}`);
    assert.deepEqual(v1.body, accepted);
    assert.deepEqual(Object.keys(v1.body), Object.keys(accepted), 'in the core order');
    const v2 = await s.tenant.client.get(`/api/applications/${APP_ID}?version=2`);
    assert.deepEqual(v2.body, atVersion2(accepted));
    const history = (await s.tenant.client.get(`/api/applications/${APP_ID}/history`)).body.items;
    assert.deepEqual(history.map((h: any) => h.to), [1000, 2000, 3000, 4000, 7000]);
    const replayed = await s.server.store.replayApplication(s.tenant.id, APP_ID);
    assert.equal(replayed?.status, 7000, 'the log alone rebuilds the same projection');

    const service = await s.tenant.client.get(`/api/services/${SERVICE_ID}`);
    assert.equal(service.status, 200);
    assert.deepEqual([service.body.name, service.body.slug, service.body.status], ["Iscrizione all'asilo nido", 'iscrizione-asilo-nido', 'active']);

    // Outbox: a delivery per status the pratica entered, none for the repeat or the late snapshot;
    // each body frozen as the platform's webhook sends it at the webhook's version.
    const bodiesOf = async (hook: string) =>
      (await s.server.store.listDeliveries(s.tenant.id, { webhook_id: hook }, { limit: 50 })).items
        .sort((a, b) => a.seq - b.seq).map((d) => JSON.parse(d.body));
    const sendIds = new Set<string>();
    for (const [hook, version] of [['all-v1', 1], ['all-v2', 2]] as const) {
      const bodies = await bodiesOf(hooks[hook]);
      assert.deepEqual(bodies.map((b) => b.status), ['1000', '2000', '3000', '4000', '7000'], hook);
      bodies.forEach((b, i) => {
        const sent = fixture(SEQUENCE[i]);
        const { event_version, event_id, ...rest } = b;
        assert.deepEqual(rest, {
          ...(version === 1 ? entityOf(sent) : atVersion2(entityOf(sent))), event_created_at: sent.event_created_at, app_version: '2.15.0',
        }, `${hook} body ${i}`);
        assert.equal(event_version, `${version}.0`, `${hook}: event_version is the webhook's version, as the core writes it`);
        assert.match(event_id, UUID, 'each delivery has a UUID of its own, as each of the core\'s send jobs does');
        assert.notEqual(event_id, sent.event_id);
        sendIds.add(event_id);
      });
    }
    assert.equal(sendIds.size, 10, 'no two deliveries share an event_id');
    assert.deepEqual((await bodiesOf(hooks['taken-in-charge'])).map((b) => b.status), ['4000'], 'the late 4000 does not fire a 4000 trigger again');

    // End to end: the dispatcher sends exactly those bodies, signed, to the receivers.
    await waitUntil(async () => (await s.server.store.listDeliveries(s.tenant.id, {}, { limit: 50 })).items.every((d) => d.status === 'succeeded'),
      10_000, 'every delivery succeeded');
    const [v1Receiver, v2Receiver, triggerReceiver] = receivers;
    for (const [r, hook] of [[v1Receiver, 'all-v1'], [v2Receiver, 'all-v2'], [triggerReceiver, 'taken-in-charge']] as const) {
      const frozen = await bodiesOf(hooks[hook]);
      const received = r.requests.map((q) => JSON.parse(q.body)).sort((a, b) => a.status - b.status);
      assert.deepEqual(received, frozen, `${hook}: what was sent is what was frozen`);
      assert.ok(r.requests.every((q) => q.headers['webhook-signature'] && q.headers['content-type']?.startsWith('application/json')));
    }

    const text = s.logs.join('');
    assert.ok(!text.includes(s.token), 'the ingest token appears in no log line');
    assert.ok(text.includes(`/ingest/opencity/${s.token.slice(0, 9)}…/applications`), 'request lines show the masked URL');
  } finally {
    for (const r of receivers) await r.close();
    await s.server.close();
  }
});

test('an unsupported event_version is skipped quietly: 2xx, a debug line, nothing written', async () => {
  const s = await setup();
  try {
    const future = { ...fixture('application-1000-draft'), event_version: 3, event_id: '9f000000-0000-4000-8000-000000000003', data: 'a shape from the future' };
    const r = await s.send('applications', future);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { result: 'skipped', event_id: future.event_id, type: null });
    assert.equal(await s.countEvents(), 0);
    const line = s.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'opencity ingest: unsupported event_version skipped');
    assert.equal(line?.level, 20, 'logged at debug');
    assert.equal(line?.event_version, 3);
    // Version 1 (flat data keys) is understood.
    const v1 = { ...fixture('application-1000-draft'), event_version: 1, data: FLAT_DATA };
    assert.equal((await s.send('applications', v1)).status, 201);
    assert.deepEqual((await s.tenant.client.get(`/api/applications/${APP_ID}?version=2`)).body.data, NESTED_V2);
  } finally {
    await s.server.close();
  }
});

test('a repeated event_id is a duplicate whatever its body holds now: nothing written, nothing rejected', async () => {
  const s = await setup();
  try {
    const first = fixture('application-2000-submitted');
    assert.equal((await s.send('applications', first)).status, 201);
    // The pratica's snapshot finds the repeat in its own transaction; one the ingest would refuse
    // (no status) is still a repeat, as the core's retry of a post it already made.
    for (const body of [first, { ...first, status: undefined }, { ...first, service_id: '' }]) {
      const r = await s.send('applications', body);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { result: 'duplicate', event_id: first.event_id, type: 'application.created' });
    }
    assert.equal(await s.countEvents(), 1, 'no second event and no ingest.rejected');
    // A new event_id with that invalid body is kept as ingest.rejected, as before.
    const fresh = await s.send('applications', { ...first, status: undefined, event_id: '9f000000-0000-4000-8000-000000000011' });
    assert.equal(fresh.body.result, 'rejected', fresh.text);
    assert.equal(fresh.body.type, 'ingest.rejected');
  } finally {
    await s.server.close();
  }
});

test('meetings and calendars become meeting.* / calendar.* events that webhooks can subscribe to', async () => {
  const s = await setup();
  const r = await startReceiver();
  try {
    const hook = await s.tenant.client.post('/api/webhooks', { title: 'agenda', endpoint: r.url, events: ['meeting.*', 'calendar.*'], version: 2 });
    assert.equal(hook.status, 201, hook.text);
    // tenant_id may also be messo's own tenant id.
    assert.equal((await s.send('calendars', { ...fixture('calendar'), tenant_id: s.tenant.id })).status, 201);
    assert.equal((await s.send('meetings', fixture('meeting-requested'))).status, 201);
    assert.equal((await s.send('meetings', fixture('meeting-approved'))).status, 201);
    // The request, retried late, is older than the approval: recorded, not delivered as news.
    const late = { ...fixture('meeting-requested'), event_id: '0ee00000-0000-4000-8000-00000000000f' };
    assert.equal((await s.send('meetings', late)).body.type, 'ingest.outdated_snapshot');

    const types = (await s.tenant.client.get('/api/events')).body.items.map((e: any) => e.type);
    assert.deepEqual(types, ['calendar.created', 'meeting.created', 'meeting.updated', 'ingest.outdated_snapshot']);
    const bodies = (await s.server.store.listDeliveries(s.tenant.id, { webhook_id: hook.body.id }, { limit: 50 })).items
      .sort((a, b) => a.seq - b.seq).map((d) => JSON.parse(d.body));
    assert.equal(bodies.length, 3);
    const approved = fixture('meeting-approved');
    const { event_id, ...rest } = bodies[2];
    assert.deepEqual(rest, { ...entityOf(approved), event_created_at: approved.event_created_at, event_version: 2, app_version: '2.15.0' });
    assert.match(event_id, UUID, "the delivery's own id, as for every opencity body");
  } finally {
    await r.close();
    await s.server.close();
  }
});

test('a service snapshot older than the last applied one does not move the service back', async () => {
  const s = await setup();
  try {
    const renamed = { ...fixture('service'), name: 'Iscrizione nidi comunali', event_id: '0b1c2d3e-0001-4f00-8a00-000000000002', event_created_at: '2025-11-10T08:00:00+01:00' };
    assert.equal((await s.send('services', renamed)).body.type, 'service.created');
    assert.equal((await s.send('services', fixture('service'))).body.type, 'ingest.outdated_snapshot');
    const suspended = { ...renamed, status: 2, event_id: '0b1c2d3e-0001-4f00-8a00-000000000003', event_created_at: '2025-11-11T08:00:00+01:00' };
    assert.equal((await s.send('services', suspended)).body.type, 'service.updated');
    const service = (await s.tenant.client.get(`/api/services/${SERVICE_ID}`)).body;
    assert.deepEqual([service.name, service.status], ['Iscrizione nidi comunali', 'suspended']);
  } finally {
    await s.server.close();
  }
});

test('ingest tokens: shown once, stored as a hash and a prefix, listed and revoked per tenant', async () => {
  const s = await setup();
  try {
    assert.match(s.token, /^ingt_[A-Za-z0-9_-]{32}$/);
    const created = await s.tenant.client.post('/api/ingest-tokens', {});
    assert.equal(created.body.kafka_url, `${s.server.config.publicUrl}/ingest/opencity/${created.body.token}`);
    assert.equal(created.body.webhook_url, `${s.server.config.publicUrl}/ingest/opencity-webhook/${created.body.token}`);
    assert.equal(created.body.name, 'opencity');

    const list = await s.tenant.client.get('/api/ingest-tokens');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((t: any) => [t.name, t.prefix]), [['core bugliano', s.token.slice(0, 9)], ['opencity', created.body.token.slice(0, 9)]]);
    assert.ok(!list.text.includes(s.token) && !list.text.includes(created.body.token), 'a listing never shows a token');

    const rows = await rawTokenRows(s.server);
    assert.equal(rows[0].hash, createHash('sha256').update(s.token).digest('hex'));
    assert.ok(!JSON.stringify(rows).includes(s.token), 'the database holds no token');

    // The admin acts for a tenant with X-Tenant-Id; another tenant sees and revokes nothing of it.
    const asAdmin = await s.server.adminApi.get('/api/ingest-tokens', { 'x-tenant-id': s.tenant.id });
    assert.equal(asAdmin.body.items.length, 2);
    assert.equal((await s.server.adminApi.get('/api/ingest-tokens')).status, 403);
    const other = await createTenant(s.server, 'Comune di Altrove');
    assert.deepEqual((await other.client.get('/api/ingest-tokens')).body.items, []);
    assert.equal((await other.client.delete(`/api/ingest-tokens/${created.body.id}`)).status, 404);
    assert.equal((await s.server.api.get('/api/ingest-tokens')).status, 401);
    assert.equal((await s.tenant.client.post('/api/ingest-tokens', { name: '' })).body.field, 'name');

    assert.equal((await s.send('calendars', fixture('calendar'), created.body.token)).status, 201);
    const used = (await s.tenant.client.get('/api/ingest-tokens')).body.items[1];
    assert.ok(used.last_used_at, 'use is recorded');
  } finally {
    await s.server.close();
  }
});
