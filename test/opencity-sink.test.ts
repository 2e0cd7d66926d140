/**
 * The OpenCity producer sink never breaks the core (issue 11, item 4): the core aborts the
 * citizen's request on anything but 200/201, so only a bad token (401), a body that is not JSON
 * (400) or one too large (413) are errors; every other authenticated post is answered 200/201,
 * and what cannot be applied is kept as ingest.rejected. Real HTTP on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTenant } from './harness.js';
import { APP_ID, fixture, setup } from './opencity-helpers.js';

test('errors only for a bad token (401), a body that is not JSON (400) or too large (413); nothing written', async () => {
  const s = await setup({ MESSO_BODY_LIMIT: '64kb' });
  try {
    const draft = fixture('application-1000-draft');
    const problem = async (topic: string, body: unknown, token?: string) => {
      const r = await s.send(topic, body, token);
      assert.equal(r.contentType?.split(';')[0], 'application/problem+json', r.text);
      return [r.status, r.body.field ?? null];
    };
    assert.deepEqual(await problem('applications', draft, `ingt_${'A'.repeat(32)}`), [401, 'token']);
    assert.deepEqual(await problem('applications', draft, 'x'), [401, 'token']);
    assert.deepEqual(await problem('pratiche', draft, 'x'), [401, 'token'], 'any topic name: the token decides first');
    const malformed = await s.server.api.request('POST', `/ingest/opencity/${s.token}/applications`, '{"id": "5a0e3b2c",', { 'content-type': 'application/json' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.type, 'urn:messo:problem:malformed_json');
    const empty = await s.server.api.request('POST', `/ingest/opencity/${s.token}/applications`, '', { 'content-type': 'application/json' });
    assert.equal(empty.status, 400, empty.text);
    const big = await s.send('applications', { ...draft, data: { note: 'x'.repeat(70 * 1024) } });
    assert.equal(big.status, 413, big.text);

    // Revoked: refused from the next request on.
    const spare = (await s.tenant.client.post('/api/ingest-tokens', { name: 'spare' })).body;
    const revoked = await s.tenant.client.delete(`/api/ingest-tokens/${spare.id}`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revoked_at);
    assert.deepEqual(await problem('applications', draft, spare.token), [401, 'token']);

    assert.equal(await s.countEvents(), 0);
    assert.equal((await s.tenant.client.get(`/api/applications/${APP_ID}`)).status, 404);
    assert.equal((await s.send('applications', draft)).status, 201);
    assert.equal(await s.countEvents(), 1);

    const text = s.logs.join('');
    for (const secret of [s.token, spare.token]) assert.ok(!text.includes(secret), 'no token in any log line');
    assert.ok(text.includes('request refused'), 'refusals were logged (without the token)');
  } finally {
    await s.server.close();
  }
});

test('every malformed-but-authenticated post is answered 200 and kept as ingest.rejected with the reason', async () => {
  const s = await setup();
  try {
    const draft = fixture('application-1000-draft');
    const other = await createTenant(s.server, 'Comune di Altrove');
    const otherToken = (await other.client.post('/api/ingest-tokens', {})).body.token;
    const cases: [string, string, unknown, string | null][] = [
      ['another instance', 'applications', { ...draft, tenant_id: 'another-instance' }, 'tenant_id'],
      ['no event_id', 'applications', { ...draft, event_id: undefined }, 'event_id'],
      ['event_id not a string', 'applications', { ...draft, event_id: 42 }, 'event_id'],
      ['bad event_created_at', 'applications', { ...draft, event_created_at: 'yesterday' }, 'event_created_at'],
      ['bad event_version', 'applications', { ...draft, event_version: 'two' }, 'event_version'],
      ['no service_id', 'applications', { ...draft, service_id: null }, 'service_id'],
      ['invalid status', 'applications', { ...draft, status: 'draft' }, 'status'],
      ['service without name', 'services', { ...fixture('service'), name: '' }, 'name'],
      ['meeting without id', 'meetings', { ...fixture('meeting-requested'), id: null }, 'id'],
      ['a list', 'applications', [draft], null],
      ['null', 'applications', null, null],
      ['unknown topic, unknown shape', 'pratiche', { id: 'x', hello: 'world', event_id: randomUUID() }, 'topic'],
      ['prototype key in data', 'applications', { ...draft, event_id: randomUUID(), data: { '__proto__.polluted': 'yes' } }, 'data.__proto__.polluted'],
    ];
    let n = 0;
    for (const [what, topic, body] of cases) {
      const r = await s.send(topic, body);
      assert.equal(r.status, 200, `${what}: ${r.text}`);
      assert.equal(r.body.result, 'rejected', what);
      assert.equal(r.body.type, 'ingest.rejected', what);
      assert.ok(typeof r.body.reason === 'string' && r.body.reason.length > 0, what);
      n++;
    }
    const str = await s.server.api.request('POST', `/ingest/opencity/${s.token}/applications`, '"hello"', { 'content-type': 'application/json' });
    assert.equal(str.status, 200, str.text);
    assert.equal(str.body.result, 'rejected');
    cases.push(['a string', 'applications', 'hello', null]);
    n++;
    // U+0000 (PostgreSQL cannot store it): kept as rejected, its body as escaped JSON text.
    const nulBody = `${JSON.stringify({ ...draft, event_id: randomUUID() }).slice(0, -1)},"note":"a\\u0000b"}`;
    const nul = await s.server.api.request('POST', `/ingest/opencity/${s.token}/applications`, nulBody, { 'content-type': 'application/json' });
    assert.equal(nul.status, 200, nul.text);
    assert.equal(nul.body.result, 'rejected');
    cases.push(['a NUL character', 'applications', JSON.parse(nulBody), 'note']);
    n++;
    const bridgeNul = await s.server.api.request('POST', `/ingest/opencity-webhook/${s.token}`, '{"id":"x","k\\u0000":1}', { 'content-type': 'application/json' });
    assert.equal(bridgeNul.status, 200, bridgeNul.text);
    assert.equal(bridgeNul.body.result, 'rejected');
    assert.equal((await s.tenant.client.post('/api/events', JSON.parse('{"event_id":"' + randomUUID() + '","type":"meeting.created","data":{"a":"\\u0000"}}'))).status, 400, 'the API still refuses it');
    // Another tenant's token, this core's body: kept on the token's tenant, nothing here.
    const foreign = await s.send('applications', draft, otherToken);
    assert.equal(foreign.status, 200, foreign.text);
    assert.equal(foreign.body.result, 'rejected');

    const events = (await s.tenant.client.get('/api/events?type=ingest.rejected&limit=100')).body.items.filter((e: any) => e.data.source !== 'opencity-webhook');
    assert.equal(events.length, n);
    assert.deepEqual(events.map((e: any) => e.data.field), cases.map((c) => c[3]));
    for (const [i, e] of events.entries()) {
      assert.equal(e.data.source, `opencity/${cases[i][1]}`);
      assert.deepEqual(JSON.parse(e.data.body), JSON.parse(JSON.stringify(cases[i][2])), 'the body is kept as sent');
    }
    assert.equal(await s.countEvents(), n + 1, 'nothing but the rejections (and the bridge one)');
    assert.equal(await s.countEvents(other.id), 1);
    assert.equal((await s.tenant.client.get(`/api/applications/${APP_ID}`)).status, 404);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');

    // The core is then fixed and the same body goes through.
    assert.equal((await s.send('applications', draft)).status, 201);
  } finally {
    await s.server.close();
  }
});

test('lenient envelope: event_version as 1, "1.0" or "2.0", no event_created_at (arrival time), other topic names by body', async () => {
  const s = await setup();
  try {
    const draft = fixture('application-1000-draft');
    const r1 = await s.send('opencity-pratiche', { ...draft, event_version: '1.0' });
    assert.equal(r1.status, 201, r1.text);
    assert.equal(r1.body.type, 'application.created');
    assert.equal((await s.tenant.client.get(`/api/events/${draft.event_id}`)).body.event_version, 1);
    const submitted = fixture('application-2000-submitted');
    const before = Date.now();
    const r2 = await s.send('applications', { ...submitted, event_version: '2.0', event_created_at: undefined });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.body.type, 'application.status_changed');
    const e2 = (await s.tenant.client.get(`/api/events/${submitted.event_id}`)).body;
    assert.equal(e2.event_version, 2);
    const at = Date.parse(e2.event_created_at);
    assert.ok(at >= Math.floor(before / 1000) * 1000 && at <= Date.now(), `arrival time, got ${e2.event_created_at}`);
    const renamed: [string, string, string][] = [['svc', 'service', 'service.created'], ['agenda', 'calendar', 'calendar.created'], ['appuntamenti', 'meeting-requested', 'meeting.created']];
    for (const [topic, name, type] of renamed) {
      const r = await s.send(topic, { ...fixture(name), event_version: 2 });
      assert.equal(r.status, 201, `${topic}: ${r.text}`);
      assert.equal(r.body.type, type);
    }
    assert.equal((await s.tenant.client.get(`/api/applications/${APP_ID}`)).body.status, '2000');
  } finally {
    await s.server.close();
  }
});

test("under load every post is answered 2xx within the core's 2-second timeout", async (t) => {
  const s = await setup();
  try {
    const draft = fixture('application-1000-draft');
    const N = 200;
    const CONCURRENCY = 10;
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        // Every fourth post is one the sink cannot apply: it must be as quick to answer.
        const body = i % 4 === 3
          ? { ...draft, event_id: randomUUID(), status: 'bogus' }
          : { ...draft, id: randomUUID(), event_id: randomUUID() };
        const started = performance.now();
        const r = await s.send('applications', body);
        latencies.push(performance.now() - started);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const p = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
    t.diagnostic(`${N} posts, ${CONCURRENCY} at once: ${Math.round(N / seconds)}/s, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms; statuses ${JSON.stringify([...statuses])}`);
    assert.deepEqual([...statuses.keys()].sort(), [200, 201]);
    assert.equal(statuses.get(200), N / 4, 'the rejected ones');
    assert.ok(p(1) < 2000, `slowest answer ${p(1)} ms`);
  } finally {
    await s.server.close();
  }
});
