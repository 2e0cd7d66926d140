import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { deployPeer } from '../src/bench/deploy.js';
import { parseOptions } from '../src/bench/options.js';
import { startReceiver, waitUntil } from './harness.js';
import { PG_URL, pgSkip } from './pg.js';

const post = (url: string, body: string) => fetch(`${url}/api/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

/** The floor's schemas left on the PostgreSQL server (each run drops its own at exit). */
async function floorSchemas(): Promise<string[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_floor_%'")).rows.map((r) => r.nspname);
  } finally {
    await c.end();
  }
}

for (const store of ['sqlite', 'postgres'] as const) {
  test(`the floor peer on ${store} answers 201 after its commit, once per event_id, and delivers every event once, signed`, {
    skip: store === 'postgres' ? await pgSkip() : false,
  }, async () => {
    const schemasBefore = store === 'postgres' ? await floorSchemas() : [];
    const r = await startReceiver();
    const d = await deployPeer(parseOptions(['--floor-copies', '3', '--store', store, '--database-url', PG_URL]), 'floor', true, r.url);
    try {
      const t = await d.tenant(2, [], 'single');
      const shots = d.feed('single', t, 40).shots;
      const answers = await Promise.all(shots.map(async (s) => {
        const res = await post(d.url, s.body);
        return { status: res.status, body: (await res.json()) as { event_id: string; seq: number } };
      }));
      assert.deepEqual(answers.map((a) => a.status), shots.map(() => 201));
      const eventIds = shots.map((s) => (JSON.parse(s.body) as { event_id: string }).event_id);
      assert.deepEqual(answers.map((a) => a.body.event_id), eventIds);
      assert.equal(new Set(answers.map((a) => a.body.seq)).size, 40, 'a seq per event');

      // The same event again is the same event: its seq, no second delivery.
      const again = await post(d.url, shots[0].body);
      assert.equal(again.status, 201);
      assert.equal(((await again.json()) as { seq: number }).seq, answers[0].body.seq);

      await r.waitFor(40);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(r.requests.length, 40, 'one delivery per event, none for the repeated POST');
      assert.deepEqual(r.requests.map((g) => String(g.headers['webhook-id'])).sort(), [...eventIds].sort());
      for (const g of r.requests) {
        assert.match(String(g.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
        const body = JSON.parse(g.body) as { event_id: string; id: string };
        assert.equal(body.event_id, g.headers['webhook-id']);
        assert.equal(body.id, shots[eventIds.indexOf(body.event_id)].ids[0], "the body is the event's pratica");
      }

      if (store === 'postgres') {
        // The rows behind it: each event once, its delivery settled, its data written three times.
        const [schema] = (await floorSchemas()).filter((n) => !schemasBefore.includes(n));
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        try {
          const count = async (sql: string) => Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${sql}`)).rows[0].n);
          // Marked delivered just after the sends; the assertion below says what is missing if not.
          await waitUntil(async () => await count("deliveries WHERE status = 'delivered'") >= 40).catch(() => undefined);
          assert.deepEqual([await count('events'), await count("deliveries WHERE status = 'delivered'"), await count('deliveries'), await count('projections'), await count('payloads')],
            [40, 40, 40, 40, 40]);
        } finally {
          await c.end();
        }
      }

      const bad = await post(d.url, '{"event_id": 1');
      assert.equal(bad.status, 400);
      assert.equal((await post(d.url, JSON.stringify({ event_id: 'x' }))).status, 400, 'an event without data');
    } finally {
      await d.stop();
      await r.close();
    }
    if (store === 'postgres') assert.deepEqual(await floorSchemas(), schemasBefore, 'the schema is dropped at exit');
  });
}

test('the floor peer without its worker keeps every delivery pending', async () => {
  const r = await startReceiver();
  const d = await deployPeer(parseOptions([]), 'floor', false, r.url);
  try {
    const t = await d.tenant(1, [], 'single');
    for (const s of d.feed('single', t, 5).shots) assert.equal((await post(d.url, s.body)).status, 201);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.requests.length, 0);
  } finally {
    await d.stop();
    await r.close();
  }
});
