/** Store contract, part two: the event log, webhooks and the transactional outbox. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uuid } from '../../src/domain/ids.js';
import { renderPayload } from '../../src/domain/payload.js';
import { ConflictError, DuplicateError, type NewEvent, type Store } from '../../src/store/index.js';
import {
  T0, allEvents, createdEvent, deliveriesOf, messageEvent, newApp, service, serviceEvent, snapshotEvent, tenant, transitionEvent, webhook,
  type StoreCase,
} from './fixtures.js';

export function eventCases(withStore: StoreCase): void {
  describe('events', () => {
    it('is idempotent on event_id: a repeat is not written again', withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const ev = createdEvent(newApp(t.id, svc, 2000));
      const [first] = await store.appendEvents([ev]);
      assert.equal(first.created, true);
      assert.equal(first.deliveries, 1);
      const eventsBefore = await allEvents(store, t.id);
      const [again] = await store.appendEvents([{ ...ev, data: { changed: true }, projection: undefined }]);
      assert.equal(again.created, false);
      assert.equal(again.deliveries, 0);
      assert.equal(again.event.seq, first.event.seq);
      assert.deepEqual(again.event.data, first.event.data, 'the original answers, not the repeat');
      assert.deepEqual(await allEvents(store, t.id), eventsBefore);
      assert.equal((await deliveriesOf(store, t.id)).length, 1);
      // The same event_id from another tenant is that tenant's own new event (issue 12, item 7).
      const other = await tenant(store);
      await webhook(store, other.id, { trigger: 'all' });
      const [theirs] = await store.appendEvents([{ ...ev, tenant_id: other.id, data: { ...ev.data, theirs: true, application: { ...(ev.data.application as object), subject: 'theirs' } }, projection: undefined }]);
      assert.equal(theirs.created, true, "another tenant's event_id neither blocks nor reveals");
      assert.equal(theirs.deliveries, 1);
      assert.equal((await store.getEvent(other.id, ev.event_id))?.data.theirs, true);
      assert.deepEqual((await store.getEvent(t.id, ev.event_id))?.data, first.event.data);
      assert.deepEqual(await allEvents(store, t.id), eventsBefore);
      const [mine] = await deliveriesOf(store, t.id);
      const [their] = await deliveriesOf(store, other.id);
      assert.notEqual(their.body, mine.body, 'each delivery carries its own tenant\'s body');
      assert.match(their.body, /theirs/);
    }));

    it('writes a batch all or nothing', withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const existing = newApp(t.id, svc, 2000);
      await store.appendEvents([createdEvent(existing)]);
      const eventsBefore = await allEvents(store, t.id);
      const deliveriesBefore = await deliveriesOf(store, t.id);
      const fresh = newApp(t.id, svc, 2000);
      const batch = [
        createdEvent(fresh),
        messageEvent(t.id, existing.id, svc.id),
        transitionEvent(existing, 4000, 7, T0 + 5000).event, // stale version: fails
      ];
      await assert.rejects(store.appendEvents(batch), ConflictError);
      assert.deepEqual(await allEvents(store, t.id), eventsBefore, 'no event of the batch is kept');
      assert.equal(await store.getApplication(t.id, fresh.id), null, 'no projection of the batch is kept');
      assert.equal((await deliveriesOf(store, t.id)).length, deliveriesBefore.length, 'no delivery without its event');
      const ok = await store.appendEvents(batch.slice(0, 2));
      assert.deepEqual(ok.map((r) => r.created), [true, true]);
      assert.ok(ok[1].event.seq > ok[0].event.seq, 'a batch keeps its order in the log');
    }));

    it('commits concurrent appends together; one that fails takes nothing of the others with it', withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const existing = newApp(t.id, svc, 2000);
      await store.appendEvents([createdEvent(existing)]);
      // Ids are per tenant (issue 12 item 7): the duplicate that fails is a service slug clash.
      const before = (await allEvents(store, t.id)).length;
      const existingAfter = await store.getApplication(t.id, existing.id);
      // 30 at once, as 30 posts of a core would: every fifth fails, each in its own way.
      const calls = Array.from({ length: 30 }, (_, i) => {
        if (i % 10 === 4) return store.appendEvents([transitionEvent(existing, 4000, 99, T0 + 5000).event]); // stale version
        if (i % 10 === 9) return store.appendEvents([serviceEvent(t.id, { slug: svc.slug })]); // a slug the tenant already uses
        return store.appendEvents([createdEvent(newApp(t.id, svc, 2000)), messageEvent(t.id, existing.id, svc.id)]);
      });
      const settled = await Promise.allSettled(calls);
      const failed = settled.map((r, i) => [i, r] as const).filter(([, r]) => r.status === 'rejected');
      assert.deepEqual(failed.map(([i]) => i), [4, 9, 14, 19, 24, 29]);
      for (const [i, r] of failed) {
        assert.ok((r as PromiseRejectedResult).reason instanceof (i % 10 === 4 ? ConflictError : DuplicateError), `call ${i}: ${String((r as PromiseRejectedResult).reason)}`);
      }
      const events = await allEvents(store, t.id);
      assert.equal(events.length, before + 24 * 2, 'every successful call wrote both its events');
      const answered = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      assert.ok(answered.every((r) => r.created) && answered.filter((r) => r.deliveries === 1).length >= 24);
      assert.equal((await deliveriesOf(store, t.id)).length, 1 + answered.reduce((n, r) => n + r.deliveries, 0),
        'and each its deliveries, in the same transaction');
      assert.deepEqual(await store.getApplication(t.id, existing.id), existingAfter, 'the stale transitions moved nothing');
      const seqs = answered.map((x) => x.event.seq);
      assert.equal(new Set(seqs).size, seqs.length);
    }));

    it('lists events with type, prefix, subject and since filters and cursors', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const svc = await service(store, t.id); // service.created at T0
      const a = newApp(t.id, svc, 2000, T0 + 1000);
      await store.appendEvents([createdEvent(a, T0 + 1000)]);
      await store.appendEvents([transitionEvent(a, 4000, 1, T0 + 2000).event]);
      await store.appendEvents([messageEvent(t.id, a.id, svc.id, T0 + 3000)]);
      const b = newApp(t.id, svc, 1000, T0 + 4000);
      await store.appendEvents([createdEvent(b, T0 + 4000)]);
      await service(store, other.id);
      const list = async (filter: Parameters<Store['listEvents']>[1]) =>
        (await store.listEvents(t.id, filter, { limit: 100 })).items.map((e) => e.type);
      assert.deepEqual(await list({}), ['service.created', 'application.created', 'application.status_changed', 'message.created', 'application.created']);
      assert.deepEqual(await list({ type: 'application.created' }), ['application.created', 'application.created']);
      assert.deepEqual(await list({ type: 'application.*' }), ['application.created', 'application.status_changed', 'application.created']);
      assert.deepEqual(await list({ type: 'applicationX*' }), [], 'only `.*` is a wildcard');
      assert.deepEqual(await list({ subject: a.id }), ['application.created', 'application.status_changed', 'message.created']);
      assert.deepEqual(await list({ subject: a.id, type: 'application.*' }), ['application.created', 'application.status_changed']);
      assert.deepEqual(await list({ since: T0 + 3000 }), ['message.created', 'application.created']);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.listEvents(t.id, {}, { limit: 2, cursor });
        seen.push(...page.items.map((e) => e.event_id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, (await store.listEvents(t.id, {}, { limit: 100 })).items.map((e) => e.event_id));
      assert.equal(seen.length, 5);
      const one = (await store.listEvents(t.id, { subject: b.id }, { limit: 1 })).items[0];
      assert.deepEqual(await store.getEvent(t.id, one.event_id), one);
      assert.equal(await store.getEvent(other.id, one.event_id), null);
      assert.equal(one.event_created_at, T0 + 4000);
      assert.equal(one.app_id, 'test');
      assert.deepEqual(one.data, { application: b });
    }));
  });

  describe('webhooks', () => {
    it('creates, reads, lists and updates a webhook within its tenant', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const w = await webhook(store, t.id, { trigger: '2000', headers: { 'X-Api-Key': 'k' }, filters: ['s1'], version: 2 });
      assert.equal(w.trigger, '2000');
      assert.deepEqual(w.headers, { 'X-Api-Key': 'k' });
      assert.deepEqual(w.filters, ['s1']);
      assert.equal(w.version, 2);
      assert.equal(w.active, true);
      assert.equal(w.previous_secret, null);
      assert.deepEqual(await store.getWebhook(t.id, w.id), w);
      assert.equal(await store.getWebhook(other.id, w.id), null);
      assert.equal(await store.updateWebhook(other.id, w.id, { title: 'x' }), null);
      const u = await store.updateWebhook(t.id, w.id, { title: 'Nuovo', events: ['application.*'], filters: 'all' });
      assert.equal(u?.title, 'Nuovo');
      assert.deepEqual(u?.events, ['application.*']);
      assert.equal(u?.filters, 'all');
      assert.equal(u?.trigger, '2000', 'fields not in the patch are kept');
      const off = await store.updateWebhook(t.id, w.id, { active: false });
      assert.equal(off?.active, false);
      assert.ok(off?.disabled_reason, 'a manual disable says why');
      assert.ok(off?.disabled_at);
      const on = await store.updateWebhook(t.id, w.id, { active: true });
      assert.equal(on?.active, true);
      assert.equal(on?.disabled_reason, null);
      assert.equal(on?.disabled_at, null);
      const w2 = await webhook(store, t.id);
      const w3 = await webhook(store, t.id);
      const p1 = await store.listWebhooks(t.id, { limit: 2 });
      const p2 = await store.listWebhooks(t.id, { limit: 2, cursor: p1.next_cursor });
      assert.deepEqual([...p1.items, ...p2.items].map((x) => x.id), [w.id, w2.id, w3.id]);
      assert.equal(p2.next_cursor, null);
      assert.deepEqual((await store.listWebhooks(other.id, { limit: 10 })).items, []);
    }));

    it('soft-deletes a webhook and cancels its pending deliveries', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const svc = await service(store, t.id);
      const w = await webhook(store, t.id, { trigger: 'all' });
      const keep = await webhook(store, t.id, { trigger: 'all' });
      const doc = newApp(t.id, svc, 2000);
      await store.appendEvents([createdEvent(doc)]);
      assert.equal(await store.deleteWebhook(other.id, w.id), false, "another tenant's delete finds nothing");
      assert.ok(await store.getWebhook(t.id, w.id));
      assert.equal(await store.deleteWebhook(t.id, w.id), true);
      assert.equal(await store.deleteWebhook(t.id, w.id), false, 'a second delete finds nothing');
      assert.equal(await store.getWebhook(t.id, w.id), null);
      assert.deepEqual((await store.listWebhooks(t.id, { limit: 10 })).items.map((x) => x.id), [keep.id]);
      assert.equal(await store.updateWebhook(t.id, w.id, { title: 'back' }), null);
      assert.equal(await store.rotateWebhookSecret(t.id, w.id, 'whsec_new', Date.now()), null);
      const byHook = new Map((await deliveriesOf(store, t.id)).map((d) => [d.webhook_id, d.status]));
      assert.equal(byHook.get(w.id), 'cancelled');
      assert.equal(byHook.get(keep.id), 'pending');
      const [later] = await store.appendEvents([transitionEvent(doc, 4000, 1, T0 + 1000).event]);
      assert.equal(later.deliveries, 1, 'a deleted webhook no longer matches');
    }));

    it('rotates the secret, keeping the previous one until the given time', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const w = await webhook(store, t.id);
      const until = Date.now() + 86_400_000;
      assert.equal(await store.rotateWebhookSecret(other.id, w.id, 'whsec_x', until), null);
      const r = await store.rotateWebhookSecret(t.id, w.id, 'whsec_new', until);
      assert.equal(r?.secret, 'whsec_new');
      assert.equal(r?.previous_secret, w.secret);
      assert.equal(r?.previous_secret_expires_at, until);
      assert.equal((await store.getWebhook(t.id, w.id))?.secret, 'whsec_new');
    }));
  });

  describe('outbox', () => {
    it('queues one pending delivery per matching active webhook, with the body frozen', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const s1 = await service(store, t.id);
      const s2 = await service(store, t.id);
      const hooks = {
        all: await webhook(store, t.id, { trigger: 'all' }),
        on2000: await webhook(store, t.id, { trigger: '2000', version: 2 }),
        on4000: await webhook(store, t.id, { trigger: '4000' }),
        messages: await webhook(store, t.id, { trigger: 'message_created' }),
        byType: await webhook(store, t.id, { trigger: null, events: ['application.status_changed'] }),
        byPrefix: await webhook(store, t.id, { trigger: null, events: ['application.*'], format: 'cloudevents' }),
        onlyS2: await webhook(store, t.id, { trigger: 'all', filters: [s2.id] }),
        inactive: await webhook(store, t.id, { trigger: 'all', active: false }),
        deleted: await webhook(store, t.id, { trigger: 'all' }),
      };
      await store.deleteWebhook(t.id, hooks.deleted.id);
      await webhook(store, other.id, { trigger: 'all' });
      const name = (id: string) => Object.entries(hooks).find(([, w]) => w.id === id)![0];
      const firedBy = async (ev: NewEvent) => {
        const [r] = await store.appendEvents([ev]);
        const ds = await deliveriesOf(store, t.id, ev.event_id);
        assert.equal(r.deliveries, ds.length);
        for (const d of ds) {
          assert.equal(d.status, 'pending');
          assert.equal(d.attempts, 0);
          assert.equal(d.event_type, ev.type);
          assert.equal(d.subject, ev.subject);
          assert.ok(d.next_attempt_at !== null);
        }
        return ds;
      };

      const doc = newApp(t.id, s1, 2000);
      const created = await firedBy(createdEvent(doc));
      assert.deepEqual(created.map((d) => name(d.webhook_id)).sort(), ['all', 'byPrefix', 'on2000']);
      const body = JSON.parse(created.find((d) => d.webhook_id === hooks.on2000.id)!.body);
      assert.equal(body.status, '2000');
      assert.equal(body.id, doc.id);
      assert.deepEqual(body.data, { applicant: { name: 'Mario' } }, 'version 2: nested data, without the data segments');
      assert.match(body.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "the delivery's own UUID");
      const ev = (await store.listEvents(t.id, { subject: doc.id }, { limit: 1 })).items[0];
      assert.notEqual(body.event_id, ev.event_id);
      assert.notEqual(JSON.parse(created.find((d) => d.webhook_id === hooks.all.id)!.body).event_id, body.event_id, 'one event_id per delivery');
      assert.equal(created.find((d) => d.webhook_id === hooks.on2000.id)!.body, renderPayload(ev, { format: 'opencity', version: 2 }, { eventId: body.event_id }).body);
      assert.equal(created.find((d) => d.webhook_id === hooks.byPrefix.id)!.content_type, 'application/cloudevents+json');

      const moved = await firedBy(transitionEvent(doc, 4000, 1, T0 + 1000).event);
      assert.deepEqual(moved.map((d) => name(d.webhook_id)).sort(), ['all', 'byPrefix', 'byType', 'on4000']);
      const frozen = (await deliveriesOf(store, t.id, created[0].event_id)).map((d) => d.body);
      assert.deepEqual(frozen, created.map((d) => d.body), 'a later change does not rewrite queued bodies');
      assert.equal(JSON.parse(created.find((d) => d.webhook_id === hooks.all.id)!.body).status, '2000');

      const msg = await firedBy(messageEvent(t.id, doc.id, s1.id));
      assert.deepEqual(msg.map((d) => name(d.webhook_id)).sort(), ['all', 'messages'], "a new message fires message_created and all, as in the core");

      const inS2 = await firedBy(createdEvent(newApp(t.id, s2, 1000)));
      assert.deepEqual(inS2.map((d) => name(d.webhook_id)).sort(), ['all', 'byPrefix', 'onlyS2']);

      const updated = await firedBy(snapshotEvent(t.id, { ...doc, subject: 'changed' }, T0 + 2000));
      assert.deepEqual(updated.map((d) => name(d.webhook_id)), ['byPrefix'], 'an update is not a status change');
      assert.equal((await store.listDeliveries(other.id, {}, { limit: 10 })).items.length, 0);
    }));

    it('writes no delivery when the event is rolled back', withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const doc = newApp(t.id, svc, 2000);
      const dup = createdEvent(doc);
      await assert.rejects(store.appendEvents([createdEvent(doc), { ...dup, event_id: uuid() }]), ConflictError);
      assert.deepEqual(await deliveriesOf(store, t.id), []);
      assert.deepEqual((await allEvents(store, t.id)).map((e) => e.type), ['service.created']);
    }));
  });
}
