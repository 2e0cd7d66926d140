/**
 * The OpenAPI document as a contract (issue 14): it lints clean with Redocly's rules, every
 * operation is named and typed from components, documents its problems, and the contract
 * check that every API test goes through (test/contract.ts) really refuses what the
 * document does not say.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { checkAnswer, ContractError } from './contract.js';
import { startTestServer, type TestServer } from './harness.js';
import { assertProblem, createService, newTenant } from './api-helpers.js';

let server: TestServer;
let doc: any;
const operations = () => Object.entries(doc.paths as Record<string, Record<string, any>>)
  .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

before(async () => {
  server = await startTestServer();
  doc = (await server.api.get('/openapi.json')).body;
});
after(() => server.close());

describe('the OpenAPI document', () => {
  it("lints with zero errors under Redocly's recommended rules", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: '/openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error');
    assert.deepEqual(errors.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), []);
    // What remains: the three probes without a 4xx answer (they have none to give).
    const warnings = problems.filter((p) => p.severity === 'warn').map((p) => `${p.ruleId} ${p.location[0]?.pointer}`);
    assert.ok(warnings.every((w) => /^operation-4xx-response #\/paths\/~1(healthz|readyz|metrics)\//.test(w)), warnings.join('\n'));
  });

  it('names the license and the server, and needs no token for the probes', () => {
    assert.equal(doc.info.license.identifier, 'EUPL-1.2');
    assert.equal(doc.servers[0].url, server.config.publicUrl);
    for (const p of ['/healthz', '/readyz']) assert.deepEqual(doc.paths[p].get.security, [], p);
    // Queue depths and webhook ids are not for everyone (issue 12): the admin token, or a port of their own.
    assert.deepEqual(doc.paths['/metrics'].get.security, [{ bearer: [] }]);
    assert.deepEqual(doc.paths['/ingest/opencity/{token}/{topic}'].post.security, []);
  });

  it('gives every operation a unique operationId, a 2xx from named components and its problems', () => {
    const ids = new Set<string>();
    const ops = operations();
    assert.ok(ops.length >= 70, `${ops.length} operations`);
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, where);
      assert.ok(!ids.has(op.operationId), `${where}: operationId ${op.operationId} used twice`);
      ids.add(op.operationId);
      const codes = Object.keys(op.responses);
      const ok = codes.filter((c) => /^2/.test(c));
      assert.ok(ok.length > 0, `${where}: no 2xx`);
      for (const c of ok) {
        if (c === '204') {
          assert.equal(op.responses[c].content, undefined, where);
          continue;
        }
        const [media, { schema }] = Object.entries(op.responses[c].content as Record<string, { schema: any }>)[0];
        if (media === 'application/json') assert.match(schema.$ref ?? '', /^#\/components\/schemas\/[A-Z]\w+$/, `${where} ${c}`);
        else assert.equal(schema.type, 'string', `${where} ${c}`);
      }
      assert.ok(codes.includes('500'), `${where}: no 500`);
      for (const c of codes.filter((x) => /^[45]/.test(x))) {
        assert.equal(op.responses[c].content['application/problem+json'].schema.$ref, '#/components/schemas/Problem', `${where} ${c}`);
      }
      if (path.startsWith('/api/')) for (const c of ['401', '403', '404']) assert.ok(codes.includes(c), `${where}: no ${c}`);
    }
    for (const name of ['Application', 'Webhook', 'Delivery', 'Attempt', 'Event', 'Bin', 'Capture', 'Problem', 'Tenant', 'ApiKey', 'DeliveryPage']) {
      assert.ok(doc.components.schemas[name], `components.schemas.${name}`);
    }
  });

  it('documents the 2xx each operation really answers', async () => {
    const ok = (path: string, method: string) => Object.keys(doc.paths[path][method].responses).filter((c) => /^2/.test(c));
    assert.deepEqual(ok('/api/applications/{id}/messages', 'post'), ['201']);
    assert.deepEqual(ok('/api/inspector/bins', 'post'), ['201']);
    assert.deepEqual(ok('/api/deliveries/{id}/resend', 'post'), ['202']);
    assert.deepEqual(ok('/api/webhooks/{id}/recover', 'post'), ['202']);
    for (const p of ['/api/webhooks/{id}', '/api/inspector/bins/{id}', '/api/inspector/bins/{id}/requests/{rid}']) assert.deepEqual(ok(p, 'delete'), ['204'], p);
    // And the server agrees (the contract check of the harness would throw otherwise).
    const { client } = await newTenant(server);
    const service = await createService(client);
    const app = await client.post('/api/applications', { service_id: service.id });
    assert.equal((await client.post(`/api/applications/${app.body.id}/messages`, { message: 'Buongiorno' })).status, 201);
    const bin = await client.post('/api/inspector/bins', {});
    assert.equal(bin.status, 201);
    assert.equal((await client.delete(`/api/inspector/bins/${bin.body.id}`)).status, 204);
    const wh = await client.post('/api/webhooks', { title: 'w', endpoint: 'http://127.0.0.1:9/hook' });
    assert.equal((await client.post(`/api/webhooks/${wh.body.id}/recover`, { since: new Date(0).toISOString() })).status, 202);
    assert.equal((await client.delete(`/api/webhooks/${wh.body.id}`)).status, 204);
  });

  it('lets POST /tenants/{id}/keys and /keys go without a body, as the README does', async () => {
    for (const p of ['/api/tenants/{id}/keys', '/api/keys']) assert.equal(doc.paths[p].post.requestBody.required, false, p);
    const t = await server.adminApi.post('/api/tenants', { name: 'Comune senza corpo' });
    const k = await server.adminApi.post(`/api/tenants/${t.body.id}/keys`);
    assert.equal(k.status, 201, k.text);
    assert.equal(k.body.name, 'default');
  });

  it('answers 404, not the list, to an empty id', async () => {
    const { client } = await newTenant(server);
    for (const p of ['/api/events/', '/api/webhooks/', '/api/deliveries/', '/api/applications/']) assertProblem(await client.get(p), 404);
  });
});

describe('every operation, asked badly', () => {
  // The Client checks each answer against the document (test/contract.ts) and throws on an
  // undocumented status or body: this walks every operation with what a fuzzer would send.
  it('answers only what it documents to unknown ids, empty and wrong bodies, no token and a text body', async () => {
    const { client } = await newTenant(server);
    const bodies: unknown[] = [undefined, {}, [], 'null', { unknown_field: 1 }, { events: [] }, '{"broken'];
    let asked = 0;
    for (const { path, method } of operations()) {
      const url = path.replace(/\{[^}]+\}/g, 'nope');
      const m = method.toUpperCase();
      for (const body of m === 'GET' || m === 'DELETE' ? [undefined] : bodies) {
        await client.request(m, url, body);
        asked++;
      }
      await server.api.request(m, url, m === 'GET' || m === 'DELETE' ? undefined : {});
      if (m !== 'GET' && m !== 'DELETE') await client.request(m, url, 'plain words', { 'content-type': 'text/plain' });
      asked += m !== 'GET' && m !== 'DELETE' ? 2 : 1;
    }
    assert.ok(asked > 150, `${asked} requests`);
  });
});

describe('the contract check', () => {
  const json = new Headers({ 'content-type': 'application/json; charset=utf-8' });
  const problem = new Headers({ 'content-type': 'application/problem+json; charset=utf-8' });
  const check = (method: string, path: string, status: number, headers: Headers, body: unknown) =>
    checkAnswer(server.api.base, method, `${server.api.base}${path}`, { status, headers }, body, JSON.stringify(body) ?? '');

  it('refuses a status the operation does not document', async () => {
    await assert.rejects(check('GET', '/api/webhooks/wh_1', 418, problem, {}), ContractError);
    await assert.rejects(check('DELETE', '/api/webhooks/wh_1', 200, json, {}), ContractError);
  });

  it('refuses a body that is not the schema, or a problem that is not a Problem', async () => {
    await assert.rejects(check('GET', '/api/deliveries', 200, json, { items: [{ id: 1 }], next_cursor: null }), /does not match/);
    await assert.rejects(check('GET', '/api/tenants', 200, json, { items: [], next_cursor: null, secret: 'leak' }), /does not match/);
    await assert.rejects(check('GET', '/api/webhooks/wh_1', 404, problem, { status: 404 }), /does not match/);
    await assert.rejects(check('GET', '/api/webhooks/wh_1', 404, json, {}), /not application\/problem\+json/);
  });

  it('takes what the document says, and leaves paths that are no operation alone', async () => {
    await check('GET', '/api/deliveries', 200, json, { items: [], next_cursor: null });
    await check('GET', '/healthz', 200, json, { status: 'ok' });
    await check('GET', '/in/bin_x/anything', 599, json, 'whatever');
  });
});
