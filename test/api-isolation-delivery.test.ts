/**
 * Tenant isolation of the delivery routes: another tenant's deliveries, and the webhook
 * actions around them, answer 404 and change nothing; lists never show them.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startTestServer, type TestServer } from './harness.js';
import { createService, newTenant } from './api-helpers.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

it("another tenant's deliveries and webhook actions answer 404 and change nothing", async () => {
  const A = await newTenant(server);
  const B = await newTenant(server);
  const svc = await createService(A.client);
  const hook = (await A.client.post('/api/webhooks', { title: 'a', endpoint: 'http://127.0.0.1:9/a', trigger: 'all' })).body;
  await A.client.post('/api/applications', { service_id: svc.id, status: 1900 });
  const [delivery] = (await A.client.get('/api/deliveries')).body.items;
  assert.ok(delivery, 'A has a pending delivery (the dispatcher is off)');
  const before = (await A.client.get(`/api/deliveries/${delivery.id}`)).body;

  for (const [method, path, body] of [
    ['GET', `/api/deliveries/${delivery.id}`, undefined],
    ['POST', `/api/deliveries/${delivery.id}/resend`, undefined],
    ['POST', `/api/webhooks/${hook.id}/recover`, { since: new Date(0).toISOString() }],
    ['POST', `/api/webhooks/${hook.id}/test`, {}],
    ['GET', `/api/webhooks/${hook.id}/health`, undefined],
  ] as const) {
    const r = await B.client.request(method, path, body);
    assert.equal(r.status, 404, `${method} ${path}: ${r.status} ${r.text}`);
  }
  for (const p of ['/api/deliveries', `/api/deliveries?webhook_id=${hook.id}`, `/api/stats/attempts?webhook_id=${hook.id}`]) {
    const r = await B.client.get(p);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.items, [], `${p} shows nothing of A`);
  }
  assert.deepEqual((await A.client.get(`/api/deliveries/${delivery.id}`)).body, before);
});
