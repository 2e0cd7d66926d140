/**
 * Snapshot ingest through the generic API: a late snapshot (older than the one applied) is
 * kept in the log as ingest.outdated_snapshot and fires nothing; re-opening a decided pratica
 * takes its outcome back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from './harness.js';
import { createApplication, createService, newTenant, transition } from './api-helpers.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

const snap = (id: string, status: number, at: string) => ({
  event_id: randomUUID(), type: 'application.snapshot', event_created_at: at,
  data: { application: { id, service_id: 'svc-core', status } },
});

test('a late snapshot is recorded as outdated and does not move the pratica back', async () => {
  const { client } = await newTenant(server);
  const hook = await client.post('/api/webhooks', { title: 'h', endpoint: 'http://127.0.0.1:9/h', trigger: 'all' });
  assert.equal(hook.status, 201);
  const batch = await client.post('/api/events/batch', { events: [
    snap('p-1', 2000, '2026-11-20T10:00:00+01:00'),
    snap('p-1', 4000, '2026-11-20T10:10:00+01:00'),
    snap('p-1', 3000, '2026-11-20T10:05:00+01:00'),
  ] });
  assert.equal(batch.status, 200, batch.text);
  assert.deepEqual(batch.body.results.map((r: any) => r.type), ['application.created', 'application.status_changed', 'ingest.outdated_snapshot']);
  const app = await client.get('/api/applications/p-1');
  assert.equal(app.body.status, '4000');
  // Later, in its own request: still outdated against the stored projection.
  const late = await client.post('/api/events', snap('p-1', 3000, '2026-11-20T10:06:00+01:00'));
  assert.equal(late.body.type, 'ingest.outdated_snapshot');
  const deliveries = await client.get(`/api/deliveries?webhook_id=${hook.body.id}`);
  assert.equal(deliveries.body.items.length, 2, 'only the two real changes are delivered');
  const history = await client.get('/api/applications/p-1/history');
  assert.deepEqual(history.body.items.map((h: any) => h.to), [2000, 4000]);
});

test('snapshots of one pratica posted at once are each judged against the one applied before it', async () => {
  // Classified in the event's transaction (store/applied.ts): read before it, both posts of a
  // pair were judged against the creation, and the second said "from 2000" as well.
  const { client } = await newTenant(server);
  const ids = Array.from({ length: 8 }, (_, i) => `p-pair-${i}`);
  for (const id of ids) assert.equal((await client.post('/api/events', snap(id, 2000, '2026-11-20T10:00:00+01:00'))).status, 201);
  const posts = ids.flatMap((id) => [
    client.post('/api/events', snap(id, 4000, '2026-11-20T10:05:00+01:00')),
    client.post('/api/events', snap(id, 7000, '2026-11-20T10:10:00+01:00')),
  ]);
  for (const r of await Promise.all(posts)) assert.equal(r.status, 201, r.text);
  for (const id of ids) {
    const history = await client.get(`/api/applications/${id}/history`);
    const moves = history.body.items.map((h: any) => [h.from, h.to]);
    // Either order is right, as long as each is judged against the other: 4000 then 7000, or
    // 7000 first and 4000 then late (kept as outdated, no move).
    const valid = [[[null, 2000], [2000, 4000], [4000, 7000]], [[null, 2000], [2000, 7000]]];
    assert.ok(valid.some((v) => JSON.stringify(v) === JSON.stringify(moves)), `${id}: ${JSON.stringify(moves)}`);
    assert.equal((await client.get(`/api/applications/${id}`)).body.status, '7000');
  }
});

test('re-opening an accepted or rejected pratica clears its outcome', async () => {
  const { client } = await newTenant(server);
  const svc = await createService(client);
  const app = await createApplication(client, svc.id, { status: 2000 });
  assert.equal((await transition(client, app.id, 4000)).status, 200);
  const accepted = await transition(client, app.id, 7000, { outcome_motivation: 'ok' });
  assert.equal(accepted.body.outcome, true);
  const reopened = await transition(client, app.id, 4000);
  assert.equal(reopened.body.outcome, null);
  assert.equal(reopened.body.outcome_motivation, null);
  const rejected = await transition(client, app.id, 9000);
  assert.equal(rejected.body.outcome, false);
});

test('a NUL character in any string is refused with its field, on every store', async () => {
  const { client } = await newTenant(server);
  const r = await client.post('/api/services', { name: 'Asilo\u0000nido' });
  assert.equal(r.status, 400);
  assert.equal(r.body.field, 'name');
  const nested = await client.post('/api/events', { event_id: randomUUID(), type: 'meeting.created', data: { place: { room: 'A\u0000' } } });
  assert.equal(nested.status, 400);
  assert.equal(nested.body.field, 'data.place.room');
  assert.equal((await client.get('/api/services')).body.items.length, 0);
  assert.equal((await client.get('/api/events')).body.items.length, 0);
});
