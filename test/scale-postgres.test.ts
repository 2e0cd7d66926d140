/**
 * Scale-out on PostgreSQL with real processes (issue 5, item 5): one `messo serve
 * --no-dispatcher` and several `messo worker`s on one fresh schema each test, real receivers on
 * 127.0.0.1. (a) 5,000 events delivered exactly once, every worker doing a share; (b) kill -9 of
 * a worker under that load: all arrive, and only what it had in flight repeats; (c) PostgreSQL
 * restarted mid-run: the processes reconnect by themselves and finish; (d) per-application
 * ordering and an endpoint's max_concurrency hold across workers, through a handoff.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { startReceiver, waitUntil, type Receiver } from './harness.js';
import { describeOnPg } from './pg.js';
import {
  createService, createWebhook, describeOwners, ensurePgRunning, eventKey, ingest, inSchema, restartPg, SHORT_TIMEOUTS, snapshots, startCluster, stopProc, Tally,
  watchOwners, type Cluster,
} from './scale-helpers.js';

async function receivers(n: number): Promise<Receiver[]> {
  return Promise.all(Array.from({ length: n }, () => startReceiver()));
}

/** Runs `fn` with a cluster and receivers, and always takes both down. */
async function withCluster(workers: number, env: Record<string, string>, nReceivers: number, fn: (c: Cluster, rs: Receiver[]) => Promise<void>): Promise<void> {
  const rs = await receivers(nReceivers);
  let c: Cluster | null = null;
  try {
    c = await startCluster(workers, env);
    await fn(c, rs);
  } finally {
    await c?.close();
    await Promise.all(rs.map((r) => r.close()));
  }
}

/**
 * A webhook per receiver (one origin each, so as many endpoints to spread), each for a service
 * of its own, so every event goes to exactly one of them. Returns the service ids.
 */
async function endpointPerService(c: Cluster, rs: Receiver[]): Promise<string[]> {
  const services: string[] = [];
  for (const [i, r] of rs.entries()) {
    services.push(await createService(c.api, `Servizio ${i}`));
    await createWebhook(c.api, { title: `e${i}`, endpoint: `${r.url}/hook`, filters: [services[i]] });
  }
  return services;
}

/** Every delivery of the schema has reached a terminal state (nothing pending or sending). */
async function settled(c: Cluster): Promise<boolean> {
  const rows = await inSchema<{ n: number }>(c.pg, `SELECT COUNT(*)::int AS n FROM deliveries WHERE status IN ('pending', 'sending')`);
  return rows[0].n === 0;
}

async function statusCounts(c: Cluster): Promise<Record<string, number>> {
  const rows = await inSchema<{ status: string; n: number }>(c.pg, 'SELECT status, COUNT(*)::int AS n FROM deliveries GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

const CHAIN = [2000, 3000, 4000, 4100, 4200, 4300, 4500, 7000];

await describeOnPg('scale-out on PostgreSQL (serve --no-dispatcher + messo worker processes)', () => {
  it('(a) three workers deliver 5,000 events exactly once, each worker doing a share', async (t) => {
    await withCluster(3, {}, 5, async (c, rs) => {
      const tally = new Tally();
      tally.attach(...rs);
      const svc = await endpointPerService(c, rs);
      const events = snapshots(5000, (i) => svc[i % 5]);
      const owners = watchOwners(c.pg);
      const t0 = Date.now();
      await ingest(c.api, events);
      const ingested = Date.now() - t0;
      await waitUntil(() => tally.events.size >= 5000, 60_000, `5,000 events`);
      const last = Math.max(...tally.arrivals.map((a) => a.at));
      // Once nothing is pending or sending, no request can still come: the counts are final.
      await waitUntil(() => settled(c), 20_000, 'every delivery settled');
      assert.deepEqual(await statusCounts(c), { succeeded: 5000 });
      assert.equal(tally.byWebhookId.size, 5000, 'distinct webhook-id');
      assert.equal(tally.arrivals.length, 5000, `requests received (${tally.duplicates} duplicates)`);
      for (const e of events) assert.ok(tally.events.has(eventKey(e)), `event ${e.event_id} delivered`);
      const shares = await Promise.all(c.workers.map(async (w) => (await w.attempts()).success ?? 0));
      const seen = describeOwners(await owners.stop());
      assert.equal(shares.reduce((a, b) => a + b, 0), 5000, `attempts per worker ${shares.join(' + ')}`);
      t.diagnostic(`5,000 events: ingest ${ingested} ms, last arrival ${last - t0} ms after the first batch (${Math.round(5000 / ((last - t0) / 1000))}/s); worker shares ${shares.join(' / ')}; endpoint owners: ${seen}`);
      assert.ok(shares.every((s) => s > 0), `every worker did a share: ${shares.join(' / ')}`);
      assert.ok(c.alive(), 'no process died');
    });
  });

  it('(b) kill -9 of a worker mid-load: every event arrives, duplicates only for what it had in flight', async (t) => {
    const DELAY = 40;
    await withCluster(3, SHORT_TIMEOUTS, 5, async (c, rs) => {
      const tally = new Tally(() => ({ delayMs: DELAY }));
      tally.attach(...rs);
      const svc = await endpointPerService(c, rs);
      const events = snapshots(5000, (i) => svc[i % 5]);
      // Ingest runs on while the victim is chosen and killed: the workers keep pace with a batch
      // ingest, so waiting for all of it first could leave nothing in flight to kill (CI, 2 cores).
      const ingesting = ingest(c.api, events);
      void ingesting.catch(() => undefined); // awaited below; a failure before that is not unhandled
      const ids = await Promise.all(c.workers.map((w) => w.dispatcherId()));
      // The victim: the worker holding the most claims (so it surely owns endpoints), once a fifth
      // of the load is delivered, and what it holds, both from one read just before the kill (it
      // may still finish a few of them). Polled: between two claims a worker may hold nothing, and
      // a victim chosen by one read had emptied its hands by the next (CI, 2 cores).
      let top: { lease_owner: string } | undefined;
      let heldAtKill: { id: string; endpoint_key: string; lease_owner: string }[] = [];
      await waitUntil(async () => {
        if (tally.events.size < 1000) return false;
        const sending = await inSchema<{ id: string; endpoint_key: string; lease_owner: string }>(c.pg,
          `SELECT id, endpoint_key, lease_owner FROM deliveries WHERE status = 'sending'`);
        const byOwner = ids.map((id) => sending.filter((r) => r.lease_owner === id)).sort((a, b) => b.length - a.length);
        heldAtKill = byOwner[0];
        top = heldAtKill.length > 0 ? { lease_owner: heldAtKill[0].lease_owner } : undefined;
        return top !== undefined || tally.events.size >= 5000;
      }, 60_000, 'a fifth of the load delivered, and a worker holding claims');
      assert.ok(top, 'some worker holds claims mid-load');
      const victim = c.workers[ids.indexOf(top.lease_owner)];
      const killedAt = Date.now();
      victim.proc.child.kill('SIGKILL');
      await victim.proc.exited;
      const atKill = tally.events.size;
      assert.ok(atKill < 5000, `killed mid-run (${atKill} delivered)`);

      await ingesting;
      await waitUntil(() => tally.events.size >= 5000, 60_000, `every event after the kill`);
      await waitUntil(() => settled(c), 30_000, 'every delivery settled');
      assert.deepEqual(await statusCounts(c), { succeeded: 5000 });
      for (const e of events) assert.ok(tally.events.has(eventKey(e)), `event ${e.event_id} delivered`);

      // What the victim held at the kill (queued or in flight): read just before it, and, after,
      // the claims it never recorded: attempts are counted at claim, so they have one attempt
      // more than attempt rows. Another worker's retry of a failed attempt (a timeout) shows as a
      // failure row instead.
      const unrecorded = await inSchema<{ id: string; endpoint_key: string }>(c.pg,
        `SELECT d.id, d.endpoint_key FROM deliveries d
         WHERE d.attempts > (SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = d.id)`);
      const held = [...new Map([...heldAtKill, ...unrecorded].map((h) => [h.id, h])).values()];
      const failedOnce = new Set((await inSchema<{ id: string }>(c.pg,
        `SELECT DISTINCT delivery_id AS id FROM attempts WHERE outcome = 'failure'`)).map((r) => r.id));
      assert.ok(held.length > 0, `the victim held deliveries at the kill (${heldAtKill.length} read before it, ${unrecorded.length} unrecorded after)`);
      const heldIds = new Set(held.map((h) => h.id));
      const ownedEndpoints = new Set(held.map((h) => h.endpoint_key));
      const repeated = [...tally.byWebhookId].filter(([, list]) => list.length > 1);
      const unexplained = repeated.filter(([id]) => !heldIds.has(id) && !failedOnce.has(id)).map(([id]) => id);
      assert.deepEqual(unexplained, [], 'every duplicate was held by the killed worker, or retried after a failed attempt');
      const byKill = repeated.filter(([id]) => heldIds.has(id) && !failedOnce.has(id));
      // In flight at the kill: the receiver's answer was not yet out. Answered before the kill but
      // not yet recorded (the dispatcher's result buffer, a flush in progress) is the other kind.
      const inFlight = byKill.filter(([, l]) => l[0].at + DELAY > killedAt - 2).length;
      // The victim's claims come back once their lease (5 s) ran out and a reaper gave them back.
      const resumed = held.flatMap((h) => (tally.byWebhookId.get(h.id) ?? []).filter((a) => a.at > killedAt).slice(0, 1)).map((a) => a.at);
      const takeover = resumed.length > 0 ? `${Math.min(...resumed) - killedAt} ms` : 'never';
      const finished = Math.max(...tally.arrivals.map((a) => a.at)) - killedAt;
      t.diagnostic(`kill -9 after ${atKill} events; victim held ${held.length} deliveries (${heldAtKill.length} read before the kill, ${unrecorded.length} unrecorded after) on ${ownedEndpoints.size} endpoints; ` +
        `${tally.duplicates} duplicate requests (${byKill.length} from the kill: ${inFlight} in flight, ${byKill.length - inFlight} answered but unrecorded; ` +
        `${repeated.length - byKill.length} after failed attempts); its deliveries resumed ${takeover} after the kill, all done ${finished} ms after it`);
      // The dispatcher's bound per endpoint it owned: the concurrency (10) in flight plus as many
      // answered but not yet recorded.
      assert.ok(byKill.length <= 20 * ownedEndpoints.size, `${byKill.length} repeats from the kill, bound ${20 * ownedEndpoints.size}`);
      assert.ok(c.workers.filter((w) => w !== victim).every((w) => w.proc.child.exitCode === null), 'the other workers still run');
    });
  });

  it('(c) PostgreSQL restarted mid-run: API and workers reconnect by themselves and finish', async (t) => {
    try {
      await withCluster(2, {}, 2, async (c, rs) => {
        const tally = new Tally(() => ({ delayMs: 50 }));
        tally.attach(...rs);
        const svc = await endpointPerService(c, rs);
        const before = snapshots(3000, (i) => svc[i % 2], 'pre');
        await ingest(c.api, before);
        await waitUntil(() => tally.events.size >= 300, 30_000, 'some deliveries before the restart');
        // A process that died would only be noticed when the lease of its claims ran out: fail at once.
        const all = [{ name: 'serve', p: c.serve }, ...c.workers.map((w, i) => ({ name: `worker ${i + 1}`, p: w.proc }))];
        const living = (cond: () => boolean | Promise<boolean>) => async () => {
          const dead = all.filter((x) => x.p.child.exitCode !== null || x.p.child.signalCode !== null);
          if (dead.length > 0) assert.fail(dead.map((x) => `${x.name} died (exit ${x.p.child.exitCode}):\n${x.p.output().slice(-2500)}`).join('\n'));
          return cond();
        };

        // Poll the API through the restart: what it answers while the database is away.
        const seen: string[] = [];
        let polling = true;
        const poller = (async () => {
          for (let i = 0; polling && i < 600; i++) {
            const r = await c.api.get('/api/webhooks').then((x) => String(x.status), (e: Error) => `error ${e.message}`);
            if (seen.at(-1) !== r) seen.push(r);
            await new Promise((res) => setTimeout(res, 50));
          }
        })();
        const atRestart = tally.events.size;
        const restartAt = Date.now();
        let restarted: number;
        let apiBack: number;
        try {
          await restartPg();
          restarted = Date.now() - restartAt;
          assert.ok(atRestart < 3000, `restarted mid-run (${atRestart} of 3,000 delivered)`);
          await waitUntil(living(async () => (await c.api.get('/api/webhooks')).status === 200), 30_000, 'the API answering 2xx again');
          apiBack = Date.now() - restartAt;
        } finally {
          polling = false;
          await poller;
        }

        const after = snapshots(300, (i) => svc[i % 2], 'post');
        await ingest(c.api, after);
        await waitUntil(living(() => tally.events.size >= 3300), 60_000, `every event after the restart`);
        await waitUntil(living(() => settled(c)), 30_000, 'every delivery settled');
        assert.deepEqual(await statusCounts(c), { succeeded: 3300 });
        for (const e of [...before, ...after]) assert.ok(tally.events.has(eventKey(e)), `event ${e.event_id} delivered`);
        assert.ok(c.alive(), 'no process died');
        t.diagnostic(`restart took ${restarted} ms with ${atRestart} of 3,000 delivered; API 200 again after ${apiBack} ms; ` +
          `API answers during it: ${seen.join(' → ')}; ${tally.duplicates} duplicate requests`);
      });
    } finally {
      await ensurePgRunning();
    }
  });

  it('(d) per-application ordering holds across workers, through retries and a handoff', async (t) => {
    const env = { ...SHORT_TIMEOUTS, MESSO_RETRY_SCHEDULE: '0,0.2,0.2,0.2,0.2' };
    await withCluster(3, env, 2, async (c, rs) => {
      // A first attempt of every 13th request fails: its retry must still come before the next status.
      const tally = new Tally(({ index, seen }) => ({ status: index % 13 === 0 && !seen ? 500 : 200, delayMs: 30 }));
      tally.attach(...rs);
      // A few requests at a time per endpoint, so the run lasts past the handoff below.
      for (const [i, r] of rs.entries()) {
        await createWebhook(c.api, { title: `o${i}`, endpoint: `${r.url}/hook`, ordering: 'per_application', max_concurrency: 4 });
      }
      // 40 pratiche, each through the chain; interleaved as a busy core would emit them.
      const apps = Array.from({ length: 40 }, () => randomUUID());
      const base = Date.now() - 60_000;
      const events = CHAIN.flatMap((status, step) => apps.map((id) => ({
        event_id: randomUUID(), type: 'application.snapshot', event_created_at: new Date(base + step * 1000).toISOString(),
        data: { application: { id, service_id: 'svc-o', status } },
      })));
      const total = events.length * rs.length;
      await ingest(c.api, events);
      await waitUntil(() => tally.arrivals.length >= total / 4, 30_000, 'a quarter delivered');
      // The busiest worker leaves mid-chain: its chains go on in the other processes.
      const before = await Promise.all(c.workers.map(async (w) => (await w.attempts()).success ?? 0));
      const leaving = before.indexOf(Math.max(...before));
      assert.equal(await stopProc(c.workers[leaving].proc), 0, 'the busiest worker stops gracefully');
      const atStop = tally.arrivals.length;
      await waitUntil(() => settled(c), 60_000, 'every delivery settled');
      assert.deepEqual(await statusCounts(c), { succeeded: total });
      const others = c.workers.map((w, i) => i).filter((i) => i !== leaving);
      const after = (await Promise.all(others.map(async (i) => ((await c.workers[i].attempts()).success ?? 0) - before[i]))).reduce((a, b) => a + b, 0);
      // Exactly one successful request per delivery: the handoff repeated nothing.
      assert.equal(tally.byWebhookId.size, total);
      for (const [id, list] of tally.byWebhookId) assert.equal(list.filter((a) => a.status === 200).length, 1, `delivery ${id}: one success`);

      for (const r of rs) {
        const port = Number(new URL(r.url).port);
        const byApp = new Map<string, number[]>();
        for (const req of r.requests) {
          const body = JSON.parse(req.body);
          const list = byApp.get(body.id) ?? [];
          list.push(CHAIN.indexOf(Number(body.status)));
          byApp.set(body.id, list);
        }
        assert.equal(byApp.size, apps.length, `receiver ${port}: every pratica`);
        for (const [id, steps] of byApp) {
          // Retries repeat a step; the order never goes back, and every step arrives.
          const collapsed = steps.filter((s, i) => i === 0 || s !== steps[i - 1]);
          assert.deepEqual(collapsed, CHAIN.map((_, i) => i), `receiver ${port}, pratica ${id}: ${steps.join(',')}`);
        }
      }
      const failures = tally.arrivals.filter((a) => a.status !== 200).length;
      t.diagnostic(`${total} ordered deliveries, ${failures} first attempts failed and retried; the busiest worker did ${before[leaving]} ` +
        `and left after ${atStop} requests; the other two did ${after} after that`);
      assert.ok(before[leaving] > 0 && after > 0, `both sides of the handoff delivered (${before[leaving]}, ${after})`);
      assert.ok(failures > 0, 'some attempts failed and were retried in order');
    });
  });

  it('(d) max_concurrency 2 holds across three workers on a slow receiver, through a handoff', async (t) => {
    await withCluster(1, SHORT_TIMEOUTS, 1, async (c, [r]) => {
      const tally = new Tally(() => ({ delayMs: 50 }));
      tally.attach(r);
      await createWebhook(c.api, { title: 'slow', endpoint: `${r.url}/hook`, max_concurrency: 2 });
      const events = snapshots(150, () => 'svc-s');
      await ingest(c.api, events);
      await waitUntil(() => tally.arrivals.length >= 20, 30_000, 'the first worker under way');
      const [w2, w3] = await Promise.all([c.addWorker(), c.addWorker()]);
      await waitUntil(() => tally.arrivals.length >= 50, 30_000, 'three workers contending');
      assert.equal(await stopProc(c.workers[0].proc), 0, 'the first worker stops gracefully');
      await waitUntil(() => settled(c), 60_000, 'every delivery settled');
      assert.deepEqual(await statusCounts(c), { succeeded: 150 });
      assert.equal(tally.byWebhookId.size, 150);
      assert.equal(tally.duplicates, 0, 'a graceful stop repeats nothing');
      const later = ((await w2.attempts()).success ?? 0) + ((await w3.attempts()).success ?? 0);
      t.diagnostic(`most concurrent requests seen: ${tally.maxActive}; the workers that took over delivered ${later}`);
      assert.ok(later > 0, 'the other workers took over');
      assert.ok(tally.maxActive <= 2, `at most 2 concurrent requests (saw ${tally.maxActive})`);
      assert.equal(tally.maxActive, 2, 'the limit was used, not just respected');
    });
  });
});
