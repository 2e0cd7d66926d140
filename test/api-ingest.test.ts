/**
 * Ingest from an external core: POST /api/events and /api/events/batch are idempotent on
 * event_id (a repeat answers with the original and writes nothing), a batch holds at most
 * 1,000 events and is written whole or not at all, and `application.snapshot` is turned into
 * created / status_changed / updated by comparing with what messo already has.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type Client, type TestServer } from './harness.js';
import { allEvents, assertProblem, createService, newTenant } from './api-helpers.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

async function fixture(): Promise<{ client: Client; serviceId: string }> {
  const { client } = await newTenant(server);
  return { client, serviceId: (await createService(client)).id };
}

const snapshot = (application: Record<string, unknown>, at: string, extra: Record<string, unknown> = {}) => ({
  event_id: randomUUID(), type: 'application.snapshot', event_created_at: at, app_id: 'core:2.15.0', data: { application }, ...extra,
});

/** The whole event in the answer, not the small default. */
const PREFER_FULL = { prefer: 'return=representation' };

describe('event ingest', () => {
  it('answers a new event with a small 201 ({event_id, seq, type}), the whole event on Prefer: return=representation', async () => {
    const { client } = await fixture();
    const event = { event_id: randomUUID(), type: 'meeting.created', subject: 'm-1', data: { room: 'A'.repeat(500) } };
    const small = await client.post('/api/events', event);
    assert.equal(small.status, 201, small.text);
    assert.deepEqual(Object.keys(small.body).sort(), ['event_id', 'seq', 'type']);
    assert.equal(small.body.event_id, event.event_id);
    assert.equal(small.body.type, 'meeting.created');
    assert.ok(small.text.length < 120, `the answer is ${small.text.length} bytes`);
    const again = await client.post('/api/events', event, PREFER_FULL);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('preference-applied'), 'return=representation');
    assert.equal(again.body.seq, small.body.seq);
    assert.equal(again.body.data.room, event.data.room);
    assert.deepEqual((await client.post('/api/events', event)).body, small.body, 'a repeat answers small too, with the original');
  });

  it('answers a repeated event with the original (200) and writes nothing', async () => {
    const { client } = await fixture();
    const event = { event_id: randomUUID(), type: 'meeting.created', subject: 'm-1', event_created_at: '2025-11-20T10:40:00+01:00', data: { room: 'A' } };
    const first = await client.post('/api/events', event, PREFER_FULL);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.event_id, event.event_id);
    assert.equal(first.body.event_created_at, '2025-11-20T10:40:00+01:00');
    assert.equal(first.body.app_id, 'external');
    const before = await allEvents(client);
    const again = await client.post('/api/events', { ...event, data: { room: 'B' } }, PREFER_FULL);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, first.body, 'the original answers, not the repeat');
    assert.deepEqual(await allEvents(client), before);
    assert.deepEqual((await client.get(`/api/events/${event.event_id}`)).body, first.body);
  });

  it('takes a batch, answering repeats as duplicates and writing them once', async () => {
    const { client, serviceId } = await fixture();
    const apps = Array.from({ length: 3 }, () => ({ id: randomUUID(), service_id: serviceId, status: 2000 }));
    const events = apps.map((a) => snapshot(a, '2025-11-20T10:00:00+01:00'));
    const first = await client.post('/api/events/batch', { events });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.created, 3);
    assert.equal(first.body.duplicates, 0);
    assert.deepEqual(first.body.results.map((r: { type: string }) => r.type), Array(3).fill('application.created'));
    const before = await allEvents(client);
    const extra = snapshot({ ...apps[0], status: 4000 }, '2025-11-20T11:00:00+01:00');
    const second = await client.post('/api/events/batch', { events: [...events, extra] });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.created, 1);
    assert.equal(second.body.duplicates, 3);
    assert.deepEqual(second.body.results.slice(0, 3).map((r: { seq: number }) => r.seq), first.body.results.map((r: { seq: number }) => r.seq));
    assert.equal((await allEvents(client)).length, before.length + 1);
    assert.equal((await client.get(`/api/applications/${apps[0].id}`)).body.status, '4000');
  });

  it('accepts a batch of 1,000 events and refuses 1,001 with 400, writing nothing', async () => {
    const { client } = await fixture();
    const make = (n: number) => Array.from({ length: n }, (_, i) => ({ event_id: randomUUID(), type: 'calendar.updated', subject: `c-${i}`, data: { i } }));
    const big = await client.post('/api/events/batch', { events: make(1001) });
    assertProblem(big, 400, 'events');
    assert.equal((await allEvents(client)).length, 1, 'only the service.created of the fixture');
    const ok = await client.post('/api/events/batch', { events: make(1000) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.created, 1000);
    const events = await allEvents(client);
    assert.equal(events.length, 1001);
    assert.deepEqual(events.slice(1).map((e) => e.subject), Array.from({ length: 1000 }, (_, i) => `c-${i}`), 'the log keeps the batch order');
  });

  it('writes nothing of a batch with one bad event, naming it', async () => {
    const { client, serviceId } = await fixture();
    const good = () => snapshot({ id: randomUUID(), service_id: serviceId, status: 2000 }, '2025-11-20T10:00:00+01:00');
    const before = await allEvents(client);
    const cases: [unknown, string][] = [
      [{ ...good(), data: { application: { id: randomUUID(), service_id: serviceId, status: 1234 } } }, 'events.1.data.application.status'],
      [{ ...good(), data: { application: { service_id: serviceId, status: 2000 } } }, 'events.1.data.application.id'],
      [{ ...good(), data: {} }, 'events.1.data.application'],
      [{ ...good(), type: 'Not A Type' }, 'events.1.type'],
      [{ ...good(), event_id: 'not-a-uuid' }, 'events.1.event_id'],
      [{ ...good(), colour: 'red' }, 'events.1.colour'],
      [{ ...good(), event_created_at: 'yesterday' }, 'events.1.event_created_at'],
    ];
    for (const [bad, field] of cases) {
      const r = await client.post('/api/events/batch', { events: [good(), bad, good()] });
      assertProblem(r, 400);
      assert.ok(r.body.errors?.some((e: { field: string }) => e.field === field) || r.body.field === field, `${field}: ${r.text}`);
    }
    const twice = good();
    assertProblem(await client.post('/api/events/batch', { events: [twice, good(), twice] }), 400, 'events.2.event_id');
    assert.deepEqual(await allEvents(client), before);
    assert.deepEqual((await client.get('/api/applications')).body.items, []);
  });

  it('derives created, status_changed and updated from application.snapshot', async () => {
    const { client, serviceId } = await fixture();
    const id = randomUUID();
    const base = { id, service_id: serviceId, subject: 'Iscrizione', data: { 'applicant.data.name': 'Mario' } };
    const steps = [
      [snapshot({ ...base, status: 1900 }, '2025-11-20T10:00:00+01:00'), 'application.created', null, 1900],
      [snapshot({ ...base, status: 2000 }, '2025-11-20T10:05:00+01:00'), 'application.status_changed', 1900, 2000],
      [snapshot({ ...base, status: 2000, subject: 'Iscrizione (rettifica)' }, '2025-11-20T10:06:00+01:00'), 'application.updated', null, 2000],
    ] as const;
    for (const [event, type, from, to] of steps) {
      const r = await client.post('/api/events', event, PREFER_FULL);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.type, type);
      assert.equal(r.body.subject, id);
      assert.equal(r.body.data.from ?? null, from);
      assert.equal(r.body.data.application.status, to);
    }
    const app = (await client.get(`/api/applications/${id}`)).body;
    assert.equal(app.status, '2000');
    assert.equal(app.subject, 'Iscrizione (rettifica)');
    assert.deepEqual(app.data, { 'applicant.data.name': 'Mario' });
    const history = (await client.get(`/api/applications/${id}/history`)).body.items;
    assert.deepEqual(history.map((h: { to: number }) => h.to), [1900, 2000]);
  });

  it('derives in order within one batch, and keeps the newest snapshot', async () => {
    const { client, serviceId } = await fixture();
    const id = randomUUID();
    const r = await client.post('/api/events/batch', { events: [
      snapshot({ id, service_id: serviceId, status: 2000 }, '2025-11-20T10:00:00+01:00'),
      snapshot({ id, service_id: serviceId, status: 4000 }, '2025-11-20T10:10:00+01:00'),
    ] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.results.map((x: { type: string }) => x.type), ['application.created', 'application.status_changed']);
    const late = await client.post('/api/events', snapshot({ id, service_id: serviceId, status: 3000 }, '2025-11-20T10:05:00+01:00'));
    assert.ok(late.status === 201, late.text);
    assert.equal((await client.get(`/api/applications/${id}`)).body.status, '4000', 'an older snapshot does not move the application back');
  });
});
