/**
 * The transition table through the API: every allowed move of DESIGN.md works from an
 * application brought to its `from` status by a legal path, and refused moves answer 409
 * `illegal_transition` and record nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TRANSITIONS } from '../src/domain/statuses.js';
import { startTestServer, type Client, type TestServer } from './harness.js';
import { newTenant, allEvents, applicationIn, assertProblem, createApplication, createService, pathsToStatuses, transition } from './api-helpers.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

async function fixture(): Promise<{ client: Client; serviceId: string }> {
  const { client } = await newTenant(server);
  const svc = await createService(client);
  return { client, serviceId: svc.id };
}

describe('transition table', () => {
  it('reaches every status that has outgoing moves by a legal path', () => {
    const paths = pathsToStatuses();
    for (const from of Object.keys(TRANSITIONS).map(Number)) assert.ok(paths.has(from), `${from} is reachable`);
  });

  it('allows every move of the table, recording one status_changed event each', async () => {
    const { client, serviceId } = await fixture();
    const moves = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => [Number(from), to] as const));
    assert.equal(moves.length, 42, 'the 42 moves of DESIGN.md');
    // Moves are independent (one application each): run them a few at a time.
    const queue = [...moves];
    const worker = async () => {
      for (let m = queue.shift(); m; m = queue.shift()) {
        const [from, to] = m;
        const app = await applicationIn(client, serviceId, from);
        const r = await transition(client, app.id, to, { message: `${from}→${to}` });
        assert.equal(r.status, 200, `${from} → ${to}: ${r.text}`);
        assert.equal(r.body.status, String(to));
        assert.equal(r.body.latest_status_change_time >= app.latest_status_change_time, true);
        const got = await client.get(`/api/applications/${app.id}`);
        assert.equal(got.body.status, String(to), `${from} → ${to} is stored`);
        const history = (await client.get(`/api/applications/${app.id}/history`)).body.items;
        const last = history[history.length - 1];
        assert.deepEqual([last.type, last.from, last.to, last.message], ['application.status_changed', from, to, `${from}→${to}`]);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  });

  it('allows a move to the same status, recorded as an event', async () => {
    const { client, serviceId } = await fixture();
    const app = await createApplication(client, serviceId, { status: 2000 });
    const before = (await allEvents(client)).length;
    const r = await transition(client, app.id, 2000);
    assert.equal(r.status, 200, r.text);
    assert.equal((await allEvents(client)).length, before + 1);
  });

  it('refuses moves outside the table with 409 illegal_transition and records nothing', async () => {
    const { client, serviceId } = await fixture();
    const refused: [number, number][] = [
      [1000, 2000], [1000, 7000], [1500, 1900], [1900, 4000], [2000, 7000], [2000, 50000], [3000, 9000],
      [4100, 7000], [4300, 9000], [6000, 9000], [8000, 7000], [7000, 9000], [9000, 7000], [20000, 2000], [4500, 20000],
    ];
    for (const [from, to] of refused) {
      const app = await applicationIn(client, serviceId, from);
      const eventsBefore = await allEvents(client);
      const r = await transition(client, app.id, to);
      assertProblem(r, 409, 'status');
      assert.equal(r.body.type, 'urn:messo:problem:illegal_transition', `${from} → ${to}`);
      assert.equal(r.body.from, from);
      assert.deepEqual(r.body.allowed, [...TRANSITIONS[from]]);
      assert.deepEqual(await allEvents(client), eventsBefore, `${from} → ${to} recorded nothing`);
      assert.deepEqual((await client.get(`/api/applications/${app.id}`)).body, app, `${from} → ${to} changed nothing`);
    }
  });

  it('refuses an unknown status code with 400 naming status', async () => {
    const { client, serviceId } = await fixture();
    const app = await createApplication(client, serviceId, { status: 2000 });
    const eventsBefore = await allEvents(client);
    for (const status of [1234, 0, -1, 99999]) {
      assertProblem(await transition(client, app.id, status), 400, 'status');
    }
    assertProblem(await client.post(`/api/applications/${app.id}/transitions`, { status: '4000' }), 400, 'status');
    assertProblem(await client.post(`/api/applications/${app.id}/transitions`, {}), 400, 'status');
    assert.deepEqual(await allEvents(client), eventsBefore);
    assert.equal((await client.get(`/api/applications/${app.id}`)).body.status, '2000');
  });

  it('loses no update when transitions race on one application', async () => {
    const { client, serviceId } = await fixture();
    const app = await applicationIn(client, serviceId, 4000);
    const before = (await client.get(`/api/events?subject=${app.id}&limit=500`)).body.items.length;
    // 4000 → 4000 is always legal, so every answer is a success or an honest 409 conflict.
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => transition(client, app.id, 4000, { message: `race ${i}` })));
    const ok = replies.filter((r) => r.status === 200);
    for (const r of replies.filter((x) => x.status !== 200)) assertProblem(r, 409);
    assert.ok(ok.length >= 1);
    const history = (await client.get(`/api/applications/${app.id}/history`)).body.items;
    const raced = history.filter((h: { message: string | null }) => h.message?.startsWith('race'));
    assert.equal(raced.length, ok.length, 'one event per success, none for a refusal');
    assert.equal((await client.get(`/api/events?subject=${app.id}&limit=500`)).body.items.length, before + ok.length);
  });

  it('creates an application with a given id once, even when two requests race', async () => {
    const { client, serviceId } = await fixture();
    const id = crypto.randomUUID();
    const replies = await Promise.all([1, 2, 3].map(() => client.post('/api/applications', { service_id: serviceId, id })));
    assert.deepEqual(replies.map((r) => r.status).sort(), [201, 409, 409]);
    assert.equal((await client.get(`/api/events?subject=${id}`)).body.items.length, 1);
  });

  it('lists the allowed targets of the current status', async () => {
    const { client, serviceId } = await fixture();
    const app = await createApplication(client, serviceId, { status: 2000 });
    const r = await client.get(`/api/applications/${app.id}/transitions`);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 2000);
    assert.deepEqual(r.body.allowed.map((a: { status: number }) => a.status), [3000, 4000, 20000]);
  });

  it('follows the README journey 1900 → 2000 → 4000 → 7000 and shows it in the history and the event log', async () => {
    const { client, serviceId } = await fixture();
    const app = await createApplication(client, serviceId, { status: 1900 });
    for (const to of [2000, 4000, 7000]) assert.equal((await transition(client, app.id, to)).status, 200);
    const history = (await client.get(`/api/applications/${app.id}/history`)).body.items;
    assert.deepEqual(history.map((h: { to: number }) => h.to), [1900, 2000, 4000, 7000]);
    assert.deepEqual(history.map((h: { from: number | null }) => h.from), [null, 1900, 2000, 4000]);
    const events = (await client.get(`/api/events?subject=${app.id}`)).body.items;
    assert.deepEqual(events.map((e: { type: string }) => e.type),
      ['application.created', 'application.status_changed', 'application.status_changed', 'application.status_changed']);
    const final = (await client.get(`/api/applications/${app.id}`)).body;
    assert.equal(final.status_name, 'status_complete');
    assert.equal(final.outcome, true);
  });
});
