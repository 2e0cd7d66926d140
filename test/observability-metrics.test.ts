/**
 * /metrics as dashboards and Prometheus read it: prom-client's defaults unprefixed, request
 * durations by route template, ingest counters, build info; per-webhook series only when asked
 * for and gone once the webhook is deleted; and `promtool check metrics` clean when promtool is
 * installed (Debian's `prometheus` package; .ci/run installs it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTenant, startReceiver, startTestServer, waitUntil, type Client, type Receiver, type TestServer } from './harness.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;

async function scrape(server: TestServer): Promise<string> {
  const r = await server.adminApi.get('/metrics');
  assert.equal(r.status, 200);
  return r.text;
}

describe('metrics, default settings', () => {
  let server: TestServer;
  let client: Client;
  before(async () => {
    server = await startTestServer();
    ({ client } = await createTenant(server));
  });
  after(() => server.close());

  it('names the defaults as stock Node.js dashboards expect, and adds build info', async () => {
    const text = await scrape(server);
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assert.doesNotMatch(text, /messo_process_/);
    assert.ok(text.includes(`messo_build_info{version="0.1.0",node="${process.version}"} 1`), 'build info');
    assert.doesNotMatch(text, /messo_webhook_failures_total/, 'no per-webhook series unless turned on');
  });

  it('times HTTP requests by route template and status, and counts ingested events by source', async () => {
    const w = await client.post('/api/webhooks', { title: 'x', endpoint: 'https://example.org/h', trigger: 'all' });
    assert.equal(w.status, 201, w.text);
    assert.equal((await client.get(`/api/webhooks/${w.body.id}`)).status, 200);
    assert.equal((await client.get('/api/webhooks/wh_nope')).status, 404);
    const id = randomUUID();
    assert.equal((await client.post('/api/events', { event_id: id, type: 'note.created', data: {} })).status, 201);
    assert.equal((await client.post('/api/events', { event_id: id, type: 'note.created', data: {} })).status, 200);
    const text = await scrape(server);
    assert.match(text, /^http_request_duration_seconds_count\{method="GET",route="\/api\/webhooks\/:id",status_code="200"\} 1$/m);
    assert.match(text, /^http_request_duration_seconds_count\{method="GET",route="\/api\/webhooks\/:id",status_code="404"\} 1$/m);
    assert.doesNotMatch(text, /wh_nope|route="\/api\/webhooks\/wh_/, 'ids never become labels');
    assert.match(text, /^messo_ingest_events_total\{source="api",result="created"\} 1$/m);
    assert.match(text, /^messo_ingest_events_total\{source="api",result="duplicate"\} 1$/m);
  });

  it('passes promtool check metrics', { skip: promtool ? false : 'promtool is not installed (apt-get install prometheus)' }, async () => {
    const text = await scrape(server);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
  });
});

describe('metrics, per-webhook labels turned on', () => {
  let server: TestServer;
  let client: Client;
  let tenantId: string;
  let receiver: Receiver;
  before(async () => {
    server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_RETRY_SCHEDULE: '0', MESSO_METRICS_WEBHOOK_LABELS: 'true' });
    ({ client, id: tenantId } = await createTenant(server));
    receiver = await startReceiver();
    receiver.handler = () => ({ status: 500 });
  });
  after(async () => {
    await receiver.close();
    await server.close();
  });

  async function failingWebhook(path: string): Promise<string> {
    const w = await client.post('/api/webhooks', { title: path, endpoint: `${receiver.url}${path}`, trigger: 'all', events: ['*'], format: 'standard' });
    assert.equal(w.status, 201, w.text);
    return w.body.id;
  }

  it('counts failures per webhook and drops the series when the webhook is deleted, here or by another process', async () => {
    const a = await failingWebhook('/a');
    const b = await failingWebhook('/b');
    await client.post('/api/events', { event_id: randomUUID(), type: 'note.created', data: {} });
    const series = (id: string) => new RegExp(`^messo_webhook_failures_total\\{webhook_id="${id}"\\} 1$`, 'm');
    await waitUntil(async () => { const t = await scrape(server); return series(a).test(t) && series(b).test(t); }, 10_000, 'both failures counted');
    // Deleted through the API of this process: gone at once.
    assert.equal((await client.delete(`/api/webhooks/${a}`)).status, 204);
    let text = await scrape(server);
    assert.doesNotMatch(text, new RegExp(a));
    assert.match(text, series(b));
    // Deleted elsewhere (straight in the shared store, as another API process would): gone at the next scrape.
    assert.equal(await server.store.deleteWebhook(tenantId, b), true);
    text = await scrape(server);
    assert.doesNotMatch(text, new RegExp(b));
    assert.match(text, /^# TYPE messo_webhook_failures_total counter$/m);
  });
});
