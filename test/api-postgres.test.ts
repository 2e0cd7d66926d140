/**
 * The HTTP API on PostgreSQL: a real server over a fresh schema, driven through the same
 * routes as on SQLite, to prove the one SQL store is portable (tenants and keys, services,
 * applications and transitions, the event log, idempotent ingest, webhooks) and that it holds
 * under concurrent requests on a connection pool.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, createTenant, type Client, type TestServer } from './harness.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';

let server: TestServer;
let pg: PgSchema;
let tenants = 0;

async function tenant(): Promise<{ id: string; client: Client }> {
  return createTenant(server, `Comune di Postgres ${++tenants} ${process.pid}`);
}

async function service(client: Client): Promise<string> {
  const r = await client.post('/api/services', { name: 'Iscrizione asilo nido', slug: `asilo-${randomUUID().slice(0, 8)}` });
  assert.equal(r.status, 201, r.text);
  return r.body.id;
}

async function events(client: Client, query = ''): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const r: { status: number; text: string; body: any } = await client.get(`/api/events?limit=2${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    out.push(...r.body.items);
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

await describeOnPg('API on PostgreSQL', () => {
  before(async () => {
    pg = await freshPgSchema();
    server = await startTestServer({ MESSO_DATABASE_URL: pg.url });
  });

  after(async () => {
    await server?.close();
    await pg?.drop();
  });

  it('runs on the postgres store', () => {
    assert.equal(server.store.dialect, 'postgres');
  });

  it('creates tenants and keys, refuses a duplicate slug naming the field, and revokes a key', async () => {
    const t = await tenant();
    await tenant();
    const me = await t.client.get('/api/me');
    assert.equal(me.status, 200, me.text);
    const dup = await server.adminApi.post('/api/tenants', { name: 'Altro nome', slug: (await server.adminApi.get(`/api/tenants/${t.id}`)).body.slug });
    assert.equal(dup.status, 409, dup.text);
    assert.equal(dup.body.field, 'slug');
    const first = await server.adminApi.get('/api/tenants?limit=1');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.items.length, 1);
    assert.ok(first.body.next_cursor, 'a second page exists');
    const second = await server.adminApi.get(`/api/tenants?limit=1&cursor=${first.body.next_cursor}`);
    assert.notEqual(second.body.items[0].id, first.body.items[0].id);
    const keys = await server.adminApi.get(`/api/tenants/${t.id}/keys`);
    const revoked = await server.adminApi.delete(`/api/tenants/${t.id}/keys/${keys.body.items[0].id}`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await t.client.get('/api/me')).status, 401);
  });

  it('creates a service and an application, moves it, refuses an illegal move and records nothing for it', async () => {
    const { client } = await tenant();
    const serviceId = await service(client);
    const created = await client.post('/api/applications', { service_id: serviceId, status: 2000, subject: 'Iscrizione - Mario Rossi' });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    const moved = await client.post(`/api/applications/${id}/transitions`, { status: 3000, message: 'presa in carico' });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.status, '3000');
    const before = (await events(client)).length;
    const illegal = await client.post(`/api/applications/${id}/transitions`, { status: 1000 });
    assert.equal(illegal.status, 409, illegal.text);
    assert.equal(illegal.body.field, 'status');
    assert.equal((await events(client)).length, before, 'a refused move writes no event');
    const got = await client.get(`/api/applications/${id}`);
    assert.equal(got.body.status, '3000');
    const history = (await client.get(`/api/applications/${id}/history`)).body.items;
    assert.deepEqual(history.map((h: any) => [h.type, h.to]), [['application.created', 2000], ['application.status_changed', 3000]]);
    const listed = await client.get(`/api/applications?status=3000&service_id=${serviceId}`);
    assert.deepEqual(listed.body.items.map((a: any) => a.id), [id]);
  });

  it('lists events oldest first with type prefix, subject filter and cursors', async () => {
    const { client } = await tenant();
    const serviceId = await service(client);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await client.post('/api/applications', { service_id: serviceId, status: 2000 });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
    const all = await events(client);
    assert.deepEqual(all.map((e) => e.type), ['service.created', 'application.created', 'application.created', 'application.created']);
    const seqs = all.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.ok(seqs.every((s) => Number.isInteger(s)), 'seq is a number, not a BIGINT string');
    assert.equal((await events(client, '&type=application.*')).length, 3);
    assert.equal((await events(client, '&type=Application.*')).length, 0, 'types are matched exactly, case included');
    const one = await events(client, `&subject=${ids[1]}`);
    assert.deepEqual(one.map((e) => e.subject), [ids[1]]);
    const byId = await client.get(`/api/events/${one[0].event_id}`);
    assert.equal(byId.status, 200, byId.text);
    assert.equal(byId.body.seq, one[0].seq);
  });

  it('ingests idempotently on event_id, one at a time, in batches and under concurrent repeats', async () => {
    const { client } = await tenant();
    const ev = { event_id: randomUUID(), type: 'protocol.registered', subject: 'pratica-1', data: { number: 'P-1' } };
    const first = await client.post('/api/events', ev);
    assert.equal(first.status, 201, first.text);
    const again = await client.post('/api/events', { ...ev, data: { number: 'changed' } }, { prefer: 'return=representation' });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body.data, { number: 'P-1' }, 'the repeat answers with the original');

    const fresh = { event_id: randomUUID(), type: 'protocol.registered', data: {} };
    const batch = await client.post('/api/events/batch', { events: [ev, fresh] });
    assert.equal(batch.status, 200, batch.text);
    assert.deepEqual([batch.body.created, batch.body.duplicates], [1, 1]);

    // The same new event sent eight times at once: one 201, seven 200, one row.
    const racing = { event_id: randomUUID(), type: 'protocol.registered', data: { n: 1 } };
    const answers = await Promise.all(Array.from({ length: 8 }, () => client.post('/api/events', racing)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201], answers.map((a) => a.text).join('\n'));
    assert.equal(new Set(answers.map((a) => a.body.seq)).size, 1);

    // Another tenant's same id is its own new event (issue 12, item 7): it learns nothing of this one.
    const other = await tenant();
    const theirs = await other.client.post('/api/events', { ...ev, data: { number: 'theirs' } }, { prefer: 'return=representation' });
    assert.equal(theirs.status, 201, theirs.text);
    assert.deepEqual(theirs.body.data, { number: 'theirs' });

    // A batch with one bad item writes nothing at all.
    const before = (await events(client)).length;
    const bad = await client.post('/api/events/batch', { events: [{ event_id: randomUUID(), type: 'x.y', data: {} }, { event_id: 'nope', type: 'x.y', data: {} }] });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((await events(client)).length, before);
    assert.equal((await events(client)).length, 3);
  });

  it('keeps every concurrent transition of one application, each as one event (optimistic concurrency)', async () => {
    const { client } = await tenant();
    const serviceId = await service(client);
    const created = await client.post('/api/applications', { service_id: serviceId, status: 2000 });
    const id = created.body.id;
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => client.post(`/api/applications/${id}/transitions`, { status: 2000, message: `m${i}` })));
    const ok = answers.filter((a) => a.status === 200).length;
    for (const a of answers) assert.ok(a.status === 200 || (a.status === 409 && a.body.type?.includes('conflict')), a.text);
    assert.ok(ok >= 1);
    const history = (await client.get(`/api/applications/${id}/history`)).body.items;
    assert.equal(history.filter((h: any) => h.type === 'application.status_changed').length, ok, 'one event per accepted move, none for a refused one');
  });

  it('creates, updates, rotates and deletes a webhook', async () => {
    const { client } = await tenant();
    const made = await client.post('/api/webhooks', { title: 'Protocollo', endpoint: 'http://127.0.0.1:9/hook', events: ['application.*'], rate_limit: 2.5 });
    assert.equal(made.status, 201, made.text);
    const id = made.body.id;
    assert.equal(made.body.rate_limit, 2.5, 'a DOUBLE PRECISION comes back as a number');
    const patched = await client.patch(`/api/webhooks/${id}`, { title: 'Protocollo informatico', active: false });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.active, false);
    const rotated = await client.post(`/api/webhooks/${id}/rotate-secret`);
    assert.ok(rotated.status === 200 || rotated.status === 201, rotated.text);
    const list = await client.get('/api/webhooks');
    assert.deepEqual(list.body.items.map((w: any) => w.id), [id]);
    assert.equal((await client.delete(`/api/webhooks/${id}`)).status < 300, true);
    assert.equal((await client.get(`/api/webhooks/${id}`)).status, 404);
  });
});
