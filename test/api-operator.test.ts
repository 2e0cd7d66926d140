/**
 * What an operator needs from the API (issue 15), on SQLite and on PostgreSQL: finding pratiche
 * and their deliveries by what they know (search, newest first), acting at once (retry now,
 * bulk actions with a count first, numbering that goes on), a webhook's health, and a
 * disabled webhook's skipped events brought back. Real server, real dispatcher, real receiver.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, startReceiver, startTestServer, waitUntil, type Client, type Receiver, type TestServer } from './harness.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';

function suite(dbUrl: () => Promise<{ url?: string; drop?: () => Promise<void> }>) {
  let server: TestServer;
  let receiver: Receiver;
  let drop: (() => Promise<void>) | undefined;
  let n = 0;
  /** Per path: the statuses still to answer, in order (then 200). */
  const script = new Map<string, number[]>();

  before(async () => {
    const db = await dbUrl();
    drop = db.drop;
    // The schedule's second wait is an hour: only "retry now" can bring a retrying delivery in.
    server = await startTestServer({ MESSO_DISPATCHER: 'true', MESSO_RETRY_SCHEDULE: '0,3600,3600,3600,3600', ...(db.url ? { MESSO_DATABASE_URL: db.url } : {}) });
    receiver = await startReceiver();
    receiver.handler = (req) => ({ status: script.get(req.url)?.shift() ?? 200, body: '{"ok":false,"why":"protocollo offline"}' });
  });
  after(async () => {
    await receiver.close();
    await server.close();
    await drop?.();
  });

  async function tenant(): Promise<{ client: Client; serviceId: string }> {
    const { client } = await createTenant(server, `Comune operatore ${++n} ${process.pid} ${Math.random()}`);
    const s = await client.post('/api/services', { name: 'Iscrizione asilo nido' });
    assert.equal(s.status, 201, s.text);
    return { client, serviceId: s.body.id };
  }

  async function pratica(client: Client, serviceId: string, userName: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await client.post('/api/applications', { service_id: serviceId, status: 1900, user_name: userName, ...extra });
    assert.equal(r.status, 201, r.text);
    return r.body.id;
  }

  async function webhook(client: Client, path: string, body: Record<string, unknown> = {}): Promise<string> {
    const r = await client.post('/api/webhooks', { title: 'Protocollo', endpoint: `${receiver.url}${path}`, events: ['application.*'], ...body });
    assert.equal(r.status, 201, r.text);
    return r.body.id;
  }

  async function deliveryOf(client: Client, query: string, statuses: string[]): Promise<any> {
    let found: any = null;
    await waitUntil(async () => {
      const list = await client.get(`/api/deliveries?${query}`);
      found = list.body.items.find((d: any) => statuses.includes(d.status)) ?? null;
      return found !== null;
    }, 10_000, `a delivery (${query}) in ${statuses.join('/')}`);
    return (await client.get(`/api/deliveries/${found.id}`)).body;
  }

  it('finds pratiche and their deliveries by applicant, codice fiscale, subject, protocol number and short id', async () => {
    const { client, serviceId } = await tenant();
    const other = await tenant();
    await webhook(client, '/search');
    const mario = await pratica(client, serviceId, 'Mario Rossi', {
      subject: 'Iscrizione asilo nido Girasole', data: { 'applicant.data.fiscal_code.data.fiscal_code': 'RSSMRA80A01L378Y' },
    });
    const r = await client.post(`/api/applications/${mario}/transitions`, { status: 2000, protocol_number: 'PG/2026/0042' });
    assert.equal(r.status, 200, r.text);
    const anna = await pratica(client, serviceId, 'Anna Rossini', { subject: 'Contributo affitto' });
    await pratica(other.client, other.serviceId, 'Mario Rossi');
    const ids = async (q: string, extra = '') => {
      const res = await client.get(`/api/applications?q=${encodeURIComponent(q)}${extra}`);
      assert.equal(res.status, 200, res.text);
      return res.body.items.map((a: any) => a.id);
    };
    assert.deepEqual(await ids('mario rossi'), [mario], 'by the applicant, and not another tenant\'s Mario Rossi');
    assert.deepEqual(await ids('Rossi', '&order=desc'), [anna, mario], 'a prefix: Rossi finds Rossini too; newest first');
    assert.deepEqual(await ids('rssmra80a01l378y'), [mario], 'by codice fiscale, any case');
    assert.deepEqual(await ids('PG/2026/0042'), [mario], 'by protocol number');
    assert.deepEqual(await ids('girasole'), [mario], 'by a word of the subject');
    assert.deepEqual(await ids(mario.slice(0, 8)), [mario], 'by the short id the lists show');
    assert.deepEqual(await ids('rossi nobody'), [], 'every word must match');
    assert.deepEqual(await ids('', '&order=desc'), [anna, mario]);

    await deliveryOf(client, `application_id=${anna}`, ['succeeded']);
    const found = await client.get('/api/deliveries?q=Mario%20Rossi');
    assert.equal(found.status, 200, found.text);
    assert.ok(found.body.items.length >= 2, 'both events of the pratica');
    for (const d of found.body.items) {
      assert.equal(d.application_id, mario);
      assert.deepEqual(d.application, { subject: 'Iscrizione asilo nido Girasole', applicant: 'Mario Rossi' }, 'rows say subject and applicant');
    }
    const asc = (await client.get(`/api/deliveries?q=rossi&order=asc`)).body.items.map((d: any) => d.created_at);
    assert.deepEqual(asc, [...asc].sort(), 'order=asc: oldest first');
    const id = found.body.items[0].id;
    const byId = await client.get(`/api/deliveries?q=${id}`);
    assert.deepEqual(byId.body.items.map((d: any) => d.id), [id], 'by a delivery id');
    // An id starts with the time it was made (domain/ids.ts): a start finds the deliveries made then.
    const start = id.slice(0, 10);
    const byStart = (await client.get(`/api/deliveries?q=${start}`)).body.items.map((d: any) => d.id);
    assert.ok(byStart.includes(id) && byStart.every((x: string) => x.startsWith(start)), `by the start of a delivery id: ${byStart.join(', ')}`);
    const bad = await client.get('/api/deliveries?order=sideways');
    assert.equal(bad.status, 400);
  });

  it('retries a retrying delivery now, one or many, counting first, and numbering goes on across resends', async () => {
    const { client, serviceId } = await tenant();
    const wh = await webhook(client, '/retry');
    // Before the pratica: its delivery may be sent before the POST's answer is read here.
    script.set('/retry', [500]);
    const id = await pratica(client, serviceId, 'Mario Rossi');
    const retrying = await deliveryOf(client, `application_id=${id}`, ['pending']);
    await waitUntil(async () => (await client.get(`/api/deliveries/${retrying.id}`)).body.attempt_log.length === 1, 10_000, 'the first attempt recorded');
    const d1 = (await client.get(`/api/deliveries/${retrying.id}`)).body;
    assert.ok(Date.parse(d1.next_attempt_at) > Date.now() + 2800_000, 'the next attempt is about an hour away (±20 % jitter)');
    assert.equal(d1.attempt_log[0].response_body, '{"ok":false,"why":"protocollo offline"}');

    const count = await client.post('/api/deliveries/bulk', { action: 'retry_now', filter: { webhook_id: wh, status: 'pending' }, dry_run: true });
    assert.equal(count.status, 200, count.text);
    assert.equal(count.body.count, 1, 'the count first; nothing changed');
    assert.equal((await client.get(`/api/deliveries/${retrying.id}`)).body.next_attempt_at, d1.next_attempt_at);

    const now = await client.post(`/api/deliveries/${retrying.id}/retry-now`);
    assert.equal(now.status, 202, now.text);
    const done = await deliveryOf(client, `application_id=${id}`, ['succeeded']);
    assert.deepEqual(done.attempt_log.map((a: any) => [a.attempt, a.manual, a.status_code]), [[1, false, 500], [2, true, 200]]);
    assert.equal((await client.post(`/api/deliveries/${retrying.id}/retry-now`)).status, 409, 'a finished one is resent, not retried');

    const resent = await client.post(`/api/deliveries/${retrying.id}/resend`);
    assert.equal(resent.status, 202, resent.text);
    await waitUntil(async () => (await client.get(`/api/deliveries/${retrying.id}`)).body.attempt_log.length === 3, 10_000, 'the resend');
    const after3 = (await client.get(`/api/deliveries/${retrying.id}`)).body;
    assert.deepEqual(after3.attempt_log.map((a: any) => [a.attempt, a.manual]), [[1, false], [2, true], [3, true]], 'attempt 3, not attempt 1 again');

    // Many at once, by filter: two pratiche's deliveries retrying, one bulk retry.
    script.set('/retry', [500, 500]);
    const a = await pratica(client, serviceId, 'Luigi Verdi');
    const b = await pratica(client, serviceId, 'Luigi Bianchi');
    await waitUntil(async () => {
      const l = (await client.get(`/api/deliveries?webhook_id=${wh}&status=pending`)).body.items;
      return l.length === 2 && l.every((d: any) => d.attempts === 1 && d.last_status_code === 500);
    }, 10_000, 'two retrying deliveries');
    const preview = await client.post('/api/deliveries/bulk', { action: 'retry_now', filter: { q: 'luigi' }, dry_run: true });
    assert.equal(preview.body.count, 2);
    const bulk = await client.post('/api/deliveries/bulk', { action: 'retry_now', filter: { q: 'luigi' } });
    assert.equal(bulk.status, 202, bulk.text);
    assert.equal(bulk.body.count, 2);
    await deliveryOf(client, `application_id=${a}&status=succeeded`, ['succeeded']);
    await deliveryOf(client, `application_id=${b}&status=succeeded`, ['succeeded']);
    const empty = await client.post('/api/deliveries/bulk', { action: 'resend' });
    assert.equal(empty.status, 400, 'ids or a filter, never everything by omission');
    const foreign = await tenant();
    const none = await foreign.client.post('/api/deliveries/bulk', { action: 'resend', ids: [retrying.id] });
    assert.equal(none.body.count, 0, 'another tenant\'s ids change nothing');
    assert.equal((await foreign.client.post(`/api/deliveries/${retrying.id}/retry-now`)).status, 404, 'nor can it retry one, or learn it exists');
    assert.equal((await foreign.client.post(`/api/webhooks/${wh}/enable`, { recover: true })).status, 404);
    assert.equal((await foreign.client.get(`/api/deliveries?q=${retrying.id}`)).body.items.length, 0);
  });

  it('runs a test through the retry schedule, to the tested webhook only', async () => {
    const { client } = await tenant();
    const tested = await webhook(client, '/scheduled-test');
    await webhook(client, '/bystander', { events: ['*'] });
    script.set('/scheduled-test', [500]);
    const r = await client.post(`/api/webhooks/${tested}/test`, { schedule: true });
    assert.equal(r.status, 202, r.text);
    assert.match(r.body.delivery_id, /^msg_/);
    // The schedule's first retry is an hour away here: retry now shows the path at once.
    await waitUntil(async () => (await client.get(`/api/deliveries/${r.body.delivery_id}`)).body.attempt_log.length === 1, 10_000, 'the first attempt recorded');
    assert.equal((await client.post(`/api/deliveries/${r.body.delivery_id}/retry-now`)).status, 202);
    const d = await deliveryOf(client, `webhook_id=${tested}`, ['succeeded']);
    assert.equal(d.event_type, 'webhook.test');
    assert.deepEqual(d.attempt_log.map((a: any) => a.status_code), [500, 200]);
    assert.equal(JSON.parse(d.body).status, '2000', 'the same body as the immediate test: a sample pratica');
    const all = (await client.get('/api/deliveries')).body.items;
    assert.deepEqual(all.map((x: any) => x.webhook_id), [tested], 'no other webhook got it');
    const events = (await client.get('/api/events?type=webhook.test')).body.items;
    assert.equal(events.length, 1, 'logged as webhook.test');
  });

  it('shows each webhook\'s health, and re-enabling with recovery delivers the events it skipped', async () => {
    const { client, serviceId } = await tenant();
    const failing = await webhook(client, '/failing');
    const gone = await webhook(client, '/gone');
    script.set('/failing', [500, 500, 500, 500, 500, 500]);
    script.set('/gone', [410]);
    const first = await pratica(client, serviceId, 'Mario Rossi');
    await waitUntil(async () => (await client.get(`/api/webhooks/${gone}`)).body.active === false, 10_000, 'the 410 disables it');
    await waitUntil(async () => (await client.get(`/api/webhooks/${failing}`)).body.health.state === 'failing', 10_000, 'failing');
    for (let i = 0; i < 3; i++) await pratica(client, serviceId, `Skipped ${i}`);
    const list = (await client.get('/api/webhooks')).body.items;
    const h = Object.fromEntries(list.map((w: any) => [w.id, w.health]));
    assert.equal(h[failing].state, 'failing');
    assert.ok(h[failing].failures >= 1 && h[failing].failing_since, 'failing since when, how many failures');
    assert.equal(h[gone].state, 'disabled');
    assert.match(h[gone].disabled_reason, /410/);
    assert.ok(h[gone].disabled_at);
    assert.equal(h[gone].skipped_events, 3, 'three events found it disabled');

    script.set('/gone', []);
    const enabled = await client.post(`/api/webhooks/${gone}/enable`, { recover: true });
    assert.equal(enabled.status, 200, enabled.text);
    assert.deepEqual(enabled.body.recovery, { created: 3, resent: 1, remaining: 0 }, 'three new deliveries, and the one the 410 failed');
    assert.equal(enabled.body.webhook.health.state, 'ok');
    await waitUntil(async () => {
      const l = (await client.get(`/api/deliveries?webhook_id=${gone}&status=succeeded`)).body.items;
      return l.length === 4;
    }, 10_000, 'all four delivered');
    const health = (await client.get(`/api/webhooks/${gone}/health`)).body.last_24h;
    assert.deepEqual(health.deliveries, { succeeded: 4, failed: 0, success_rate: 1 }, 'deliveries count once, when finished');
    assert.ok(health.attempts >= 5, 'attempts apart: the 410 and the four successes');
    const stats = (await client.get('/api/stats/deliveries')).body.items;
    assert.ok(stats.reduce((n: number, b: any) => n + b.success, 0) >= 4);
    const again = await client.post(`/api/webhooks/${gone}/enable`, { recover: true });
    assert.deepEqual(again.body.recovery, { created: 0, resent: 0, remaining: 0 }, 'nothing twice');
    const firstOnGone = (await client.get(`/api/deliveries?webhook_id=${gone}&application_id=${first}`)).body.items[0];
    assert.deepEqual(firstOnGone.manual_attempts, [2], 'the resend of the 410 is attempt 2, manual');
    assert.equal((await client.post('/api/webhooks/nope/enable', {})).status, 404);
  });
}

describe('operator API on SQLite', () => suite(async () => ({})));

await describeOnPg('operator API on PostgreSQL', () => suite(async () => {
  const pg: PgSchema = await freshPgSchema();
  return { url: pg.url, drop: () => pg.drop() };
}));
