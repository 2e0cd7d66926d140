/** Store contract, part one: tenants, API keys, services and applications. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeApplication } from '../../src/domain/application.js';
import { EVENT_TYPES } from '../../src/domain/events.js';
import { uuid } from '../../src/domain/ids.js';
import { ConflictError, DuplicateError, type NewEvent, type Store } from '../../src/store/index.js';
import { classifyAgainst, OUTDATED_SNAPSHOT_TYPE } from '../../src/domain/snapshot.js';
import {
  T0, allEvents, createdEvent, newApp, service, serviceEvent, snapshotEvent, messageEvent, tenant, transitionEvent, webhook,
  deliveriesOf, type StoreCase,
} from './fixtures.js';

export function entityCases(withStore: StoreCase): void {
  describe('tenants', () => {
    it('creates, reads and updates a tenant', withStore(async (store) => {
      const t = await store.createTenant({ id: uuid(), name: 'Comune di Bugliano', slug: 'bugliano', external_id: 'ext-1' });
      assert.equal(t.slug, 'bugliano');
      assert.equal(t.external_id, 'ext-1');
      assert.ok(t.created_at > 0 && t.updated_at >= t.created_at);
      assert.deepEqual(await store.getTenant(t.id), t);
      assert.deepEqual(await store.findTenantByExternalId('ext-1'), t);
      assert.equal(await store.findTenantByExternalId('ext-2'), null);
      assert.equal(await store.getTenant(uuid()), null);
      const u = await store.updateTenant(t.id, { name: 'Comune di Bugliano Alto' });
      assert.equal(u?.name, 'Comune di Bugliano Alto');
      assert.equal(u?.external_id, 'ext-1', 'a patch leaves other fields alone');
      assert.equal(await store.updateTenant(uuid(), { name: 'x' }), null);
    }));

    it('refuses a duplicate slug or external_id with DuplicateError naming the field', withStore(async (store) => {
      await store.createTenant({ id: uuid(), name: 'A', slug: 'same', external_id: 'ext-a' });
      const other = await store.createTenant({ id: uuid(), name: 'B', slug: 'other', external_id: null });
      await assert.rejects(store.createTenant({ id: uuid(), name: 'C', slug: 'same', external_id: null }),
        (e: unknown) => e instanceof DuplicateError && e.field === 'slug');
      await assert.rejects(store.createTenant({ id: uuid(), name: 'D', slug: 'fresh', external_id: 'ext-a' }),
        (e: unknown) => e instanceof DuplicateError && e.field === 'external_id');
      await assert.rejects(store.updateTenant(other.id, { external_id: 'ext-a' }),
        (e: unknown) => e instanceof DuplicateError && e.field === 'external_id');
      assert.equal((await store.listTenants({ limit: 100 })).items.length, 2, 'nothing written by refused creates');
      assert.equal((await store.getTenant(other.id))?.external_id, null);
    }));

    it('lists tenants in pages with opaque cursors', withStore(async (store) => {
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await tenant(store, `t${i}`)).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await store.listTenants({ limit: 2, cursor });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((t) => t.id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor);
      assert.deepEqual(seen, ids, 'every tenant once, in creation order');
      assert.equal(pages, 3);
      const exact = await store.listTenants({ limit: 5 });
      assert.equal(exact.next_cursor, null, 'no next page when the last page is exactly full');
    }));
  });

  describe('API keys', () => {
    it('creates, finds by hash, lists and revokes a key', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const key = await store.createApiKey({ id: 'key_1', tenant_id: t.id, name: 'ci', prefix: 'messo_abc', hash: 'h1' });
      assert.equal(key.revoked_at, null);
      const found = await store.findApiKeyByHash('h1');
      assert.equal(found?.id, 'key_1');
      assert.equal(found?.tenant_id, t.id);
      assert.ok(found?.last_used_at, 'a lookup marks the key used');
      assert.equal(await store.findApiKeyByHash('nope'), null);
      assert.deepEqual((await store.listApiKeys(t.id)).map((k) => k.id), ['key_1']);
      assert.deepEqual(await store.listApiKeys(other.id), []);
      assert.equal(await store.revokeApiKey(other.id, 'key_1'), null, "another tenant cannot revoke it");
      assert.ok(await store.findApiKeyByHash('h1'), 'still live');
      const revoked = await store.revokeApiKey(t.id, 'key_1');
      assert.ok(revoked?.revoked_at);
      assert.equal(await store.findApiKeyByHash('h1'), null, 'a revoked key is not found');
      assert.equal(await store.revokeApiKey(t.id, 'key_missing'), null);
    }));
  });

  describe('services', () => {
    it('creates and updates a service through its events, scoped to the tenant', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const s = await service(store, t.id, { slug: 'asilo', name: 'Asilo', group_name: 'Scuola' });
      assert.equal(s.slug, 'asilo');
      assert.equal(s.group_name, 'Scuola');
      assert.equal(s.status, 'active');
      assert.equal(await store.getService(other.id, s.id), null);
      const ev = serviceEvent(t.id, { ...s, name: 'Asilo nido', status: 'suspended' }, EVENT_TYPES.serviceUpdated);
      const [r] = await store.appendEvents([ev]);
      assert.equal(r.created, true);
      const updated = await store.getService(t.id, s.id);
      assert.equal(updated?.name, 'Asilo nido');
      assert.equal(updated?.status, 'suspended');
      assert.equal(updated?.created_at, s.created_at);
      assert.deepEqual((await store.listServices(t.id, { limit: 10 })).items.map((x) => x.id), [s.id]);
      assert.deepEqual((await store.listServices(other.id, { limit: 10 })).items, []);
      assert.equal((await allEvents(store, t.id)).length, 2);
    }));

    it("refuses a duplicate slug; another tenant's same service id is its own", withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const s = await service(store, t.id, { slug: 'asilo' });
      await assert.rejects(store.appendEvents([serviceEvent(t.id, { slug: 'asilo' })]),
        (e: unknown) => e instanceof DuplicateError && e.field === 'slug');
      // Ids belong to their tenant (issue 12, item 7): the same id is another service, untouched by A's.
      const [theirs] = await store.appendEvents([serviceEvent(other.id, { id: s.id, slug: 'asilo', name: 'Theirs' })]);
      assert.equal(theirs.created, true);
      assert.equal((await store.getService(t.id, s.id))?.name, s.name, "the first tenant's service is untouched");
      assert.equal((await store.getService(other.id, s.id))?.name, 'Theirs');
      assert.equal((await allEvents(store, t.id)).length, 1);
      assert.equal((await allEvents(store, other.id)).length, 1);
      assert.deepEqual((await store.listServices(other.id, { limit: 10 })).items.map((x) => x.tenant_id), [other.id]);
      const many = [];
      for (let i = 0; i < 3; i++) many.push((await service(store, t.id)).id);
      const first = await store.listServices(t.id, { limit: 2 });
      const second = await store.listServices(t.id, { limit: 2, cursor: first.next_cursor });
      assert.deepEqual([...first.items, ...second.items].map((x) => x.id), [s.id, ...many]);
      assert.equal(second.next_cursor, null);
    }));
  });

  describe('applications', () => {
    it('creates strictly, updates with the expected version, and refuses a second create', withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      const doc = newApp(t.id, svc, 2000);
      const [r] = await store.appendEvents([createdEvent(doc)]);
      assert.equal(r.created, true);
      assert.equal(r.projected, true);
      const row = await store.getApplication(t.id, doc.id);
      assert.ok(row);
      assert.equal(row.version, 1);
      assert.equal(row.status, 2000);
      assert.equal(row.service_id, svc.id);
      assert.deepEqual(row.doc, doc);
      assert.equal(row.last_event_seq, r.event.seq);
      const move = transitionEvent(doc, 4000, 1, T0 + 60_000);
      await store.appendEvents([move.event]);
      const moved = await store.getApplication(t.id, doc.id);
      assert.equal(moved?.version, 2);
      assert.equal(moved?.status, 4000);
      assert.deepEqual(moved?.doc, move.doc);
      await assert.rejects(store.appendEvents([createdEvent(doc)]), ConflictError);
      assert.equal((await allEvents(store, t.id)).filter((e) => e.subject === doc.id).length, 2);
    }));

    it('refuses a stale expected version with ConflictError and writes nothing', withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const doc = newApp(t.id, svc, 2000);
      await store.appendEvents([createdEvent(doc)]);
      await store.appendEvents([transitionEvent(doc, 4000, 1, T0 + 1000).event]);
      const before = await allEvents(store, t.id);
      const deliveriesBefore = await deliveriesOf(store, t.id);
      const stale = transitionEvent(doc, 3000, 1, T0 + 2000);
      await assert.rejects(store.appendEvents([stale.event]), ConflictError);
      assert.deepEqual(await allEvents(store, t.id), before, 'no event recorded');
      assert.equal((await deliveriesOf(store, t.id)).length, deliveriesBefore.length, 'no delivery queued');
      assert.equal(await store.getEvent(t.id, stale.event.event_id), null);
      const row = await store.getApplication(t.id, doc.id);
      assert.equal(row?.status, 4000);
      assert.equal(row?.version, 2);
    }));

    it("applies 'newer' snapshots by event time and ignores older ones", withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      const base = normalizeApplication({ id: uuid(), tenant: t.id, service_id: svc.id, status: 2000, subject: 'v1' });
      const [first] = await store.appendEvents([snapshotEvent(t.id, base, T0 + 10_000, EVENT_TYPES.applicationCreated)]);
      assert.equal(first.projected, true);
      assert.equal((await store.getApplication(t.id, base.id))?.version, 1);
      const newer = { ...base, status: 4000, status_name: 'status_pending', subject: 'v2' };
      const secondEvent = snapshotEvent(t.id, newer, T0 + 20_000, EVENT_TYPES.applicationStatusChanged);
      const [second] = await store.appendEvents([secondEvent]);
      assert.equal(second.projected, true);
      // A repeat of its event_id is the same event: a later document in it moves nothing.
      const repeat = { ...base, status: 7000, status_name: 'status_complete', subject: 'repeat' };
      const [again] = await store.appendEvents([{ ...snapshotEvent(t.id, repeat, T0 + 30_000), event_id: secondEvent.event_id }]);
      assert.deepEqual([again.created, again.projected, again.event.seq], [false, false, second.event.seq]);
      const older = { ...base, status: 3000, status_name: 'status_registered', subject: 'late' };
      const [third] = await store.appendEvents([snapshotEvent(t.id, older, T0 + 15_000)]);
      assert.equal(third.created, true, 'the late event is still recorded in the log');
      assert.equal(third.projected, false, 'but does not move the projection back');
      const row = await store.getApplication(t.id, base.id);
      assert.equal(row?.status, 4000);
      assert.equal(row?.doc.subject, 'v2');
      assert.equal(row?.version, 2);
      assert.equal(row?.last_event_at, T0 + 20_000);
      assert.deepEqual(await store.replayApplication(t.id, base.id), row?.doc, 'the replay skips the late snapshot too');
      assert.equal((await allEvents(store, t.id)).filter((e) => e.subject === base.id).length, 3);
    }));

    it('classifies a snapshot in its own transaction, against the events before it', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const id = uuid();
      const doc = (status: number, subject: string) => normalizeApplication({ id, tenant: t.id, service_id: svc.id, status, subject });
      /** Each classification's prior, as the store gave it: [status, at] or null. */
      const priors: ([unknown, number] | null)[] = [];
      const classified = (d: ReturnType<typeof doc>, at: number, tenantId = t.id): NewEvent => ({
        ...snapshotEvent(tenantId, d, at, 'application.snapshot'),
        classify: (prior) => {
          priors.push(prior && [prior.doc.status, prior.at]);
          return classifyAgainst(prior, d, at);
        },
      });
      // A batch: each snapshot sees the one before it in the same transaction.
      const batch = await store.appendEvents([classified(doc(2000, 'a'), T0 + 1000), classified(doc(4000, 'b'), T0 + 2000)]);
      assert.deepEqual(batch.map((r) => r.event.type), [EVENT_TYPES.applicationCreated, EVENT_TYPES.applicationStatusChanged]);
      assert.deepEqual(batch[1].event.data, { application: doc(4000, 'b'), from: 2000, to: 4000, message: null });
      // Single posts at once, one group: each sees the one before it, a late one is outdated.
      const posts = await Promise.all([
        store.appendEvents([classified(doc(4000, 'c'), T0 + 3000)]),
        store.appendEvents([classified(doc(7000, 'd'), T0 + 5000)]),
        store.appendEvents([classified(doc(5000, 'late'), T0 + 4000)]),
        // Another tenant's pratica of the same id is its own: created.
        store.appendEvents([classified(normalizeApplication({ id, tenant: other.id, service_id: svc.id, status: 2000 }), T0, other.id)]),
      ]);
      assert.deepEqual(posts.map(([r]) => r.event.type),
        [EVENT_TYPES.applicationUpdated, EVENT_TYPES.applicationStatusChanged, OUTDATED_SNAPSHOT_TYPE, EVENT_TYPES.applicationCreated]);
      assert.deepEqual(posts.map(([r]) => r.projected), [true, true, false, true]);
      assert.deepEqual(priors, [null, [2000, T0 + 1000], [4000, T0 + 2000], [4000, T0 + 3000], [7000, T0 + 5000], null]);
      assert.equal((await store.getApplication(t.id, id))?.doc.subject, 'd');
      // A repeat of an event_id is classified, then written not at all.
      const repeat = { ...classified(doc(9000, 'again'), T0 + 9000), event_id: batch[0].event.event_id };
      const [again] = await store.appendEvents([repeat]);
      assert.deepEqual([again.created, again.event.type], [false, EVENT_TYPES.applicationCreated]);
      assert.equal((await store.getApplication(t.id, id))?.doc.subject, 'd');
      assert.equal((await deliveriesOf(store, t.id)).length, 3, 'created, 2000 → 4000 and 4000 → 7000 fire; the update and the late one do not');
    }));

    it('writes a group of single snapshots as the posts came, however many go in one statement', withStore(async (store) => {
      // On PostgreSQL the first snapshots of a group, of distinct pratiche, go in as one
      // statement (outbox.ts, insertAhead); the rest, and every event on SQLite, one by one.
      const t = await tenant(store);
      const svc = await service(store, t.id);
      await webhook(store, t.id, { trigger: 'all' });
      const doc = (id: string, status: number, subject: string) => normalizeApplication({ id, tenant: t.id, service_id: svc.id, status, subject });
      const classified = (d: ReturnType<typeof doc>, at: number): NewEvent => ({
        ...snapshotEvent(t.id, d, at, 'application.snapshot'), classify: (prior) => classifyAgainst(prior, d, at),
      });
      const [p1, p2, p3, p4] = [uuid(), uuid(), uuid(), uuid()];
      const [before] = await store.appendEvents([classified(doc(p2, 2000, 'p2 first'), T0 + 1000)]);
      const posts = await Promise.all([
        store.appendEvents([classified(doc(p1, 2000, 'p1 first'), T0 + 1000)]),
        store.appendEvents([classified(doc(p2, 4000, 'p2 second'), T0 + 2000)]),
        // A snapshot whose sender set its type: written as it came.
        store.appendEvents([snapshotEvent(t.id, doc(p3, 1900, 'p3 only'), T0 + 1000, EVENT_TYPES.applicationCreated)]),
        // An event_id the tenant used already: answered with that event, nothing written.
        store.appendEvents([{ ...classified(doc(p4, 2000, 'p4 never'), T0 + 1000), event_id: before.event.event_id }]),
        // A second snapshot of a pratica of this group: judged against the first one.
        store.appendEvents([classified(doc(p1, 4000, 'p1 second'), T0 + 3000)]),
        // Older than p2's second: outdated, the pratica stays.
        store.appendEvents([classified(doc(p2, 7000, 'p2 late'), T0 + 1500)]),
      ]);
      const rs = posts.map(([r]) => r);
      assert.deepEqual(rs.map((r) => r.event.type), [EVENT_TYPES.applicationCreated, EVENT_TYPES.applicationStatusChanged,
        EVENT_TYPES.applicationCreated, EVENT_TYPES.applicationCreated, EVENT_TYPES.applicationStatusChanged, OUTDATED_SNAPSHOT_TYPE]);
      assert.deepEqual(rs.map((r) => [r.created, r.projected]), [[true, true], [true, true], [true, true], [false, false], [true, true], [true, false]]);
      assert.deepEqual(rs[3].event, before.event, 'the repeat is answered with the event it repeats');
      assert.deepEqual(rs[1].event.data, { application: doc(p2, 4000, 'p2 second'), from: 2000, to: 4000, message: null });
      assert.deepEqual(rs[4].event.data, { application: doc(p1, 4000, 'p1 second'), from: 2000, to: 4000, message: null });
      const written = rs.filter((r) => r.created);
      const seqs = written.map((r) => r.event.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'the log keeps the order the posts came in');
      assert.ok(seqs[0] > before.event.seq);
      for (const r of written) assert.deepEqual(await store.getEvent(t.id, r.event.event_id), r.event, 'each event as answered');
      const state = async (id: string) => {
        const a = await store.getApplication(t.id, id);
        return a && [a.status, a.version, a.doc.subject, a.last_event_at];
      };
      assert.deepEqual(await state(p1), [4000, 2, 'p1 second', T0 + 3000]);
      assert.deepEqual(await state(p2), [4000, 2, 'p2 second', T0 + 2000]);
      assert.deepEqual(await state(p3), [1900, 1, 'p3 only', T0 + 1000]);
      assert.equal(await state(p4), null, 'a repeated event projects nothing');
      const found = async (q: string) => (await store.listApplications(t.id, { q }, { limit: 10 })).items.map((a) => a.id);
      assert.deepEqual(await found('p3'), [p3], 'a pratica made in the group is searchable');
      assert.deepEqual(await found('second'), [p2, p1], 'and one moved in it by its new words');
      assert.equal((await deliveriesOf(store, t.id)).length, 1 + rs.reduce((n, r) => n + r.deliveries, 0));
      assert.deepEqual(rs.map((r) => r.deliveries), [1, 1, 1, 0, 1, 0], 'created and status changes fire; the repeat and the late one do not');
      // A batch of 70 pratiche goes in over several statements (32 a statement): each once, in order.
      const many = Array.from({ length: 70 }, (_, i) => classified(doc(uuid(), 2000, `batch ${i}`), T0 + 1000));
      const batch = await store.appendEvents(many);
      assert.ok(batch.every((r) => r.created && r.projected && r.event.type === EVENT_TYPES.applicationCreated));
      assert.deepEqual(batch.map((r) => r.event.event_id), many.map((e) => e.event_id));
      assert.ok(batch.every((r, i) => i === 0 || r.event.seq > batch[i - 1].event.seq), 'the log keeps the batch order');
      for (const [i, e] of many.entries()) assert.deepEqual(await state(String(e.subject)), [2000, 1, `batch ${i}`, T0 + 1000]);
    }));

    it("keeps the same application id of two tenants apart in every mode", withStore(async (store) => {
      const a = await tenant(store);
      const b = await tenant(store);
      const svcA = await service(store, a.id);
      const svcB = await service(store, b.id);
      const doc = newApp(a.id, svcA, 2000);
      await store.appendEvents([createdEvent(doc)]);
      const theirs = normalizeApplication({ ...doc, tenant: b.id, service_id: svcB.id, subject: 'theirs' });
      // B cannot move A's application: B has no application with this id yet.
      await assert.rejects(store.appendEvents([transitionEvent(theirs, 4000, 1, T0 + 99_000).event]), ConflictError);
      const [created] = await store.appendEvents([createdEvent(theirs)]);
      assert.equal(created.projected, true, "B's strict create of the same id is B's own application");
      const later = normalizeApplication({ ...theirs, subject: 'theirs, later' });
      const [snap] = await store.appendEvents([snapshotEvent(b.id, later, T0 + 99_000)]);
      assert.equal(snap.projected, true);
      assert.deepEqual((await store.getApplication(a.id, doc.id))?.doc, doc, "the first tenant's application is untouched");
      assert.equal((await store.getApplication(b.id, doc.id))?.doc.subject, 'theirs, later');
      assert.equal((await store.getApplication(b.id, doc.id))?.version, 2);
      assert.deepEqual((await store.listApplications(a.id, {}, { limit: 10 })).items.map((r) => r.doc.subject), [doc.subject]);
      assert.deepEqual(await store.replayApplication(a.id, doc.id), doc, "a replay reads the tenant's own events only");
    }));

    it('lists applications with filters and cursor pagination', withStore(async (store) => {
      const t = await tenant(store);
      const other = await tenant(store);
      const s1 = await service(store, t.id);
      const s2 = await service(store, t.id);
      const docs = [newApp(t.id, s1, 2000), newApp(t.id, s2, 1000), newApp(t.id, s1, 1900)];
      for (const d of docs) await store.appendEvents([createdEvent(d)]);
      await store.appendEvents([createdEvent(newApp(other.id, await service(store, other.id), 2000))]);
      const ids = async (filter: Parameters<Store['listApplications']>[1]) =>
        (await store.listApplications(t.id, filter, { limit: 50 })).items.map((r) => r.id);
      assert.deepEqual(await ids({}), docs.map((d) => d.id));
      assert.deepEqual(await ids({ status: 2000 }), [docs[0].id]);
      assert.deepEqual(await ids({ service_id: s1.id }), [docs[0].id, docs[2].id]);
      assert.deepEqual(await ids({ updated_since: Date.now() + 3_600_000 }), []);
      const p1 = await store.listApplications(t.id, {}, { limit: 2 });
      const p2 = await store.listApplications(t.id, {}, { limit: 2, cursor: p1.next_cursor });
      assert.deepEqual([...p1.items, ...p2.items].map((r) => r.id), docs.map((d) => d.id));
      assert.equal(p2.next_cursor, null);
    }));

    it('replays an application from its events to the same document as the projection', withStore(async (store) => {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      let doc = newApp(t.id, svc, 1900);
      await store.appendEvents([createdEvent(doc)]);
      let version = 1;
      for (const [i, to] of [2000, 4000, 4100, 4200, 4300, 4000, 7000].entries()) {
        const m = transitionEvent(doc, to, version, T0 + (i + 1) * 1000);
        await store.appendEvents([m.event]);
        doc = m.doc;
        version++;
      }
      await store.appendEvents([messageEvent(t.id, doc.id, svc.id, T0 + 9000)]);
      const row = await store.getApplication(t.id, doc.id);
      assert.equal(row?.version, 8);
      assert.deepEqual(await store.replayApplication(t.id, doc.id), row?.doc);
      assert.equal((await store.replayApplication(t.id, doc.id))?.status, 7000);
      const other = await tenant(store);
      assert.equal(await store.replayApplication(other.id, doc.id), null);
      assert.equal(await store.replayApplication(t.id, uuid()), null);
    }));
  });

}
