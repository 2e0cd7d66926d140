/**
 * A key revoked is refused at once, also on POST /api/events, where a key used lately is not
 * looked up before the write but checked inside the event's own transaction (auth.ts,
 * RecentKeys): in the process that revoked it and in another process on the same store.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTenant, startTestServer, type Client, type TestServer } from './harness.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';

const event = () => ({ event_id: randomUUID(), type: 'pratica.note', subject: 'p-1', data: { note: 'x' } });

/** A spare key of the tenant, already used on POST /api/events (so it is among the recent keys). */
async function usedSpareKey(server: TestServer, owner: Client): Promise<{ id: string; client: Client }> {
  const spare = await owner.post('/api/keys', { name: 'spare' });
  assert.equal(spare.status, 201, spare.text);
  const client = server.api.as(spare.body.key);
  for (let i = 0; i < 3; i++) assert.equal((await client.post('/api/events', event())).status, 201);
  return { id: spare.body.id, client };
}

async function refusedAndNotWritten(client: Client, owner: Client): Promise<void> {
  const e = event();
  const r = await client.post('/api/events', e);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.body.type, 'urn:messo:problem:unauthorized');
  assert.equal((await owner.get(`/api/events/${e.event_id}`)).status, 404, 'nothing written');
}

describe('a revoked key on POST /api/events', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  it('is refused at its next post, and nothing of it is written', async () => {
    const t = await createTenant(server, 'Comune di Revoca');
    const spare = await usedSpareKey(server, t.client);
    assert.equal((await t.client.delete(`/api/keys/${spare.id}`)).status, 200);
    await refusedAndNotWritten(spare.client, t.client);
    // And after: the lookup refuses it again, on every route.
    await refusedAndNotWritten(spare.client, t.client);
    assert.equal((await spare.client.get('/api/events')).status, 401);
    assert.equal((await t.client.post('/api/events', event())).status, 201, "the tenant's other key still writes");
  });

  it('is refused in a group of posts at once, and takes none of the others with it', async () => {
    const t = await createTenant(server, 'Comune di Revoca in gruppo');
    const spare = await usedSpareKey(server, t.client);
    assert.equal((await t.client.delete(`/api/keys/${spare.id}`)).status, 200);
    const posts = Array.from({ length: 12 }, (_, i) => ({ client: i % 3 === 1 ? spare.client : t.client, e: event() }));
    const replies = await Promise.all(posts.map((p) => p.client.post('/api/events', p.e)));
    assert.deepEqual(replies.map((r) => r.status), posts.map((p) => (p.client === spare.client ? 401 : 201)));
    for (const p of posts) {
      assert.equal((await t.client.get(`/api/events/${p.e.event_id}`)).status, p.client === spare.client ? 404 : 200);
    }
  });
});

await describeOnPg('a key revoked in another process, on POST /api/events', () => {
  let pg: PgSchema;
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    pg = await freshPgSchema();
    a = await startTestServer({ MESSO_DATABASE_URL: pg.url });
    b = await startTestServer({ MESSO_DATABASE_URL: pg.url });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await pg?.drop();
  });

  it('is refused by this process at its next post', async () => {
    const t = await createTenant(a, 'Comune di Due Processi');
    const spare = await usedSpareKey(a, t.client);
    const owner = b.api.as(t.key);
    assert.equal((await owner.delete(`/api/keys/${spare.id}`)).status, 200, 'revoked through the other process');
    await refusedAndNotWritten(spare.client, t.client);
  });
});
