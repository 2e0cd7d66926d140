/**
 * One tenant must not throttle or pause another (issue 12, item 3), through real HTTP, on
 * SQLite and PostgreSQL: tenant A's max_concurrency 1 on a slow bin, a 503 with Retry-After 120
 * from A's bin, and A's backlog against the origin's ceiling all leave tenant B's deliveries to
 * the same origin on time. Before lanes, B's 50 deliveries took over 60 s behind A's limit, and
 * A's 503 stopped B entirely.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, startReceiver, waitUntil, type Receiver } from './harness.js';
import { createApplication, createWebhook, deliveryEnv, on, type DeliveryEnv } from './delivery-helpers.js';
import { freshPgSchema, pgSkip, type PgSchema } from './pg.js';

/** A second tenant on the same server and receiver. */
async function otherTenant(e: DeliveryEnv): Promise<DeliveryEnv> {
  const t = await createTenant(e.server, 'Comune di Altrove');
  const service = await t.client.post('/api/services', { name: 'Carta di identità' });
  return { ...e, client: t.client, tenantId: t.id, serviceId: service.body.id };
}

/** Creates n applications of a tenant, 8 at a time. */
async function applications(e: DeliveryEnv, n: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < n) await createApplication(e, 1900);
  }));
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`fairness between tenants on one origin (${store})`, async () => {
    const skip = store === 'postgres' ? await pgSkip() : false;
    let pg: PgSchema | null = null;
    let a: DeliveryEnv;
    let b: DeliveryEnv;
    let r: Receiver;
    before(async () => {
      if (skip) return;
      pg = store === 'postgres' ? await freshPgSchema() : null;
      a = await deliveryEnv({ MESSO_ORIGIN_CONCURRENCY: '4', MESSO_RETRY_SCHEDULE: '0,300', ...(pg ? { MESSO_DATABASE_URL: pg.url } : {}) });
      b = await otherTenant(a);
      r = a.receiver;
    });
    after(async () => {
      if (skip) return;
      await a.close();
      await pg?.drop();
    });

    it("A's max_concurrency 1 on a slow bin does not slow B's deliveries on the same origin", { skip }, async () => {
      const slow = await createWebhook(a, { trigger: 'all', title: 'slow bin', max_concurrency: 1 });
      const fast = await createWebhook(b, { trigger: 'all', title: 'B' });
      r.handler = (req) => (req.url === slow.path ? { status: 200, delayMs: 1000 } : { status: 200 });
      await applications(a, 10);
      await waitUntil(() => on(a, slow.path).length >= 1, 10_000, "A's first request");
      const t0 = Date.now();
      await applications(b, 50);
      await waitUntil(() => on(b, fast.path).length >= 50, 20_000, `B's 50 deliveries (got ${on(b, fast.path).length})`);
      const took = Date.now() - t0;
      // A alone needs 10 s for its 10; B's 50 would have queued behind them at one at a time.
      assert.ok(took < 8000, `B's 50 deliveries took ${took} ms while A's bin takes 1 s a request`);
      assert.ok(on(a, slow.path).length < 10, 'A is still being served one at a time');
      assert.equal(r.peakInFlight(slow.path), 1, "A's own limit holds");
      await a.client.delete(`/api/webhooks/${slow.id}`);
      await b.client.delete(`/api/webhooks/${fast.id}`);
    });

    it("A's 503 with Retry-After 120 pauses A only; B goes on", { skip }, async () => {
      const paused = await createWebhook(a, { trigger: 'all', title: 'A 503' });
      const fast = await createWebhook(b, { trigger: 'all', title: 'B' });
      r.handler = (req) => (req.url === paused.path ? { status: 503, headers: { 'retry-after': '120' } } : { status: 200 });
      await applications(a, 1);
      await waitUntil(() => on(a, paused.path).length >= 1, 10_000, "A's 503");
      await applications(a, 3);
      const t0 = Date.now();
      await applications(b, 20);
      await waitUntil(() => on(b, fast.path).length >= 20, 10_000, `B's 20 deliveries (got ${on(b, fast.path).length})`);
      assert.ok(Date.now() - t0 < 6000, `B took ${Date.now() - t0} ms`);
      // Give A's lane the chance to misbehave: it must stay paused.
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(on(a, paused.path).length, 1, "A's lane stays paused for its Retry-After");
      await a.client.delete(`/api/webhooks/${paused.id}`);
      await b.client.delete(`/api/webhooks/${fast.id}`);
    });

    it("the origin's ceiling holds for all tenants together, and B gets its share while A has a backlog", { skip }, async () => {
      // An origin of its own: A's lane on the other one is still paused by the 503 above.
      const r3 = await startReceiver();
      const backlog = await createWebhook(a, { trigger: 'all', title: 'A backlog', endpoint: `${r3.url}/a` });
      const fast = await createWebhook(b, { trigger: 'all', title: 'B', endpoint: `${r3.url}/b` });
      const at = (path: string) => r3.requests.filter((x) => x.url === path).length;
      let open = 0;
      let peak = 0;
      r3.handler = () => {
        peak = Math.max(peak, ++open);
        setTimeout(() => open--, 300);
        return { status: 200, delayMs: 300 };
      };
      await applications(a, 40);
      await waitUntil(() => at('/a') >= 4, 10_000, "A's backlog under way");
      const t0 = Date.now();
      await applications(b, 8);
      await waitUntil(() => at('/b') >= 8, 15_000, `B's 8 (got ${at('/b')})`);
      // A's 40 at 4 × 300 ms take 3 s or more; B, with half of the 4 slots, about 1.2 s for its 8.
      const aDone = at('/a');
      assert.ok(aDone < 40, `B waited for A's whole backlog (${Date.now() - t0} ms, A had ${aDone} of 40)`);
      assert.ok(peak <= 4, `at most MESSO_ORIGIN_CONCURRENCY (4) in flight to the origin, saw ${peak}`);
      await waitUntil(() => at('/a') >= 40, 15_000, "A's backlog done");
      await a.client.delete(`/api/webhooks/${backlog.id}`);
      await b.client.delete(`/api/webhooks/${fast.id}`);
      await r3.close();
    });
  });
}
