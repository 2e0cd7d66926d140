/**
 * The pratiche search index on both stores: kept with every projection change (a new subject
 * replaces the old words), prefix ranges, tenants apart, and pratiche projected before the index
 * existed (migration 140) indexed once when the store starts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlStore, type Store } from '../src/store/index.js';
import { createdEvent, newApp, service, tenant, transitionEvent } from './store-contract/fixtures.js';
import { freshPgStore, freshSqliteStore, type OwnStore } from './stores.js';
import { pgSkip } from './pg.js';

const ids = async (store: Store, tenantId: string, q: string) =>
  (await store.listApplications(tenantId, { q, order: 'desc' }, { limit: 50 })).items.map((a) => a.id);

function cases(open: () => Promise<OwnStore>) {
  it('finds by prefix, follows changes, keeps tenants apart', async () => {
    const { store, cleanup } = await open();
    try {
      const t = await tenant(store);
      const other = await tenant(store);
      const svc = await service(store, t.id);
      const otherSvc = await service(store, other.id);
      const doc = newApp(t.id, svc, 1900);
      await store.appendEvents([createdEvent(doc)]);
      await store.appendEvents([createdEvent(newApp(other.id, otherSvc, 1900))]);
      assert.deepEqual(await ids(store, t.id, 'iscriz ROSS'), [doc.id], 'prefixes of the subject, any case');
      assert.deepEqual(await ids(store, t.id, doc.id.slice(0, 8)), [doc.id], 'the short id');
      assert.deepEqual(await ids(store, t.id, doc.id.toUpperCase()), [doc.id], 'the whole id, matched on the id');
      assert.deepEqual(await ids(store, t.id, doc.id.split('-')[1]), [], 'not by a middle part of it');
      const moved = transitionEvent({ ...doc, subject: 'Contributo affitto', protocol_number: 'PG/2026/7' }, 2000, 1, Date.now());
      await store.appendEvents([moved.event]);
      assert.deepEqual(await ids(store, t.id, 'rossi'), [], 'the old subject\'s words are gone');
      assert.deepEqual(await ids(store, t.id, 'affitto 2026'), [doc.id], 'the new subject and protocol number');
      assert.equal((await ids(store, other.id, 'affitto')).length, 0, 'another tenant finds nothing of it');
    } finally {
      await cleanup();
    }
  });

  it('a pratica changed several times in one transaction ends with its last words', async () => {
    const { store, cleanup } = await open();
    try {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      // Created and moved twice in one batch: the terms are written once, at the end.
      const doc = newApp(t.id, svc, 1900);
      const a = transitionEvent({ ...doc, subject: 'Contributo affitto' }, 2000, 1, Date.now());
      const b = transitionEvent({ ...a.doc, subject: 'Bonus energia' }, 4000, 2, Date.now());
      await store.appendEvents([createdEvent(doc), a.event, b.event]);
      assert.deepEqual(await ids(store, t.id, 'energia'), [doc.id]);
      assert.deepEqual(await ids(store, t.id, 'affitto'), []);
      assert.deepEqual(await ids(store, t.id, 'rossi'), []);
      // Stored words, changed and changed back in one batch: the stored ones are replaced, once.
      const other = newApp(t.id, svc, 1900);
      await store.appendEvents([createdEvent(other)]);
      const c = transitionEvent({ ...other, subject: 'Mensa scolastica' }, 2000, 1, Date.now());
      const d = transitionEvent({ ...c.doc, subject: other.subject }, 4000, 2, Date.now());
      await store.appendEvents([c.event, d.event]);
      assert.deepEqual(await ids(store, t.id, 'rossi'), [other.id]);
      assert.deepEqual(await ids(store, t.id, 'mensa'), []);
    } finally {
      await cleanup();
    }
  });

  it('indexes pratiche projected before the index, once, at start', async () => {
    const { store, cleanup } = await open();
    try {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      const doc = newApp(t.id, svc, 1900);
      await store.appendEvents([createdEvent(doc)]);
      const db = (store as SqlStore).database;
      // As a database upgraded to migration 140 finds itself: pratiche, no words, no mark.
      await db.execute('DELETE FROM application_terms');
      await db.execute("DELETE FROM settings WHERE key = 'search_backfilled'");
      assert.deepEqual(await ids(store, t.id, 'rossi'), []);
      await store.migrate();
      assert.deepEqual(await ids(store, t.id, 'rossi'), [doc.id]);
      assert.ok(await store.getSetting('search_backfilled'), 'marked done: later starts skip it');
    } finally {
      await cleanup();
    }
  });
}

describe('search index on SQLite', () => cases(() => freshSqliteStore()));
describe('search index on PostgreSQL', { skip: await pgSkip() }, () => cases(() => freshPgStore()));
