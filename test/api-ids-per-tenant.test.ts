/**
 * Ids belong to their tenant (issue 12, item 7), through real HTTP on both stores. Tenant B
 * takes the ids an OpenCity core is about to send for tenant A (service, application, event_id)
 * through its own API key; A's core then sends them through the ingest. Before, A got 409
 * forever; now both succeed, each tenant sees only its own, and each tenant's webhook receives
 * only its own tenant's deliveries.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createTenant, startReceiver, startTestServer, waitUntil, type Client, type Receiver, type TestServer } from './harness.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';

type Body = Record<string, any>;

const fixture = (name: string): Body =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/opencity/${name}.json`, import.meta.url), 'utf8'));

const CORE_TENANT = 'c3d2e1f0-1111-4a2b-9c3d-4e5f6a7b8c9d';
const SERVICE_ID = '7e6d5c4b-2222-4b3c-8d4e-5f6a7b8c9d0e';
const APP_ID = '5a0e3b2c-8f41-4c8e-9a57-2f1d7c3e9b10';

function idsPerTenant(label: string, databaseUrl: () => string | undefined): void {
  let server: TestServer;
  let receiver: Receiver;
  let A: { id: string; client: Client };
  let B: { id: string; client: Client };
  let token: string;

  before(async () => {
    const url = databaseUrl();
    server = await startTestServer({ MESSO_DISPATCHER: 'true', ...(url ? { MESSO_DATABASE_URL: url } : {}) });
    receiver = await startReceiver();
    A = await createTenant(server, `Comune A ${label}`);
    B = await createTenant(server, `Comune B ${label}`);
    assert.equal((await server.adminApi.patch(`/api/tenants/${A.id}`, { external_id: CORE_TENANT })).status, 200);
    token = (await A.client.post('/api/ingest-tokens', { name: 'core' })).body.token;
    for (const [t, path] of [[A, '/a'], [B, '/b']] as const) {
      const w = await t.client.post('/api/webhooks', { title: path, endpoint: `${receiver.url}${path}`, trigger: 'all', filters: 'all', events: ['application.*', 'meeting.*'] });
      assert.equal(w.status, 201, w.text);
    }
  });
  after(async () => {
    await receiver?.close();
    await server?.close();
  });

  it("lets the core send ids another tenant took first, and keeps each tenant's things its own", async () => {
    const draft = fixture('application-1000-draft');
    // B squats: the core's service id, application id and the draft's event_id.
    const squatService = await B.client.post('/api/services', { id: SERVICE_ID, name: 'Squatted service', slug: 'iscrizione-asilo-nido' });
    assert.equal(squatService.status, 201, squatService.text);
    const squatApp = await B.client.post('/api/applications', { id: APP_ID, service_id: SERVICE_ID, status: 2000, subject: 'Squatted pratica' });
    assert.equal(squatApp.status, 201, squatApp.text);
    const squatEvent = await B.client.post('/api/events', { event_id: draft.event_id, type: 'meeting.created', data: { who: 'B' } });
    assert.equal(squatEvent.status, 201, squatEvent.text);

    // A's core sends the same ids: accepted, never 409, nothing said about B.
    const send = (topic: string, body: unknown) => server.api.post(`/ingest/opencity/${token}/${topic}`, body);
    const svc = await send('services', fixture('service'));
    assert.equal(svc.status, 201, svc.text);
    const created = await send('applications', draft);
    assert.equal(created.status, 201, created.text);
    const submitted = await send('applications', fixture('application-2000-submitted'));
    assert.equal(submitted.status, 201, submitted.text);
    // And through the API: A sends B's event_id of its own.
    const shared = randomUUID();
    assert.equal((await B.client.post('/api/events', { event_id: shared, type: 'meeting.created', data: { who: 'B' } })).status, 201);
    const mine = await A.client.post('/api/events', { event_id: shared, type: 'meeting.created', data: { who: 'A' } }, { prefer: 'return=representation' });
    assert.equal(mine.status, 201, mine.text);
    assert.deepEqual(mine.body.data, { who: 'A' }, "A's own event, not B's");

    // Each sees only its own.
    const svcA = (await A.client.get(`/api/services/${SERVICE_ID}`)).body;
    const svcB = (await B.client.get(`/api/services/${SERVICE_ID}`)).body;
    assert.equal(svcA.name, fixture('service').name);
    assert.equal(svcB.name, 'Squatted service');
    const appA = (await A.client.get(`/api/applications/${APP_ID}`)).body;
    const appB = (await B.client.get(`/api/applications/${APP_ID}`)).body;
    assert.equal(appA.status, '2000');
    assert.equal(appA.subject, draft.subject);
    assert.equal(appB.subject, 'Squatted pratica');
    const evA = await A.client.get(`/api/events/${draft.event_id}`);
    const evB = await B.client.get(`/api/events/${draft.event_id}`);
    assert.equal(evA.body.type, 'application.created', evA.text);
    assert.equal(evB.body.type, 'meeting.created', evB.text);
    assert.deepEqual(evB.body.data, { who: 'B' });
    for (const [t, other] of [[A, B], [B, A]] as const) {
      for (const p of ['/api/services', '/api/applications', '/api/events?limit=500', `/api/events?subject=${APP_ID}`]) {
        const r = await t.client.get(p);
        assert.equal(r.status, 200, r.text);
        assert.ok(!r.text.includes(other.id), `${p} shows nothing of the other tenant`);
      }
    }
    const historyB = (await B.client.get(`/api/applications/${APP_ID}/history`)).body.items;
    assert.ok(historyB.every((e: Body) => e.tenant_id === undefined || e.tenant_id === B.id));
    assert.ok(!JSON.stringify(historyB).includes(draft.subject), "B's history holds none of A's events");

    // Deliveries go to each tenant's own webhook, with its own tenant's body.
    const deliveries = async (c: Client) => (await c.get('/api/deliveries?limit=100')).body.items as Body[];
    const [dA, dB] = [await deliveries(A.client), await deliveries(B.client)];
    assert.ok(dA.length >= 2 && dB.length >= 2, `A ${dA.length}, B ${dB.length}`);
    await waitUntil(() => receiver.requests.length >= dA.length + dB.length, 10_000, 'every delivery received');
    const at = (path: string) => receiver.requests.filter((r) => r.url === path).map((r) => r.body);
    assert.equal(at('/a').length, dA.length);
    assert.equal(at('/b').length, dB.length);
    assert.ok(at('/a').every((body) => !body.includes('Squatted') && !body.includes('"who":"B"')), "A's webhook gets none of B's");
    assert.ok(at('/b').every((body) => !body.includes(draft.subject) && !body.includes('"who":"A"')), "B's webhook gets none of A's");
    assert.ok(at('/b').some((body) => body.includes('"who":"B"')), "B's own event with the shared id reached B");
    assert.ok(at('/a').some((body) => body.includes('"who":"A"')), "A's own event with the shared id reached A");
  });
}

describe('ids per tenant on SQLite', () => idsPerTenant('sqlite', () => undefined));

let pg: PgSchema | null = null;
await describeOnPg('ids per tenant on PostgreSQL', () => {
  before(async () => { pg = await freshPgSchema(); });
  after(async () => { await pg?.drop(); });
  idsPerTenant('postgres', () => pg?.url);
});
