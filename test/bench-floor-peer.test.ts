import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { deployPeer } from '../src/bench/deploy.js';
import { parseOptions } from '../src/bench/options.js';
import { PG_URL, pgSkip } from './pg.js';

/** A loopback receiver that answers 204 and keeps what it got. */
async function receiver(): Promise<{ origin: string; got: { headers: IncomingHttpHeaders; body: string }[]; close: () => void }> {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, close: () => server.close() };
}

const post = (url: string, body: string) => fetch(`${url}/api/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
    const r = await receiver();
    const d = await deployPeer(parseOptions(['--floor-copies', '3', '--store', store, '--database-url', PG_URL]), 'floor', true, r.origin);
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

      await until(() => r.got.length >= 40, '40 deliveries');
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(r.got.length, 40, 'one delivery per event, none for the repeated POST');
      assert.deepEqual(r.got.map((g) => String(g.headers['webhook-id'])).sort(), [...eventIds].sort());
      for (const g of r.got) {
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
          const deadline = Date.now() + 10_000;
          while (await count("deliveries WHERE status = 'delivered'") < 40 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
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
      r.close();
    }
    if (store === 'postgres') assert.deepEqual(await floorSchemas(), schemasBefore, 'the schema is dropped at exit');
  });
}

test('the floor peer without its worker keeps every delivery pending', async () => {
  const r = await receiver();
  const d = await deployPeer(parseOptions([]), 'floor', false, r.origin);
  try {
    const t = await d.tenant(1, [], 'single');
    for (const s of d.feed('single', t, 5).shots) assert.equal((await post(d.url, s.body)).status, 201);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.got.length, 0);
  } finally {
    await d.stop();
    r.close();
  }
});
