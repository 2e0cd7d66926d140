/**
 * The smaller holes of issue 12, item 9, through real HTTP: replay to this server's own
 * inspector with a guard that refuses loopback; bin rules that would act on messo's origin are
 * refused; /metrics needs the admin token or its own port, with bounded label values; a
 * client's X-Request-Id is kept only when it looks like an id; /docs sends security headers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDeliveryMetrics, MAX_WEBHOOK_SERIES } from '../src/delivery/metrics.js';
import { assertProblem } from './api-helpers.js';
import { createTenant, startReceiver, startTestServer, type TestServer } from './harness.js';
import { newBin, send } from './inspector-helpers.js';

describe('inspector', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer({ MESSO_ALLOWED_TARGETS: '' }); });
  after(async () => { await server.close(); });

  it('replays to this server\'s own inspector even though the guard refuses loopback', async () => {
    const { client } = await createTenant(server, 'replay own');
    const from = await newBin(client);
    const to = await newBin(client);
    assert.equal((await send(`${from.url}/x`, { body: 'hello', headers: ['content-type', 'text/plain'] })).status, 200);
    const [c] = (await client.get(`/api/inspector/bins/${from.id}/requests`)).body.items;
    const r = await client.post(`/api/inspector/bins/${from.id}/requests/${c.id}/replay`, { url: `${to.url}/replayed` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ok, true);
    const got = (await client.get(`/api/inspector/bins/${to.id}/requests`)).body.items;
    assert.equal(got.length, 1);
    assert.equal(got[0].path, '/replayed');
    // Anything else on loopback is still refused.
    const receiver = await startReceiver();
    try {
      assertProblem(await client.post(`/api/inspector/bins/${from.id}/requests/${c.id}/replay`, { url: receiver.url }), 400, 'url');
      assert.equal(receiver.requests.length, 0);
    } finally {
      await receiver.close();
    }
  });

  it('refuses rules that set cookies, clear site data, refresh or redirect off-site', async () => {
    const { client } = await createTenant(server, 'rules');
    for (const [name, value] of [['Set-Cookie', 'sid=x; Path=/'], ['Clear-Site-Data', '"*"'], ['Refresh', '0;url=https://evil.example'], ['Location', 'https://evil.example/'], ['Location', '//evil.example']]) {
      const r = await client.post('/api/inspector/bins', { responses: [{ status: 302, headers: { [name]: value } }] });
      assertProblem(r, 400, `responses.0.headers.${name}`);
    }
    const ok = await newBin(client, { responses: [{ status: 302, headers: { Location: '/in/elsewhere' } }] });
    const r = await send(ok.url);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/in/elsewhere');
  });
});

describe('metrics', () => {
  it('needs the admin token on the main port', async () => {
    const server = await startTestServer();
    try {
      assertProblem(await server.api.get('/metrics'), 401);
      assertProblem(await server.api.as('not-the-admin-token').get('/metrics'), 401);
      const { key } = await createTenant(server, 'metrics');
      assertProblem(await server.api.as(key).get('/metrics'), 401);
      const r = await server.adminApi.get('/metrics');
      assert.equal(r.status, 200);
      assert.match(r.text, /messo_attempts_total/);
    } finally {
      await server.close();
    }
  });

  it('with MESSO_METRICS_PORT, is served there without a token and not on the main port', async () => {
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close();
    const server = await startTestServer({ MESSO_METRICS_PORT: String(port) });
    try {
      assert.equal((await server.adminApi.get('/metrics')).status, 404);
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /messo_queue_depth/);
    } finally {
      await server.close();
    }
  });

  it('keeps at most MAX_WEBHOOK_SERIES webhook_id values, when per-webhook series are on', async () => {
    const ids = Array.from({ length: MAX_WEBHOOK_SERIES + 500 }, (_, i) => `wh_${i}`);
    const m = createDeliveryMetrics({
      queueStats: async () => ({ due: 0, scheduled: 0, sending: 0, oldestDueAt: null, fanoutJobs: 0 }), liveWebhookIds: async (asked) => asked,
    }, { webhookLabels: true });
    for (const id of ids) m.recordAttempt('retry', 10, id);
    m.recordAttempt('failed', 10, 'wh_0');
    const text = await m.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('messo_webhook_failures_total{'));
    assert.equal(series.length, MAX_WEBHOOK_SERIES + 1);
    assert.ok(series.includes('messo_webhook_failures_total{webhook_id="other"} 500'), series.slice(-2).join('\n'));
    assert.ok(series.includes('messo_webhook_failures_total{webhook_id="wh_0"} 2'));
  });
});

describe('request ids and /docs', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer(); });
  after(async () => { await server.close(); });

  it('keeps a client X-Request-Id only when it looks like an id', async () => {
    const keep = await server.api.get('/healthz', { 'x-request-id': 'abc-123_DEF.4:5' });
    assert.equal(keep.headers.get('x-request-id'), 'abc-123_DEF.4:5');
    for (const bad of ['x'.repeat(65), 'has space', '<script>', 'a\u00e9', '-leading', '"quoted"']) {
      const r = await server.api.get('/healthz', { 'x-request-id': encodeURI(bad) === bad ? bad : encodeURIComponent(bad) });
      const id = r.headers.get('x-request-id') ?? '';
      assert.notEqual(id, bad);
      assert.match(id, /^[0-9a-f-]{36}$/, `${bad} replaced by a fresh UUID`);
    }
  });

  it('sends the dashboard\'s security headers on /docs', async () => {
    for (const path of ['/docs', '/docs/static/index.html']) {
      const r = await fetch(`${server.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'/, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer', path);
    }
  });
});
