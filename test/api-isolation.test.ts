/**
 * Tenant isolation and authentication. Another tenant's ids answer 404 on every route that
 * takes one (never 200, never 403, so a key cannot even learn that an id exists), and nothing
 * of the owner changes. The admin must name a tenant to act for one; no valid token, no access.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type Client, type Reply, type TestServer } from './harness.js';
import { assertProblem, createApplication, createService, newTenant } from './api-helpers.js';

let server: TestServer;
/** Tenant A owns one of everything; B is the intruder. */
let A: { id: string; client: Client };
let B: { id: string; client: Client; key: string };
const ids: Record<string, string> = {};

before(async () => {
  server = await startTestServer();
  A = await newTenant(server);
  B = await newTenant(server);
  ids.tenant = A.id;
  ids.service = (await createService(A.client)).id;
  ids.application = (await createApplication(A.client, ids.service, { status: 2000 })).id;
  assert.equal((await A.client.post(`/api/applications/${ids.application}/messages`, { message: 'Serve un documento' })).status, 201);
  ids.event = (await A.client.get('/api/events?limit=1')).body.items[0].event_id;
  const wh = await A.client.post('/api/webhooks', { title: 'Protocollo', endpoint: 'http://127.0.0.1:9/hook', trigger: 2000, filters: [ids.service] });
  assert.equal(wh.status, 201, wh.text);
  ids.webhook = wh.body.id;
  ids.key = (await A.client.post('/api/keys', { name: 'spare' })).body.id;
  await createService(B.client);
});
after(async () => { await server.close(); });

interface Case { method: string; path: string; params: Record<string, string>; body?: unknown }

/** Every route with an id, as the OpenAPI document names it, with A's ids filled in. */
const CASES = (): Case[] => [
  { method: 'GET', path: '/api/tenants/{id}', params: { id: ids.tenant } },
  { method: 'PATCH', path: '/api/tenants/{id}', params: { id: ids.tenant }, body: { name: 'Preso' } },
  { method: 'POST', path: '/api/tenants/{id}/keys', params: { id: ids.tenant }, body: { name: 'mine now' } },
  { method: 'GET', path: '/api/tenants/{id}/keys', params: { id: ids.tenant } },
  { method: 'DELETE', path: '/api/tenants/{id}/keys/{keyId}', params: { id: ids.tenant, keyId: ids.key } },
  { method: 'DELETE', path: '/api/tenants/{id}/keys/{keyId}', params: { id: B.id, keyId: ids.key } },
  { method: 'DELETE', path: '/api/keys/{id}', params: { id: ids.key } },
  { method: 'GET', path: '/api/services/{id}', params: { id: ids.service } },
  { method: 'PATCH', path: '/api/services/{id}', params: { id: ids.service }, body: { name: 'Preso' } },
  { method: 'GET', path: '/api/applications/{id}', params: { id: ids.application } },
  { method: 'GET', path: '/api/applications/{id}/transitions', params: { id: ids.application } },
  { method: 'POST', path: '/api/applications/{id}/transitions', params: { id: ids.application }, body: { status: 4000 } },
  { method: 'GET', path: '/api/applications/{id}/history', params: { id: ids.application } },
  { method: 'GET', path: '/api/applications/{id}/messages', params: { id: ids.application } },
  { method: 'POST', path: '/api/applications/{id}/messages', params: { id: ids.application }, body: { message: 'ciao' } },
  { method: 'GET', path: '/api/events/{id}', params: { id: ids.event } },
  { method: 'GET', path: '/api/webhooks/{id}', params: { id: ids.webhook } },
  { method: 'PATCH', path: '/api/webhooks/{id}', params: { id: ids.webhook }, body: { title: 'Preso' } },
  { method: 'POST', path: '/api/webhooks/{id}/rotate-secret', params: { id: ids.webhook } },
  { method: 'DELETE', path: '/api/webhooks/{id}', params: { id: ids.webhook } },
];

const fill = (path: string, params: Record<string, string>) => path.replace(/\{(\w+)\}/g, (_, k: string) => params[k] ?? randomUUID());
const send = (client: Client, c: Case): Promise<Reply> => client.request(c.method, fill(c.path, c.params), c.body);

/** Everything of A that a route above could change, as A itself sees it. */
async function stateOfA(): Promise<unknown> {
  const paths = [
    `/api/tenants/${ids.tenant}`, `/api/tenants/${ids.tenant}/keys`, `/api/services/${ids.service}`, '/api/services',
    `/api/applications/${ids.application}`, `/api/applications/${ids.application}/history`,
    `/api/applications/${ids.application}/messages`, '/api/events?limit=500', `/api/webhooks/${ids.webhook}`, '/api/webhooks',
  ];
  const out: Record<string, unknown> = {};
  for (const p of paths) {
    const r = await A.client.get(p);
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    out[p] = r.body;
  }
  return out;
}

/** (method, path) of every documented /api route that takes a parameter. */
async function parameterisedRoutes(): Promise<{ method: string; path: string }[]> {
  const doc = (await server.api.get('/openapi.json')).body;
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .filter(([path]) => path.startsWith('/api/') && path.includes('{'))
    .flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'parameters').map((m) => ({ method: m.toUpperCase(), path })));
}

describe('tenant isolation', () => {
  it("answers 404 to another tenant's key on every route with an id, and changes nothing", async () => {
    const before = await stateOfA();
    for (const c of CASES()) {
      const r = await send(B.client, c);
      assertProblem(r, 404);
      assert.equal(r.body.type, 'urn:messo:problem:not_found', `${c.method} ${fill(c.path, c.params)} as B`);
    }
    assert.deepEqual(await stateOfA(), before);
    assert.equal((await B.client.get(`/api/tenants/${B.id}/keys`)).body.items.length, 1, 'B gained no key');
  });

  it('answers 404 to the admin acting for another tenant through X-Tenant-Id', async () => {
    const before = await stateOfA();
    const adminAsB = server.adminApi.as(server.adminApi.token, { 'x-tenant-id': B.id });
    for (const c of CASES().filter((x) => !x.path.startsWith('/api/tenants'))) {
      assertProblem(await send(adminAsB, c), 404);
    }
    assert.deepEqual(await stateOfA(), before);
  });

  it('covers every documented route with an id under the tenant-scoped resources', async () => {
    const covered = new Set(CASES().map((c) => `${c.method} ${c.path}`));
    const scoped = /^\/api\/(tenants|keys|services|applications|events|webhooks)\//;
    const missing = (await parameterisedRoutes()).filter((r) => scoped.test(r.path) && !covered.has(`${r.method} ${r.path}`));
    // Routes added after this table was written still get a generic probe with A's id of the
    // resource: they may refuse the empty body (400) but must not answer 2xx or 403.
    const idOf: Record<string, string> = {
      tenants: ids.tenant, keys: ids.key, services: ids.service, applications: ids.application, events: ids.event, webhooks: ids.webhook,
    };
    const before = await stateOfA();
    for (const r of missing) {
      const resource = r.path.split('/')[2];
      const reply = await send(B.client, { method: r.method, path: r.path, params: { id: idOf[resource] }, body: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
      assert.ok([400, 404].includes(reply.status), `${r.method} ${r.path} as another tenant: ${reply.status} ${reply.text}`);
    }
    assert.deepEqual(await stateOfA(), before);
  });

  it("lists and filters never show another tenant's things", async () => {
    for (const p of ['/api/services', '/api/applications', '/api/webhooks', '/api/keys', `/api/events?subject=${ids.application}`,
      `/api/applications?service_id=${ids.service}`, `/api/events?type=application.*`]) {
      const r = await B.client.get(p);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.ok(!Object.values(ids).some((v) => r.text.includes(v)), `${p} leaks nothing of A`);
    }
    const tenants = await B.client.get('/api/tenants');
    assert.deepEqual(tenants.body.items.map((t: { id: string }) => t.id), [B.id]);
    // Ids belong to their tenant (issue 12, item 7): a third tenant sending A's event_id gets its
    // own new event, learns nothing of A's, and A's stays as it was.
    const C = await newTenant(server);
    const before = await stateOfA();
    const event = { event_id: ids.event, type: 'meeting.created', data: { mine: true } };
    const sent = await C.client.post('/api/events', event, { prefer: 'return=representation' });
    assert.equal(sent.status, 201, sent.text);
    assert.deepEqual([sent.body.tenant_id, sent.body.type, sent.body.data], [C.id, 'meeting.created', { mine: true }]);
    assert.deepEqual(await stateOfA(), before);
    assert.equal((await B.client.get('/api/events?limit=500')).body.items.some((e: { event_id: string }) => e.event_id === ids.event), false);
  });

  it("treats another tenant's service in a webhook filter as unknown, and refuses it in a new application", async () => {
    // A filter may name a service not published yet (issue 11): B learns nothing about A's,
    // which reads exactly as an id nobody has published.
    const hooks = (await B.client.get('/api/webhooks')).body.items.length;
    const made = await B.client.post('/api/webhooks', { title: 'x', endpoint: 'http://127.0.0.1:9/x', filters: [ids.service] });
    assert.equal(made.status, 201, made.text);
    const never = await B.client.post('/api/webhooks', { title: 'y', endpoint: 'http://127.0.0.1:9/y', filters: ['never-published'] });
    assert.deepEqual(made.body.unknown_services, [ids.service]);
    assert.deepEqual(never.body.unknown_services, ['never-published']);
    assertProblem(await B.client.post('/api/applications', { service_id: ids.service }), 400, 'service_id');
    assert.equal((await B.client.get('/api/webhooks')).body.items.length, hooks + 2);
    assert.equal((await B.client.get('/api/applications')).body.items.length, 0);
    for (const w of [made.body.id, never.body.id]) assert.equal((await B.client.delete(`/api/webhooks/${w}`)).status, 204);
  });
});

describe('authentication', () => {
  const scopedRoutes = () => [
    { method: 'GET', path: '/api/services' }, { method: 'POST', path: '/api/services', body: { name: 'Mensa' } },
    { method: 'GET', path: '/api/applications' }, { method: 'GET', path: '/api/events' }, { method: 'GET', path: '/api/webhooks' },
    { method: 'GET', path: '/api/keys' }, { method: 'GET', path: `/api/services/${ids.service}` },
    { method: 'GET', path: `/api/applications/${ids.application}` }, { method: 'GET', path: `/api/webhooks/${ids.webhook}` },
    { method: 'POST', path: '/api/events', body: { event_id: randomUUID(), type: 'meeting.created', data: {} } },
  ];

  it('answers 403 to the admin without X-Tenant-Id on tenant-scoped routes', async () => {
    const before = await stateOfA();
    for (const r of scopedRoutes()) {
      const reply = await server.adminApi.request(r.method, r.path, r.body);
      assertProblem(reply, 403, 'X-Tenant-Id');
    }
    assert.deepEqual(await stateOfA(), before);
    const asA = server.adminApi.as(server.adminApi.token, { 'x-tenant-id': A.id });
    assert.equal((await asA.get(`/api/applications/${ids.application}`)).status, 200, 'the admin may act for a named tenant');
    assertProblem(await server.adminApi.as(server.adminApi.token, { 'x-tenant-id': randomUUID() }).get('/api/services'), 404, 'X-Tenant-Id');
  });

  it('answers 401 without a valid token on every /api route, and writes nothing', async () => {
    const spare = await B.client.post('/api/keys', { name: 'to revoke' });
    assert.equal((await B.client.delete(`/api/keys/${spare.body.id}`)).status, 200);
    const revoked = server.api.as(spare.body.key);
    assertProblem(await revoked.get('/api/services'), 401);
    const doc = (await server.api.get('/openapi.json')).body;
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([p]) => p.startsWith('/api/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: fill(path, {}) })));
    assert.ok(routes.length >= 25, `${routes.length} routes documented`);
    const before = await stateOfA();
    const clients: [string, Client][] = [
      ['no token', server.api], ['wrong token', server.api.as('messo_not-a-real-key')], ['revoked key', revoked],
      ['Basic scheme', server.api.as(null, { authorization: `Basic ${Buffer.from(`x:${B.key}`).toString('base64')}` })],
    ];
    for (const [label, client] of clients) {
      for (const r of routes) {
        const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : {};
        const reply = await client.request(r.method, r.path, body);
        assert.equal(reply.status, 401, `${label}: ${r.method} ${r.path} → ${reply.status}`);
        assert.equal(reply.body.type, 'urn:messo:problem:unauthorized');
      }
    }
    assert.deepEqual(await stateOfA(), before);
  });

  it('answers 403 to a tenant key on admin-only operations, writing nothing', async () => {
    const tenants = (await server.adminApi.get('/api/tenants?limit=500')).body.items.length;
    assertProblem(await B.client.post('/api/tenants', { name: 'Comune abusivo' }), 403);
    assertProblem(await B.client.patch(`/api/tenants/${B.id}`, { name: 'Rinominato' }), 403);
    assert.equal((await server.adminApi.get('/api/tenants?limit=500')).body.items.length, tenants);
    assert.notEqual((await B.client.get(`/api/tenants/${B.id}`)).body.name, 'Rinominato');
  });
});
