/**
 * Regression for issue 12 item 1 (prototype pollution), through every entry point that takes
 * `data`, over real HTTP on SQLite: keys `__proto__.x`, `constructor.prototype.x` and
 * `prototype.x`, flat (dot paths) and nested (raw JSON, so `__proto__` is an own key as a
 * client would send it). The API answers 400 problem+json naming the field and writes nothing;
 * the OpenCity sink and the bridge answer 200 and keep an ingest.rejected event. The process
 * keeps serving, and Object.prototype is untouched.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { assertProblem, createService } from './api-helpers.js';
import { createTenant, startTestServer, type Client, type TestServer } from './harness.js';

const ref = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/opencity-reference/${name}.json`, import.meta.url), 'utf8'));

/** `data` values as JSON text, and the key path the answer must name (under `data.`). */
const DATA: [string, string][] = [
  ['{"__proto__.polluted":"yes"}', '__proto__.polluted'],
  ['{"constructor.prototype.polluted":"yes"}', 'constructor.prototype.polluted'],
  ['{"prototype.polluted":"yes"}', 'prototype.polluted'],
  ['{"applicant":{"__proto__":{"polluted":"yes"}}}', 'applicant.__proto__'],
  ['{"__proto__":{"polluted":"yes"}}', '__proto__'],
  ['{"constructor":{"prototype":{"polluted":"yes"}}}', 'constructor'],
  ['{"prototype":{"polluted":"yes"}}', 'prototype'],
  ['{"list":[{"ok":1},{"constructor.prototype.polluted":"yes"}]}', 'list.1.constructor.prototype.polluted'],
];

/** A JSON object as text with `data` spliced in raw (JSON.stringify of a JS literal would not keep `__proto__` own). */
const withData = (obj: Record<string, unknown>, data: string): string => `${JSON.stringify(obj).slice(0, -1)},"data":${data}}`;

const pristine = () => {
  const probe: Record<string, unknown> = {};
  return probe.polluted === undefined && (Object.prototype as Record<string, unknown>).polluted === undefined;
};

describe('prototype keys in data, through every entry point', () => {
  let server: TestServer;
  let client: Client;
  let token: string;
  let serviceId: string;
  const count = async () => (await client.get('/api/events?limit=500')).body.items.length;

  before(async () => {
    server = await startTestServer();
    const tenant = await createTenant(server, 'Comune di Prova');
    client = tenant.client;
    token = (await client.post('/api/ingest-tokens', { name: 'core' })).body.token;
    serviceId = (await createService(client)).id;
  });
  after(async () => { await server.close(); });

  it('the API answers 400 problem+json naming the field, and writes nothing', async () => {
    const before = await count();
    for (const [data, path] of DATA) {
      const raw = (p: string, text: string) => client.request('POST', p, text, { 'content-type': 'application/json' });
      assertProblem(await raw('/api/applications', withData({ service_id: serviceId }, data)), 400, `data.${path}`);
      assertProblem(await raw('/api/events', withData({ event_id: randomUUID(), type: 'meeting.created' }, data)), 400, `data.${path}`);
      const batch = `{"events":[${JSON.stringify({ event_id: randomUUID(), type: 'meeting.created', data: {} })},${withData({ event_id: randomUUID(), type: 'meeting.created' }, data)}]}`;
      assertProblem(await raw('/api/events/batch', batch), 400, `events.1.data.${path}`);
      assert.ok(pristine(), data);
    }
    assert.equal(await count(), before, 'nothing written');
    assert.equal((await client.get('/api/applications')).body.items.length, 0);
  });

  it('the OpenCity sink and the bridge answer 200 and keep ingest.rejected', async () => {
    const before = await count();
    const producer = ref('producer-applications-2000');
    const webhook = ref('webhook-opencity-v1-2000');
    const tenantId = (await client.get('/api/tenants')).body.items[0].id;
    for (const [data] of DATA) {
      const raw = (p: string, text: string) => server.api.request('POST', p, text, { 'content-type': 'application/json' });
      const { data: _d1, ...p } = producer;
      const sink = await raw(`/ingest/opencity/${token}/applications`, withData({ ...p, tenant_id: tenantId, event_id: randomUUID() }, data));
      assert.equal(sink.status, 200, sink.text);
      assert.equal(sink.body.result, 'rejected');
      const { data: _d2, ...w } = webhook;
      const bridge = await raw(`/ingest/opencity-webhook/${token}`, withData({ ...w, id: randomUUID() }, data));
      assert.equal(bridge.status, 200, bridge.text);
      assert.equal(bridge.body.result, 'rejected');
      assert.ok(pristine(), data);
    }
    const rejected = (await client.get('/api/events?type=ingest.rejected&limit=500')).body.items;
    assert.equal(rejected.length, DATA.length * 2);
    assert.deepEqual(rejected.map((e: any) => e.data.field), DATA.flatMap(([, path]) => [`data.${path}`, `data.${path}`]));
    assert.equal(await count(), before + DATA.length * 2, 'only the rejections');
    assert.equal((await client.get('/api/applications')).body.items.length, 0);
    assert.equal((await server.api.get('/healthz')).status, 200, 'still serving');
  });
});
