/**
 * Bad input answers the right 4xx as problem+json naming the field at fault, and writes
 * nothing: every case lists what it could have changed before and after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type Client, type TestServer } from './harness.js';
import { allEvents, assertProblem, createApplication, createService, newTenant } from './api-helpers.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

/** What a refused request could have written, as the tenant sees it. */
async function snapshot(client: Client) {
  const list = async (p: string) => (await client.get(p)).body.items;
  return {
    events: await allEvents(client), services: await list('/api/services?limit=500'), applications: await list('/api/applications?limit=500'),
    webhooks: await list('/api/webhooks?limit=500'), keys: await list('/api/keys'),
  };
}

describe('bad input', () => {
  it('answers malformed JSON with 400 malformed_json', async () => {
    const { client } = await newTenant(server);
    const before = await snapshot(client);
    for (const [path, text] of [['/api/services', '{"name": '], ['/api/events', '{"event_id": "x",}'], ['/api/webhooks', "{'title': 'x'}"], ['/api/applications', 'nul']]) {
      const r = await client.post(path, text);
      assertProblem(r, 400);
      assert.equal(r.body.type, 'urn:messo:problem:malformed_json', `${path}: ${r.text}`);
    }
    assert.deepEqual(await snapshot(client), before);
  });

  it('answers a body that is not JSON with 415', async () => {
    const { client } = await newTenant(server);
    const before = await snapshot(client);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']) {
      const r = await client.post('/api/services', 'name=Mensa', { 'content-type': type });
      assertProblem(r, 415);
      assert.equal(r.body.type, 'urn:messo:problem:unsupported_media_type', type);
    }
    assert.deepEqual(await snapshot(client), before);
    const ok = await client.post('/api/services', { name: 'Mensa' }, { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(ok.status, 201, 'JSON with a charset is JSON');
  });

  it('answers unknown routes with 404 problem+json', async () => {
    const { client } = await newTenant(server);
    assertProblem(await client.get('/api/nothing-here'), 404);
    assertProblem(await server.api.get('/api/nothing-here'), 404);
    // GETs outside the server's own paths belong to the dashboard (browser routes); other methods do not.
    assertProblem(await server.api.post('/nothing-here', {}), 404);
    assertProblem(await client.post('/api/applications/x/y/z', {}), 404);
  });

  it('refuses wrong types and unknown fields, naming the field', async () => {
    const { client } = await newTenant(server);
    const svc = await createService(client);
    const app = await createApplication(client, svc.id, { status: 2000 });
    const before = await snapshot(client);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/applications', { service_id: svc.id, status: '2000' }, 'status'],
      ['POST', '/api/applications', { service_id: svc.id, status: 4000 }, 'status'],
      ['POST', '/api/applications', { service_id: svc.id, colour: 'red' }, 'colour'],
      ['POST', '/api/applications', { service_id: svc.id, data: 'x' }, 'data'],
      ['POST', '/api/applications', { service_id: svc.id, id: 'not-a-uuid' }, 'id'],
      ['POST', '/api/applications', { service_id: 42 }, 'service_id'],
      ['POST', '/api/applications', {}, 'service_id'],
      ['POST', `/api/applications/${app.id}/transitions`, { status: '4000' }, 'status'],
      ['POST', `/api/applications/${app.id}/transitions`, { status: 4000, note: 'x' }, 'note'],
      ['POST', `/api/applications/${app.id}/messages`, { message: '' }, 'message'],
      ['POST', `/api/applications/${app.id}/messages`, { message: 'x', visibility: 'everyone' }, 'visibility'],
      ['POST', '/api/services', { name: 'Mensa', slug: 'Not A Slug' }, 'slug'],
      ['POST', '/api/services', { name: 'Mensa', status: 'open' }, 'status'],
      ['POST', '/api/services', { name: 123 }, 'name'],
      ['PATCH', `/api/services/${svc.id}`, { id: 'other' }, 'id'],
      ['POST', '/api/keys', { name: 7 }, 'name'],
      ['POST', '/api/events', { event_id: 'x', type: 'meeting.created', data: {} }, 'event_id'],
      ['POST', '/api/events', { event_id: '8a2c5b6e-1f3d-4c5e-9a7b-0c1d2e3f4a5b', type: 'meeting.created', data: [] }, 'data'],
    ];
    for (const [method, path, body, field] of cases) {
      assertProblem(await client.request(method, path, body), 400, field);
    }
    for (const q of ['/api/applications?status=abc', '/api/applications?limit=0', '/api/events?limit=501', '/api/events?since=yesterday', '/api/applications?updated_since=soon']) {
      assertProblem(await client.get(q), 400, q.split('?')[1].split('=')[0]);
    }
    for (const cursor of ['not-a-cursor', 'c-5', 'c1e3', 'c0x1', 'c']) {
      assertProblem(await client.get(`/api/events?cursor=${Buffer.from(cursor).toString('base64url')}`), 400, 'cursor');
    }
    assert.deepEqual(await snapshot(client), before);
  });

  it('refuses times that cannot be rendered, so no event can break a listing', async () => {
    const { client } = await newTenant(server);
    const svc = await createService(client);
    const before = await snapshot(client);
    const event = (extra: Record<string, unknown>) => ({ event_id: crypto.randomUUID(), type: 'meeting.created', data: {}, ...extra });
    const app = (extra: Record<string, unknown>) => event({
      type: 'application.snapshot', data: { application: { id: crypto.randomUUID(), service_id: svc.id, status: 2000, ...extra } },
    });
    const cases: [unknown, string][] = [
      [event({ event_created_at: 10_000_000_000_000 }), 'event_created_at'],
      [event({ event_created_at: 1e15 }), 'event_created_at'],
      [app({ creation_time: 1e13 }), 'data.application.creation_time'],
      [app({ submitted_at: 'last tuesday' }), 'data.application.submitted_at'],
      [app({ protocol_time: -5 }), 'data.application.protocol_time'],
      [app({ flow_changed_at: 'soon' }), 'data.application.flow_changed_at'],
    ];
    for (const [body, field] of cases) assertProblem(await client.post('/api/events', body), 400, field);
    for (const q of ['since=99999999999999999999', 'since=300000-01-01T00:00:00Z']) assertProblem(await client.get(`/api/events?${q}`), 400, 'since');
    assertProblem(await client.get('/api/applications?updated_since=99999999999999999999'), 400, 'updated_since');
    assert.deepEqual(await snapshot(client), before);
    const ok = await client.post('/api/events', app({ creation_time: 1763631600, submitted_at: '2025-11-20T10:45:00+01:00' }), { prefer: 'return=representation' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.data.application.created_at, '2025-11-20T10:40:00+01:00');
    assert.equal(ok.body.data.application.submission_time, 1763631900);
  });

  it('answers URLs the router refuses as problems too', async () => {
    const { client } = await newTenant(server);
    const long = await client.get(`/api/applications/${'x'.repeat(300)}`);
    assertProblem(long, 404);
    assertProblem(await client.get('/api/applications/%E0%A4%A'), 400);
  });

  it('refuses bad webhooks with 400 naming the field, creating and changing nothing', async () => {
    const { client } = await newTenant(server);
    const mine = await createService(client);
    const valid = { title: 'Protocollo', endpoint: 'http://127.0.0.1:9/hook' };
    const created = await client.post('/api/webhooks', { ...valid, trigger: 2000, filters: [mine.id] });
    assert.equal(created.status, 201, created.text);
    const before = await snapshot(client);
    const cases: [Record<string, unknown>, string][] = [
      [{ endpoint: 'not a url' }, 'endpoint'],
      [{ endpoint: '/relative/path' }, 'endpoint'],
      [{ endpoint: 'ftp://127.0.0.1/x' }, 'endpoint'],
      [{ endpoint: 'javascript:alert(1)' }, 'endpoint'],
      [{ endpoint: 'file:///etc/passwd' }, 'endpoint'],
      [{ endpoint: 'http://10.1.2.3/hook' }, 'endpoint'],
      [{ endpoint: 'http://169.254.169.254/latest/meta-data' }, 'endpoint'],
      [{ endpoint: 42 }, 'endpoint'],
      [{ trigger: 'sometimes' }, 'trigger'],
      [{ trigger: 1234 }, 'trigger'],
      [{ trigger: '2000 ' }, 'trigger'],
      [{ events: ['Application Created'] }, 'events.0'],
      [{ filters: [mine.id, ' '] }, 'filters.1'],
      [{ filters: 'some' }, 'filters'],
      [{ headers: { Host: 'evil.example' } }, 'headers.Host'],
      [{ headers: { 'Content-Length': '1' } }, 'headers.Content-Length'],
      [{ headers: { 'transfer-encoding': 'chunked' } }, 'headers.transfer-encoding'],
      [{ headers: { 'Webhook-Signature': 'v1,forged' } }, 'headers.Webhook-Signature'],
      [{ headers: { 'webhook-id': 'x' } }, 'headers.webhook-id'],
      [{ headers: { 'X-Token': 'a\r\nInjected: yes' } }, 'headers.X-Token'],
      [{ headers: { 'Bad Name': 'x' } }, 'headers.Bad Name'],
      [{ headers: { 'X-Count': 1 } }, 'headers.X-Count'],
      [{ method: 'GET' }, 'method'],
      [{ version: 3 }, 'version'],
      [{ version: '3.0' }, 'version'],
      [{ version: 1.5 }, 'version'],
      [{ format: 'xml' }, 'format'],
      [{ active: 'yes' }, 'active'],
      [{ secret: 'whsec_mine' }, 'secret'],
    ];
    for (const [patch, field] of cases) {
      assertProblem(await client.post('/api/webhooks', { ...valid, ...patch }), 400, field);
      assertProblem(await client.patch(`/api/webhooks/${created.body.id}`, patch), 400, field);
    }
    assertProblem(await client.post('/api/webhooks', { endpoint: valid.endpoint }), 400, 'title');
    assert.deepEqual(await snapshot(client), before);
  });

  it('answers a body over MESSO_BODY_LIMIT with 413, writing nothing', async () => {
    const small = await startTestServer({ MESSO_BODY_LIMIT: '2kb' });
    try {
      const { client } = await newTenant(small);
      const before = await snapshot(client);
      const big = { event_id: '8a2c5b6e-1f3d-4c5e-9a7b-0c1d2e3f4a5b', type: 'meeting.created', data: { notes: 'x'.repeat(3000) } };
      const r = await client.post('/api/events', big);
      assertProblem(r, 413);
      assert.equal(r.body.type, 'urn:messo:problem:payload_too_large');
      assertProblem(await client.post('/api/services', { name: 'y'.repeat(2100) }), 413);
      assert.deepEqual(await snapshot(client), before);
      const fits = await client.post('/api/events', { ...big, data: { notes: 'x'.repeat(1000) } });
      assert.equal(fits.status, 201, 'a body under the limit passes');
    } finally {
      await small.close();
    }
  });
});
