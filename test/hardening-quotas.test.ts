/**
 * Quotas (issue 12, item 4): webhooks per tenant, deliveries per ingested batch, inspector
 * bins and captured bytes per tenant (on SQLite and PostgreSQL), anonymous bins per client
 * address, API requests per key and failed authentications per address. Each answers 429
 * problem+json, writes nothing, and leaves other tenants (and other addresses) alone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { allEvents, assertProblem } from './api-helpers.js';
import { createTenant, startTestServer, waitUntil, type TestServer } from './harness.js';
import { newBin, send } from './inspector-helpers.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';

const QUOTAS = {
  MESSO_MAX_WEBHOOKS_PER_TENANT: '3',
  MESSO_MAX_DELIVERIES_PER_BATCH: '5',
  MESSO_MAX_BINS_PER_TENANT: '2',
  MESSO_MAX_CAPTURED_BYTES_PER_TENANT: '2kb',
};

const hook = (n: number) => ({ title: `hook ${n}`, endpoint: `http://127.0.0.1:9/h${n}`, events: ['*'] });
const event = () => ({ event_id: crypto.randomUUID(), type: 'meeting.created', data: {} });

function storeQuotas(name: string, env: () => Promise<Record<string, string>>) {
  describe(name, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer({ ...QUOTAS, ...(await env()) }); });
    after(async () => { await server.close(); });

    it('caps webhooks per tenant, and only that tenant', async () => {
      const a = await createTenant(server, `A ${name}`);
      const b = await createTenant(server, `B ${name}`);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await a.client.post('/api/webhooks', hook(i))).body.id as string);
      const refused = await a.client.post('/api/webhooks', hook(3));
      assertProblem(refused, 429, 'webhooks');
      assert.equal(refused.body.type, 'urn:messo:problem:quota_exceeded');
      assert.match(refused.body.detail, /MESSO_MAX_WEBHOOKS_PER_TENANT/);
      assert.equal((await a.client.get('/api/webhooks')).body.items.length, 3, 'nothing written');
      assert.equal((await b.client.post('/api/webhooks', hook(0))).status, 201, 'another tenant is not affected');
      assert.equal((await a.client.delete(`/api/webhooks/${ids[0]}`)).status, 204);
      assert.equal((await a.client.post('/api/webhooks', hook(4))).status, 201, 'a deleted webhook frees its place');
    });

    it('refuses a batch that would create too many deliveries, writing nothing', async () => {
      const t = await createTenant(server, `batch ${name}`);
      for (let i = 0; i < 3; i++) assert.equal((await t.client.post('/api/webhooks', hook(i))).status, 201);
      const before = (await allEvents(t.client)).length;
      const r = await t.client.post('/api/events/batch', { events: [event(), event()] });
      assertProblem(r, 429, 'events');
      assert.match(r.body.detail, /6 deliveries/);
      assert.equal((await allEvents(t.client)).length, before, 'no event written');
      const ok = await t.client.post('/api/events/batch', { events: [event()] });
      assert.equal(ok.status, 200, ok.text);
    });

    it('caps live bins and captured bytes per tenant', async () => {
      const t = await createTenant(server, `bins ${name}`);
      const first = await newBin(t.client);
      await newBin(t.client);
      assertProblem(await t.client.post('/api/inspector/bins', {}), 429, 'bins');
      assert.equal((await send(first.url, { body: Buffer.alloc(1500, 97) })).status, 200);
      const over = await send(first.url, { body: Buffer.alloc(1000, 98) });
      assert.equal(over.status, 429);
      assert.equal(over.json.type, 'urn:messo:problem:quota_exceeded');
      assert.match(over.json.detail, /MESSO_MAX_CAPTURED_BYTES_PER_TENANT/);
      assert.equal((await t.client.get(`/api/inspector/bins/${first.id}/requests`)).body.items.length, 1, 'the refused request is not captured');
      assert.equal((await t.client.delete(`/api/inspector/bins/${first.id}/requests`)).status, 200);
      // The tenant's total is summed again at most once a second: room shows within that.
      await waitUntil(async () => (await send(first.url, { body: Buffer.alloc(1000, 98) })).status === 200, 5000, 'deleting captures to free room');
    });
  });
}

storeQuotas('store quotas on SQLite', async () => ({}));
let schema: PgSchema | null = null;
await describeOnPg('store quotas on PostgreSQL', () => {
  storeQuotas('PostgreSQL', async () => {
    schema = await freshPgSchema();
    return { MESSO_DATABASE_URL: schema.url };
  });
  after(async () => { await schema?.drop(); });
});

/** GET with a token from a chosen loopback source address. */
function getFrom(url: string, token: string, localAddress: string): Promise<{ status: number; retryAfter: string | undefined; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${token}` }, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(text || 'null') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rate limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      MESSO_API_REQUESTS_PER_MINUTE: '10', MESSO_AUTH_FAILURES_PER_MINUTE: '5', MESSO_ANONYMOUS_BINS_PER_HOUR: '3', MESSO_INSPECTOR_PUBLIC: 'true',
    });
  });
  after(async () => { await server.close(); });

  it('limits API requests per key, with Retry-After, and not other keys', async () => {
    const a = await createTenant(server, 'rate A');
    const b = await createTenant(server, 'rate B');
    for (let i = 0; i < 10; i++) assert.equal((await a.client.get('/api/services')).status, 200, `request ${i + 1}`);
    const r = await a.client.get('/api/services');
    assertProblem(r, 429);
    assert.equal(r.body.type, 'urn:messo:problem:rate_limited');
    assert.ok(Number(r.headers.get('retry-after')) >= 1 && Number(r.headers.get('retry-after')) <= 60, `Retry-After ${r.headers.get('retry-after')}`);
    assert.equal((await b.client.get('/api/services')).status, 200, 'another key is served');
  });

  it('limits failed authentications per address: then even the right token is refused from it, not from others', async () => {
    const t = await createTenant(server, 'auth failures');
    const url = `${server.url}/api/services`;
    for (let i = 0; i < 5; i++) assert.equal((await getFrom(url, `wrong-${i}`, '127.0.0.3')).status, 401);
    const blocked = await getFrom(url, 'wrong-again', '127.0.0.3');
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.type, 'urn:messo:problem:rate_limited');
    assert.ok(blocked.retryAfter);
    assert.equal((await getFrom(url, t.key, '127.0.0.3')).status, 429, 'a guess that is right learns nothing');
    assert.equal((await getFrom(url, t.key, '127.0.0.4')).status, 200, 'other addresses are served');
  });

  it('limits anonymous bins per address', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await server.api.post('/public/inspector/bins', {})).status, 201);
    const r = await server.api.post('/public/inspector/bins', {});
    assertProblem(r, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 60, 'the window is an hour');
  });
});
