/**
 * Store contract, delivery part: what the dispatcher relies on. Claims take due deliveries
 * under a lease and count the attempt; an endpoint is served by one owner at a time; per-
 * application chains yield only their head; outcomes move deliveries on; released and expired
 * claims come back; resend and recover reset the schedule.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { laneKey } from '../../src/domain/limits.js';
import type { AttemptOutcome, ClaimedDelivery, Store } from '../../src/store/index.js';
import { deliveryListQuery } from '../../src/store/delivery-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { createdEvent, newApp, service, tenant, transitionEvent, webhook, type StoreCase } from './fixtures.js';

const LEASE = 60_000;

async function queue(store: Store, n: number, hook: Partial<Parameters<typeof webhook>[2]> = {}) {
  const t = await tenant(store);
  const svc = await service(store, t.id);
  const w = await webhook(store, t.id, { trigger: 'all', ...hook });
  const docs = [];
  for (let i = 0; i < n; i++) {
    const doc = newApp(t.id, svc);
    await store.appendEvents([createdEvent(doc)]);
    docs.push(doc);
  }
  return { t, svc, w, docs };
}

function outcome(c: ClaimedDelivery, owner: string, result: AttemptOutcome['result'], extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return {
    deliveryId: c.delivery.id, owner, webhookId: c.webhook.id, tenantId: c.delivery.tenant_id, endpointKey: c.delivery.endpoint_key, attempt: c.delivery.attempts,
    startedAt: Date.now(), durationMs: 3, url: c.webhook.endpoint, result, nextAttemptAt: result === 'retry' ? Date.now() + 60_000 : null,
    statusCode: result === 'success' ? 204 : 500, responseHeaders: { 'x-a': '1' }, responseBody: 'ok', truncated: false,
    errorClass: null, errorMessage: null, laneBlockedUntil: null, webhookFailing: c.webhook.failing_since !== null, laneSlowed: c.laneSlowed, ...extra,
  };
}

export function deliveryCases(withStore: StoreCase): void {
  it('names which webhook ids still exist (deleted and unknown ones are left out)', withStore(async (store) => {
    const t = await tenant(store);
    const a = await webhook(store, t.id, { trigger: 'all' });
    const b = await webhook(store, t.id, { trigger: 'all' });
    assert.deepEqual((await store.liveWebhookIds([a.id, b.id, 'wh_unknown'])).sort(), [a.id, b.id].sort());
    assert.equal(await store.deleteWebhook(t.id, a.id), true);
    assert.deepEqual(await store.liveWebhookIds([a.id, b.id]), [b.id]);
    assert.deepEqual(await store.liveWebhookIds([]), []);
  }));

  it("lists a tenant's failed deliveries through an index of their own, not through all its deliveries", withStore(async (store) => {
    const t = await tenant(store);
    const svc = await service(store, t.id);
    await webhook(store, t.id, { trigger: 'all' });
    await store.appendEvents(Array.from({ length: 2000 }, () => createdEvent(newApp(t.id, svc))));
    const claimed = await store.claimDeliveries({ owner: 'A', limit: 2, now: Date.now(), leaseMs: LEASE });
    await store.completeAttempts(claimed.map((c) => outcome(c, 'A', 'failed')));
    const failed = await store.listDeliveries(t.id, { status: 'failed' }, { limit: 10 });
    assert.deepEqual(failed.items.map((d) => d.id).sort(), claimed.map((c) => c.delivery.id).sort());
    // Rare, as failures should be: a walk of the tenant's 2,000 newest first would read them all.
    const db = (store as SqlStore).database;
    const { sql, params } = deliveryListQuery(db.dialect, t.id, { status: 'failed' }, { limit: 10 });
    if (db.dialect === 'postgres') await db.execute('ANALYZE deliveries');
    const plan = await db.query(`${db.dialect === 'postgres' ? 'EXPLAIN (FORMAT JSON)' : 'EXPLAIN QUERY PLAN'} ${sql}`, params);
    assert.match(JSON.stringify(plan), /deliveries_tenant_failed/);
    await assert.rejects(store.listDeliveries(t.id, { status: "x' OR 1=1 --" as 'failed' }, { limit: 10 }), /not a delivery status/);
  }));

  it("finds a delivery by its event or its pratica (its id, or a whole id in the search) through the event's seq, not a walk of the tenant's deliveries", withStore(async (store) => {
    const t = await tenant(store);
    const svc = await service(store, t.id);
    const hook = await webhook(store, t.id, { trigger: 'all' });
    const docs = Array.from({ length: 2000 }, () => newApp(t.id, svc));
    const events = docs.map((d) => createdEvent(d));
    await store.appendEvents(events);
    const doc = docs[700];
    const other = await tenant(store);
    await webhook(store, other.id, { trigger: 'all' });
    await store.appendEvents([createdEvent(newApp(other.id, await service(store, other.id), 2000, undefined, doc.id))]);
    const byEvent = await store.listDeliveries(t.id, { event_id: events[700].event_id }, { limit: 10 });
    assert.deepEqual(byEvent.items.map((d) => d.subject), [doc.id]);
    const bySubject = await store.listDeliveries(t.id, { subject: doc.id }, { limit: 10 });
    assert.deepEqual(bySubject.items.map((d) => d.id), byEvent.items.map((d) => d.id), "the other tenant's pratica of the same id is not listed");
    assert.deepEqual((await store.listDeliveries(t.id, { q: doc.id }, { limit: 10 })).items.map((d) => d.id), byEvent.items.map((d) => d.id));
    const db = (store as SqlStore).database;
    if (db.dialect === 'postgres') for (const table of ['deliveries', 'events']) await db.execute(`ANALYZE ${table}`);
    for (const filter of [{ event_id: events[700].event_id }, { subject: doc.id }, { subject: doc.id, webhook_id: hook.id, status: 'pending' as const }, { q: doc.id }]) {
      const { sql, params } = deliveryListQuery(db.dialect, t.id, filter, { limit: 10 });
      const plan = JSON.stringify(await db.query(`${db.dialect === 'postgres' ? 'EXPLAIN (FORMAT JSON)' : 'EXPLAIN QUERY PLAN'} ${sql}`, params));
      assert.match(plan, /deliveries_event_seq/, `${JSON.stringify(filter)}: ${plan}`);
    }
  }));

  it('claims due deliveries under a lease, counting the attempt, each only once', withStore(async (store) => {
    const { t } = await queue(store, 3);
    const a = await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE });
    assert.equal(a.length, 3);
    assert.ok(a.every((c) => c.delivery.attempts === 1 && c.delivery.body.length > 0));
    assert.deepEqual(await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE }), []);
    const listed = (await store.listDeliveries(t.id, {}, { limit: 10 })).items;
    assert.ok(listed.every((d) => d.status === 'sending'));
    assert.equal((await store.queueStats(Date.now())).sending, 3);
  }));

  it('an endpoint is served by one owner at a time', withStore(async (store) => {
    await queue(store, 4);
    const a = await store.claimDeliveries({ owner: 'A', limit: 2, now: Date.now(), leaseMs: LEASE });
    assert.equal(a.length, 2);
    assert.deepEqual(await store.claimDeliveries({ owner: 'B', limit: 10, now: Date.now(), leaseMs: LEASE }), [], 'B may not take A\'s endpoint');
    assert.equal((await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE })).length, 2);
  }));

  it('outcomes move deliveries on and are logged as attempts', withStore(async (store) => {
    const { t } = await queue(store, 3);
    const [ok, retry, failed] = await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE });
    await store.completeAttempts([
      outcome(ok, 'A', 'success'),
      outcome(retry, 'A', 'retry', { errorClass: 'timeout', errorMessage: 'slow', statusCode: null }),
      outcome(failed, 'A', 'failed'),
    ]);
    const get = async (c: ClaimedDelivery) => (await store.getDelivery(t.id, c.delivery.id))!;
    assert.equal((await get(ok)).status, 'succeeded');
    assert.equal((await get(retry)).status, 'pending');
    assert.match((await get(retry)).last_error!, /timeout/);
    assert.equal((await get(failed)).status, 'failed');
    assert.ok((await get(failed)).completed_at);
    const attempts = await store.listAttempts(ok.delivery.id);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].status_code, 204);
    assert.deepEqual(attempts[0].response_headers, { 'x-a': '1' });
    assert.deepEqual(await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE }), [], 'the retry is not due yet');
    assert.equal((await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now() + 61_000, leaseMs: LEASE })).length, 1);
  }));

  it('released and expired claims come back; resend and recover reset the schedule', withStore(async (store) => {
    const { t, w } = await queue(store, 3);
    const claims = await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: 1 });
    assert.equal(await store.releaseClaims('A', [claims[0].delivery.id], Date.now()), 1);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await store.releaseExpiredLeases(Date.now(), 10), 2, 'the other two had their lease run out');
    await store.renewLeases('A', 0, []);
    const again = await store.claimDeliveries({ owner: 'B', limit: 10, now: Date.now(), leaseMs: LEASE });
    assert.equal(again.length, 3);
    assert.ok(again.every((c) => c.delivery.attempts === 2), 'a crash mid-attempt still counts as an attempt');
    await store.completeAttempts(again.map((c) => outcome(c, 'B', 'failed')));
    const resent = await store.resendDelivery(t.id, again[0].delivery.id, Date.now());
    assert.equal(resent?.status, 'pending');
    assert.equal(resent?.attempts, 0);
    assert.equal(await store.resendDelivery(t.id, again[0].delivery.id, Date.now()), null, 'not while pending');
    assert.equal(await store.recoverDeliveries(t.id, w.id, 0, Date.now() + 1, Date.now()), 2);
    assert.equal((await store.claimDeliveries({ owner: 'B', limit: 10, now: Date.now(), leaseMs: LEASE })).length, 3);
  }));

  it('per-application ordering yields only the head of each chain', withStore(async (store) => {
    const { t, docs } = await queue(store, 1, { ordering: 'per_application' });
    let doc = docs[0];
    for (const [i, to] of [4000, 4100].entries()) {
      const next = transitionEvent(doc, to, i + 1, Date.now());
      await store.appendEvents([next.event]);
      doc = next.doc;
    }
    const first = await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE });
    assert.equal(first.length, 1, 'one at a time per pratica');
    assert.equal(first[0].delivery.event_type, 'application.created');
    assert.deepEqual(await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE }), []);
    await store.completeAttempts([outcome(first[0], 'A', 'success')]);
    const second = await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE });
    assert.equal(second.length, 1);
    assert.equal(JSON.parse(second[0].delivery.body).status, '4000');
    assert.equal((await store.listDeliveries(t.id, {}, { limit: 10 })).items.length, 3);
  }));

  it("a slowed-down lane is not claimed until its pause ends; another tenant's lane on the origin is", withStore(async (store) => {
    await queue(store, 2);
    const other = await queue(store, 1);
    const [c] = await store.claimDeliveries({ owner: 'A', limit: 1, now: Date.now(), leaseMs: LEASE });
    await store.completeAttempts([outcome(c, 'A', 'retry', { statusCode: 429, nextAttemptAt: Date.now(), laneBlockedUntil: Date.now() + 60_000 })]);
    const rest = await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now(), leaseMs: LEASE });
    assert.deepEqual(rest.map((r) => r.delivery.tenant_id), [other.t.id], 'only the other tenant moves');
    assert.equal(await store.laneSlowdowns(laneKey(c.delivery.tenant_id, c.delivery.endpoint_key)), 1);
    assert.equal((await store.claimDeliveries({ owner: 'A', limit: 10, now: Date.now() + 61_000, leaseMs: LEASE })).length, 2);
  }));

  it('a success clears the failing streak and the lane slow-downs its claim saw, and writes nothing where there were none', withStore(async (store) => {
    const { t, w } = await queue(store, 4);
    const claim = async (limit: number, now = Date.now()) => store.claimDeliveries({ owner: 'A', limit, now, leaseMs: LEASE });
    const failingSince = async () => (await store.getWebhook(t.id, w.id))?.failing_since ?? null;
    const [c1] = await claim(1);
    assert.deepEqual([c1.webhook.failing_since, c1.laneSlowed], [null, false]);
    const lane = laneKey(c1.delivery.tenant_id, c1.delivery.endpoint_key);
    await store.completeAttempts([outcome(c1, 'A', 'retry', { statusCode: 429, nextAttemptAt: Date.now(), laneBlockedUntil: Date.now() + 1 })]);
    assert.notEqual(await failingSince(), null);
    const [c2] = await claim(1, Date.now() + 10);
    assert.equal(c2.laneSlowed, true, 'the claim reads the lane slow-downs');
    assert.notEqual(c2.webhook.failing_since, null);
    await store.completeAttempts([outcome(c2, 'A', 'success')]);
    assert.deepEqual([await failingSince(), await store.laneSlowdowns(lane)], [null, 0], 'both cleared');
    // Another process fails one after this one's claim: a success judged by that claim leaves the
    // streak, which the next claim reads and its success clears.
    const [c3, c4] = await claim(2);
    assert.deepEqual([c3.webhook.failing_since, c3.laneSlowed], [null, false]);
    await store.completeAttempts([outcome(c4, 'B', 'retry', { nextAttemptAt: Date.now() })]);
    await store.completeAttempts([outcome(c3, 'A', 'success')]);
    assert.notEqual(await failingSince(), null);
    const [c5] = await claim(1, Date.now() + 10);
    assert.notEqual(c5.webhook.failing_since, null);
    await store.completeAttempts([outcome(c5, 'A', 'success')]);
    assert.equal(await failingSince(), null);
  }));

  it('a claim takes for each lane only what it can send soon (max_concurrency × rounds, less what is held)', withStore(async (store) => {
    const one = await queue(store, 15, { max_concurrency: 1 });
    const room = { rounds: 10, defaultConcurrency: 10, held: new Map<string, number>() };
    const a = await store.claimDeliveries({ owner: 'A', limit: 200, now: Date.now(), leaseMs: LEASE, room });
    assert.equal(a.length, 10, 'max_concurrency 1 × 10 rounds');
    const lane = laneKey(one.t.id, a[0].delivery.endpoint_key);
    const b = await store.claimDeliveries({ owner: 'A', limit: 200, now: Date.now(), leaseMs: LEASE, room: { ...room, held: new Map([[lane, 8]]) } });
    assert.equal(b.length, 2);
    assert.deepEqual(await store.claimDeliveries({ owner: 'A', limit: 200, now: Date.now(), leaseMs: LEASE, room, skipLanes: [lane] }), []);
  }));

  it('a claim reads of a lane the dispatcher serves only what its queue can still hold (the lane\'s limit × rounds, less what is held)', withStore(async (store) => {
    const q = await queue(store, 30);
    const [first] = await store.claimDeliveries({ owner: 'A', limit: 1, now: Date.now(), leaseMs: LEASE });
    const lane = laneKey(q.t.id, first.delivery.endpoint_key);
    const room = { rounds: 10, defaultConcurrency: 10, held: new Map([[lane, 5]]), limits: new Map([[lane, 2]]) };
    const served = await store.claimDeliveries({ owner: 'A', limit: 200, now: Date.now(), leaseMs: LEASE, room });
    assert.equal(served.length, 15, 'the lane\'s limit 2 × 10 rounds, less 5 held');
    const unknown = await store.claimDeliveries({ owner: 'A', limit: 200, now: Date.now(), leaseMs: LEASE, room: { ...room, limits: new Map() } });
    assert.equal(unknown.length, 14, 'a lane without a known limit: its webhook\'s room (10 × 10, less 5) takes the 14 left');
  }));
}
