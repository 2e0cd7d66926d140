/**
 * Issue 12, item 3: one tenant's very large fan-out does not hold another tenant up. Tenant A
 * posts one batch of 1,000 events to 300 webhooks: 300,000 deliveries. Written in the batch's
 * own transaction, that held SQLite's write lock (and, the store being synchronous, the event
 * loop) for 18 s, and every other tenant's POSTs and deliveries with it. Now the batch commits
 * its events with fan-out jobs and the engine writes the deliveries in transactions of
 * MESSO_FANOUT_CHUNK (1,000): tenant B, posting one event every 25 ms meanwhile, is answered
 * and delivered as usual. Real HTTP, a real SQLite file, `messo serve` as a process of its own
 * (its dispatcher on), measured from outside as a core would see it.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ADMIN_TOKEN, Client, startReceiver, tempDir, waitUntil } from './harness.js';
import { startMesso } from './proc.js';
import { createService, createWebhook, snapshots, stopProc } from './scale-helpers.js';

const WEBHOOKS = 300;
const EVENTS = 1000;

const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

describe('fan-out fairness between tenants (SQLite, one process)', () => {
  it("a tenant's 300,000-delivery batch: another tenant's POSTs and deliveries go on", async (t) => {
    if (process.env.MESSO_TEST_DATABASE_URL) return t.skip('SQLite only: the write lock is what it is about');
    const dir = tempDir();
    const file = join(dir, 'messo.db');
    const server = await startMesso(['serve'], {
      MESSO_PORT: '0', MESSO_DATABASE_URL: `sqlite:${file}`, MESSO_ADMIN_TOKEN: ADMIN_TOKEN, MESSO_ALLOWED_TARGETS: '127.0.0.0/8',
      MESSO_API_REQUESTS_PER_MINUTE: '0', MESSO_MAX_WEBHOOKS_PER_TENANT: String(WEBHOOKS),
    });
    const admin = new Client(server.url!, ADMIN_TOKEN);
    const tenant = async (name: string) => {
      const t = await admin.post('/api/tenants', { name });
      const k = await admin.post(`/api/tenants/${t.body.id}/keys`, {});
      return { id: t.body.id as string, client: admin.as(k.body.key) };
    };
    // A's receiver takes every request and answers none: A's deliveries stay queued (10 open).
    const sinkA = await startReceiver();
    sinkA.handler = () => ({ hang: true });
    const receiverB = await startReceiver();
    const db = new Database(file, { readonly: true });
    try {
      const a = await tenant('Comune A');
      const b = await tenant('Comune B');
      const svcA = await createService(a.client, 'Servizio A');
      const svcB = await createService(b.client, 'Servizio B');
      for (let i = 0; i < WEBHOOKS; i++) await createWebhook(a.client, { title: `a${i}`, endpoint: `${sinkA.url}/a${i}`, format: 'standard' });
      await createWebhook(b.client, { title: 'b', endpoint: `${receiverB.url}/b` });

      const countA = () => Number((db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE tenant_id = ?').get(a.id) as { n: number }).n);
      const sentB = new Map<string, number>();
      const answeredB: number[] = [];
      let stop = false;
      const loopB = (async () => {
        for (let i = 0; !stop; i++) {
          const [ev] = snapshots(1, () => svcB, `b${i}`);
          const t0 = Date.now();
          sentB.set(ev.data.application.id, t0);
          const res = await b.client.post('/api/events', ev);
          assert.equal(res.status, 201, res.text);
          answeredB.push(Date.now() - t0);
          await sleep(25);
        }
      })();

      await sleep(200);
      const t0 = Date.now();
      const res = await a.client.post('/api/events/batch', { events: snapshots(EVENTS, () => svcA, 'a') });
      const batchMs = Date.now() - t0;
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.created, EVENTS);
      const jobs = async () => Number(/^messo_fanout_jobs (\d+)$/m.exec((await admin.get('/metrics')).text)?.[1]);
      const waiting = await jobs();
      assert.ok(waiting > 900, `the batch's fan-outs are jobs, written after it (${waiting} waiting)`);
      // Polled every 250 ms: a COUNT over 300,000 rows is not free, and it runs in this process.
      for (const deadline = Date.now() + 240_000; countA() < WEBHOOKS * EVENTS; await sleep(250)) {
        assert.ok(Date.now() < deadline, `${WEBHOOKS * EVENTS} deliveries of A written in 240 s (${countA()})`);
      }
      const writtenMs = Date.now() - t0;
      await waitUntil(async () => (await jobs()) === 0, 5000, 'messo_fanout_jobs back to 0');
      stop = true;
      await loopB;
      await waitUntil(() => receiverB.requests.length >= sentB.size, 10_000, "every event of B delivered");

      const arrivals = receiverB.requests.map((r) => {
        const id = (JSON.parse(r.body) as { id: string }).id;
        return r.at - sentB.get(id)!;
      });
      t.diagnostic(`A: batch answered in ${batchMs} ms, its ${WEBHOOKS * EVENTS} deliveries written in ${writtenMs} ms; ` +
        `B meanwhile: ${answeredB.length} POSTs, 201 p50/p99/max ${pct(answeredB, 0.5)} / ${pct(answeredB, 0.99)} / ${Math.max(...answeredB)} ms, ` +
        `POST → arrival p50/p99/max ${pct(arrivals, 0.5)} / ${pct(arrivals, 0.99)} / ${Math.max(...arrivals)} ms`);
      assert.ok(answeredB.length >= 20, `B kept posting while A's deliveries were written (${answeredB.length})`);
      // The batch's own transaction (1,000 events and their projections) and one chunk at a time
      // still hold the lock for a moment: 250 ms at most alone on this 2-core machine, more with
      // the whole suite running beside it. Bounds of 3 s, against the 18 s it was.
      assert.ok(Math.max(...answeredB) < 3000, `B's slowest 201: ${Math.max(...answeredB)} ms`);
      assert.ok(Math.max(...arrivals) < 3000, `B's slowest delivery: ${Math.max(...arrivals)} ms`);
    } finally {
      db.close();
      await stopProc(server);
      await Promise.all([sinkA.close(), receiverB.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
