/**
 * Store contract, part four: fan-outs larger than one transaction may write (MESSO_FANOUT_CHUNK)
 * are committed as jobs with their events and written in bounded chunks: every delivery once,
 * a tenant's in its events' order, another tenant's not held up behind them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store, Webhook } from '../../src/store/index.js';
import { createdEvent, deliveriesOf, newApp, service, tenant, webhook, type StoreCase } from './fixtures.js';

const CHUNK = 5;

/** Expands until no job is left; returns the deliveries written by each pass. */
async function drain(store: Store): Promise<number[]> {
  const passes: number[] = [];
  for (;;) {
    const pass = await store.expandFanOut();
    if (!pass.job) return passes;
    passes.push(pass.deliveries);
  }
}

export function fanOutCases(withStore: StoreCase): void {
  describe('fan-out in chunks', () => {
    it('writes a fan-out past the chunk in bounded transactions, each delivery once, in event order', withStore(async (store) => {
      const a = await tenant(store);
      const b = await tenant(store);
      const svcA = await service(store, a.id);
      const svcA2 = await service(store, a.id);
      const svcB = await service(store, b.id);
      const hooks: Webhook[] = [];
      for (let i = 0; i < 12; i++) hooks.push(await webhook(store, a.id, { trigger: 'all', filters: [svcA.id], format: 'standard', ordering: 'per_application' }));
      const other = await webhook(store, a.id, { trigger: 'all', filters: [svcA2.id] });
      const disabled = await webhook(store, a.id, { trigger: 'all', active: false });
      await webhook(store, b.id, { trigger: 'all' });

      // One pratica moving on: its deliveries must keep the events' order per webhook.
      const doc = newApp(a.id, svcA, 2000);
      const batch = [createdEvent(doc), createdEvent(newApp(a.id, svcA, 2000)), createdEvent(newApp(a.id, svcA, 2000))];
      const results = await store.appendEvents(batch);
      assert.deepEqual(results.map((r) => r.deliveries), [12, 12, 12], 'the deliveries each event promises');
      assert.equal((await deliveriesOf(store, a.id)).length, 0, 'none fits in a transaction of 5: all are jobs');

      // Changed after the events: a deleted webhook gets nothing more, a new one nothing of them.
      await store.deleteWebhook(a.id, hooks[11].id);
      const late = await webhook(store, a.id, { trigger: 'all', filters: [svcA.id], format: 'standard', ordering: 'per_application' });

      // Another tenant is not queued behind them: its delivery is written with its event.
      const [theirs] = await store.appendEvents([createdEvent(newApp(b.id, svcB, 2000))]);
      assert.equal((await deliveriesOf(store, b.id, theirs.event.event_id)).length, 1);
      // The same tenant's next event queues behind its jobs, even one that would fit.
      const next = createdEvent(newApp(a.id, svcA, 2000));
      const [queued] = await store.appendEvents([next]);
      assert.equal(queued.deliveries, 12, '11 webhooks of before and the new one');
      const fits = createdEvent(newApp(a.id, svcA2, 2000));
      const [small] = await store.appendEvents([fits]);
      assert.equal(small.deliveries, 1);
      assert.equal((await deliveriesOf(store, a.id)).length, 0, 'behind the jobs, even one delivery');

      // Two writers at once (two connections on PostgreSQL): a job is written by one at a time.
      const passes = (await Promise.all([drain(store), drain(store)])).flat();
      assert.ok(passes.every((n) => n <= CHUNK), `at most ${CHUNK} deliveries per transaction: ${passes.join(', ')}`);
      const written = await deliveriesOf(store, a.id);
      assert.equal(written.length, 3 * 11 + 12 + 1);
      assert.deepEqual(written.filter((d) => d.webhook_id === other.id).map((d) => d.event_id), [fits.event_id]);
      assert.equal(passes.reduce((x, y) => x + y, 0), written.length);
      const pairs = new Set(written.map((d) => `${d.webhook_id} ${d.event_id}`));
      assert.equal(pairs.size, written.length, 'no delivery twice');
      assert.ok(!written.some((d) => d.webhook_id === hooks[11].id), 'the deleted webhook got nothing');
      assert.deepEqual(written.filter((d) => d.webhook_id === late.id).map((d) => d.event_id), [next.event_id], 'the late webhook only the later event');
      const order = [...batch, next].map((e) => e.event_id);
      for (const h of hooks.slice(0, 11)) {
        const mine = written.filter((d) => d.webhook_id === h.id).sort((x, y) => x.seq - y.seq).map((d) => d.event_id);
        assert.deepEqual(mine, order, `webhook ${h.id}: deliveries in event order`);
      }
      assert.equal((await store.webhookHealth(disabled)).skipped_events, 5, 'the disabled webhook counts what it skipped');
      assert.deepEqual(await store.expandFanOut(), { job: false, deliveries: 0 });

      // With the jobs done, an event that fits is written with itself again.
      await store.deleteWebhook(a.id, late.id);
      for (const h of hooks.slice(5, 11)) await store.deleteWebhook(a.id, h.id);
      const after = createdEvent(newApp(a.id, svcA, 2000));
      await store.appendEvents([after]);
      assert.equal((await deliveriesOf(store, a.id, after.event_id)).length, 5);
    }, { fanoutChunk: CHUNK }));
  });
}
