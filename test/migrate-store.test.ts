/**
 * `messo migrate-store` from a SQLite installation to PostgreSQL, as a real child process:
 * everything arrives (ids, sequence numbers, key hashes), a second run copies nothing twice,
 * and pending deliveries are delivered by the new installation. Also retention on both stores.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createTenant, startReceiver, startTestServer, tempDir, waitUntil, type Receiver } from './harness.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';
import { BIN } from './proc.js';

await describeOnPg('migrate-store sqlite → postgres', () => {
  let pg: PgSchema;
  let receiver: Receiver;
  before(async () => {
    pg = await freshPgSchema('messo_mig');
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await pg.drop();
  });

  it('copies everything once, keeps ids and order, and the new installation delivers what was pending', async () => {
    const dir = tempDir();
    const sqliteUrl = `sqlite:${join(dir, 'old.db')}`;
    const old = await startTestServer({ MESSO_DATABASE_URL: sqliteUrl });
    const { id: tenantId, key, client } = await createTenant(old);
    const svc = (await client.post('/api/services', { name: 'Asilo' })).body.id;
    const hook = await client.post('/api/webhooks', { title: 'r', endpoint: `${receiver.url}/m`, trigger: 'all' });
    const apps: string[] = [];
    for (let i = 0; i < 30; i++) apps.push((await client.post('/api/applications', { service_id: svc, status: 1900 })).body.id);
    for (const a of apps.slice(0, 10)) await client.post(`/api/applications/${a}/transitions`, { status: 2000 });
    const events = (await client.get('/api/events?limit=500')).body.items;
    const appList = (await client.get('/api/applications?limit=500')).body.items.map((a: any) => a.id);
    await old.close();

    const run = () => spawnSync(process.execPath, [BIN, 'migrate-store', '--from', sqliteUrl, '--to', pg.url], { encoding: 'utf8', env: { ...process.env, MESSO_LOG_LEVEL: 'warn' } });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /events\s+41 read\s+41 written/);
    assert.match(first.stdout, /deliveries\s+40 read\s+40 written/);
    // The search index is not copied (each store keeps its own): the pratiche arrive unindexed,
    // and the new installation's start indexes them (the search below finds one).
    assert.doesNotMatch(first.stdout, /application_terms/);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /events\s+41 read\s+0 written/, 'a second run copies nothing twice');

    // Secrets were copied sealed: the new installation uses the key they were sealed with.
    assert.ok(first.stdout.includes(`MESSO_DATA_DIR=${dir} `), first.stdout);
    const next = await startTestServer({ MESSO_DATABASE_URL: pg.url, MESSO_DISPATCHER: 'true', MESSO_DATA_DIR: dir });
    try {
      const api = next.api.as(key);
      assert.equal((await api.get(`/api/tenants/${tenantId}`)).status, 200, 'the API key still works (hash copied)');
      const events2 = (await api.get('/api/events?limit=500')).body.items;
      assert.deepEqual(events2.map((e: any) => [e.seq, e.event_id]), events.map((e: any) => [e.seq, e.event_id]));
      assert.deepEqual((await api.get('/api/applications?limit=500')).body.items.map((a: any) => a.id), appList);
      const found = (await api.get(`/api/applications?q=${apps[5].slice(0, 8)}`)).body.items.map((a: any) => a.id);
      assert.ok(found.includes(apps[5]), `found by its short id after the move: ${found.join(', ')}`);
      await waitUntil(() => receiver.requests.length >= 40, 15_000, '40 pending deliveries sent after the move');
      assert.equal(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size, 40);
      // New rows continue after the copied sequence numbers.
      const app = (await api.post('/api/applications', { service_id: svc, status: 1900 })).body.id;
      const last = (await api.get(`/api/events?subject=${app}`)).body.items[0];
      assert.ok(last.seq > Math.max(...events.map((e: any) => e.seq)));
      assert.equal((await api.get(`/api/webhooks/${hook.body.id}`)).status, 200);
    } finally {
      await next.close();
    }
  });
});

it('retention removes old events, payloads, finished deliveries and attempts, never pending ones nor their events', async () => {
  const server = await startTestServer();
  try {
    const { client } = await createTenant(server);
    const svc = (await client.post('/api/services', { name: 'Asilo' })).body.id;
    const hook = (await client.post('/api/webhooks', { title: 'r', endpoint: 'http://127.0.0.1:9/none', trigger: 'all' })).body;
    for (let i = 0; i < 5; i++) await client.post('/api/applications', { service_id: svc, status: 1900 });
    const before = (await client.get('/api/events?limit=500')).body.items.length;
    let r = await server.store.purgeOlderThan(Date.now() - 60_000);
    assert.deepEqual(r, { attempts: 0, deliveries: 0, payloads: 0, events: 0 }, 'nothing is old yet');
    r = await server.store.purgeOlderThan(Date.now() + 1000);
    assert.equal(r.events, before - 5, 'the events of the pending deliveries stay');
    assert.equal(r.deliveries, 0, 'pending deliveries stay');
    assert.equal(r.payloads, 0, 'and so do their payloads');
    const pending = (await client.get('/api/deliveries')).body.items;
    assert.equal(pending.length, 5);
    for (const d of pending) {
      // Found through their event, by its id and by its pratica.
      assert.deepEqual((await client.get(`/api/deliveries?event_id=${d.event_id}`)).body.items.map((x: any) => x.id), [d.id]);
      assert.deepEqual((await client.get(`/api/deliveries?application_id=${d.application_id}`)).body.items.map((x: any) => x.id), [d.id]);
    }
    // Disabling the webhook fails its pending deliveries: finished, they go, and their events after them.
    assert.equal((await client.patch(`/api/webhooks/${hook.id}`, { active: false })).status, 200);
    r = await server.store.purgeOlderThan(Date.now() + 1000);
    assert.equal(r.deliveries, 5);
    assert.ok(r.events >= 5, `${r.events} events removed`);
    assert.equal((await client.get('/api/deliveries')).body.items.length, 0);
  } finally {
    await server.close();
  }
});
