/**
 * The Store contract: one suite of behaviours every Store implementation must show, run by
 * test/store-sqlite.test.ts and (later) by the PostgreSQL suite. It talks to the Store
 * interface only, never to SQL, so it stays dialect-neutral. Every case opens its own store
 * (a fresh file or schema) and cleans it up, so cases are independent and may run in any order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyTransition, createApplication, normalizeApplication, type ApplicationDoc } from '../domain/application.js';
import { EVENT_TYPES } from '../domain/events.js';
import { uuid } from '../domain/ids.js';
import { renderPayload } from '../domain/payload.js';
import { ConflictError, DuplicateError, type Store } from './store.js';
import type { NewEvent, Service, WebhookInput } from './types.js';

export type OpenStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

/** 2025-11-20T10:00:00Z: a fixed origin so event times are chosen, not read from the clock. */
const T0 = Date.UTC(2025, 10, 20, 10, 0, 0);

export function storeContract(name: string, open: OpenStore): void {
  /** Runs one case on a store of its own, cleaned up whatever happens. */
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const { store, cleanup } = await open();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  };

  async function tenant(store: Store, slug = `t-${uuid().slice(0, 8)}`) {
    return store.createTenant({ id: uuid(), name: `Comune ${slug}`, slug, external_id: null });
  }

  function serviceEvent(tenantId: string, s: Partial<Service> & { id?: string } = {}, type: string = EVENT_TYPES.serviceCreated): NewEvent {
    const service = {
      id: s.id ?? uuid(), tenant_id: tenantId, slug: s.slug ?? `svc-${uuid().slice(0, 8)}`, name: s.name ?? 'Iscrizione asilo nido',
      group_name: s.group_name ?? null, description: s.description ?? null, status: s.status ?? 'active',
    } as const;
    return {
      event_id: uuid(), type, tenant_id: tenantId, subject: service.id, event_version: 1, event_created_at: T0,
      app_id: 'test', data: { service }, projection: { kind: 'service', service },
    };
  }

  async function service(store: Store, tenantId: string, s: Partial<Service> = {}): Promise<Service> {
    const ev = serviceEvent(tenantId, s);
    await store.appendEvents([ev]);
    const got = await store.getService(tenantId, ev.subject!);
    assert.ok(got, 'the service projection exists after its event');
    return got;
  }

  function newApp(tenantId: string, svc: Service, status = 2000, at = T0, id = uuid()): ApplicationDoc {
    return createApplication({
      id, tenantId, status, nowMs: at, fields: { subject: 'Iscrizione - Mario Rossi', data: { 'applicant.data.name': 'Mario' } },
      service: { id: svc.id, slug: svc.slug, name: svc.name, group_name: svc.group_name },
    });
  }

  function createdEvent(doc: ApplicationDoc, at = T0): NewEvent {
    return {
      event_id: uuid(), type: EVENT_TYPES.applicationCreated, tenant_id: doc.tenant, subject: doc.id, event_version: 1,
      event_created_at: at, app_id: 'test', data: { application: doc },
      projection: { kind: 'application', doc, mode: 'strict', expectedVersion: null },
    };
  }

  function transitionEvent(doc: ApplicationDoc, to: number, expectedVersion: number, at: number): { event: NewEvent; doc: ApplicationDoc } {
    const next = applyTransition(doc, { to, nowMs: at });
    return {
      doc: next,
      event: {
        event_id: uuid(), type: EVENT_TYPES.applicationStatusChanged, tenant_id: doc.tenant, subject: doc.id, event_version: 1,
        event_created_at: at, app_id: 'test', data: { application: next, from: doc.status, to, message: null },
        projection: { kind: 'application', doc: next, mode: 'strict', expectedVersion },
      },
    };
  }

  function snapshotEvent(tenantId: string, doc: ApplicationDoc, at: number, type: string = EVENT_TYPES.applicationUpdated): NewEvent {
    return {
      event_id: uuid(), type, tenant_id: tenantId, subject: doc.id, event_version: 1, event_created_at: at,
      app_id: 'core:2.15.0', data: { application: doc }, projection: { kind: 'application', doc, mode: 'newer' },
    };
  }

  function messageEvent(tenantId: string, applicationId: string, serviceId: string, at = T0): NewEvent {
    return {
      event_id: uuid(), type: EVENT_TYPES.messageCreated, tenant_id: tenantId, subject: applicationId, event_version: 1,
      event_created_at: at, app_id: 'test',
      data: { message: { id: uuid(), message: 'Serve un documento', application: applicationId }, service_id: serviceId },
    };
  }

  function webhookInput(w: Partial<WebhookInput> = {}): WebhookInput {
    return {
      title: 'Protocollo', description: null, endpoint: 'http://127.0.0.1:9/hook', method: 'POST', trigger: 'all', events: [],
      filters: 'all', headers: {}, version: 1, format: 'opencity', active: true, ordering: 'none', max_concurrency: null,
      rate_limit: null, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ...w,
    };
  }

  async function webhook(store: Store, tenantId: string, w: Partial<WebhookInput> = {}) {
    return store.createWebhook({ ...webhookInput(w), id: `wh_${uuid().slice(0, 12)}`, tenant_id: tenantId });
  }

  async function allEvents(store: Store, tenantId: string) {
    return (await store.listEvents(tenantId, {}, { limit: 500 })).items;
  }

  async function deliveriesOf(store: Store, tenantId: string, eventId?: string) {
    return (await store.listDeliveries(tenantId, eventId ? { event_id: eventId } : {}, { limit: 500 })).items;
  }

  describe(`Store contract: ${name}`, () => {
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

      it("refuses a duplicate slug and another tenant's service id, writing nothing", withStore(async (store) => {
        const t = await tenant(store);
        const other = await tenant(store);
        const s = await service(store, t.id, { slug: 'asilo' });
        await assert.rejects(store.appendEvents([serviceEvent(t.id, { slug: 'asilo' })]),
          (e: unknown) => e instanceof DuplicateError && e.field === 'slug');
        await assert.rejects(store.appendEvents([serviceEvent(other.id, { id: s.id, slug: 'hijack' })]), DuplicateError);
        assert.equal((await store.getService(t.id, s.id))?.slug, 'asilo');
        assert.equal(await store.getService(other.id, s.id), null);
        assert.equal((await allEvents(store, t.id)).length, 1);
        assert.equal((await allEvents(store, other.id)).length, 0);
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
        const [second] = await store.appendEvents([snapshotEvent(t.id, newer, T0 + 20_000, EVENT_TYPES.applicationStatusChanged)]);
        assert.equal(second.projected, true);
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

      it("refuses another tenant's application id in every mode", withStore(async (store) => {
        const a = await tenant(store);
        const b = await tenant(store);
        const svcA = await service(store, a.id);
        const svcB = await service(store, b.id);
        const doc = newApp(a.id, svcA, 2000);
        await store.appendEvents([createdEvent(doc)]);
        const theirs = normalizeApplication({ ...doc, tenant: b.id, service_id: svcB.id, subject: 'hijacked' });
        await assert.rejects(store.appendEvents([snapshotEvent(b.id, theirs, T0 + 99_000)]));
        await assert.rejects(store.appendEvents([createdEvent(theirs)]));
        await assert.rejects(store.appendEvents([transitionEvent(theirs, 4000, 1, T0 + 99_000).event]));
        assert.deepEqual((await store.getApplication(a.id, doc.id))?.doc, doc, "the owner's application is untouched");
        assert.equal(await store.getApplication(b.id, doc.id), null);
        assert.deepEqual(await allEvents(store, b.id).then((es) => es.filter((e) => e.subject === doc.id)), []);
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
        const other = await tenant(store);
        await assert.rejects(store.appendEvents([{ ...ev, tenant_id: other.id, projection: undefined }]), DuplicateError,
          "another tenant's event_id is neither revealed nor reused");
        assert.deepEqual(await allEvents(store, other.id), []);
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
        assert.equal(off?.disabled_reason, 'manual');
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
        assert.equal(body.status, 2000);
        assert.equal(body.id, doc.id);
        assert.deepEqual(body.data, doc.data, 'version 2: nested data');
        const ev = (await store.listEvents(t.id, { subject: doc.id }, { limit: 1 })).items[0];
        assert.equal(created.find((d) => d.webhook_id === hooks.on2000.id)!.body, renderPayload(ev, { format: 'opencity', version: 2 }).body);
        assert.equal(created.find((d) => d.webhook_id === hooks.byPrefix.id)!.content_type, 'application/cloudevents+json');

        const moved = await firedBy(transitionEvent(doc, 4000, 1, T0 + 1000).event);
        assert.deepEqual(moved.map((d) => name(d.webhook_id)).sort(), ['all', 'byPrefix', 'byType', 'on4000']);
        const frozen = (await deliveriesOf(store, t.id, created[0].event_id)).map((d) => d.body);
        assert.deepEqual(frozen, created.map((d) => d.body), 'a later change does not rewrite queued bodies');
        assert.equal(JSON.parse(created.find((d) => d.webhook_id === hooks.all.id)!.body).status, 2000);

        const msg = await firedBy(messageEvent(t.id, doc.id, s1.id));
        assert.deepEqual(msg.map((d) => name(d.webhook_id)), ['messages']);

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
  });
}
