/**
 * The pratiche search index on both stores: kept with every projection change (a new subject
 * replaces the old words), prefix ranges, tenants apart, and pratiche projected before the index
 * existed (migrations 140, 160) indexed when the store starts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlStore, type Store } from '../src/store/index.js';
import { createdEvent, newApp, service, tenant, transitionEvent } from './store-contract/fixtures.js';
import { freshPgStore, freshSqliteStore, type OwnStore } from './stores.js';
import { pgSkip } from './pg.js';
import { searchKey } from '../src/store/search.js';

const ids = async (store: Store, tenantId: string, q: string) =>
  (await store.listApplications(tenantId, { q, order: 'desc' }, { limit: 50 })).items.map((a) => a.id);

/**
 * The words the index holds for a pratica, and the terms its own row keeps: the two must agree.
 * The index has one row per pratica, keyed by the row's terms_seq (store/search.ts); SQLite's
 * FTS5 table lists its words through an fts5vocab table, PostgreSQL's tsvector as an array.
 */
async function indexed(store: Store, tenantId: string, id: string): Promise<{ rows: string[]; row: string[] }> {
  const db = (store as SqlStore).database;
  const [app] = await db.query<{ terms: string; terms_seq: number }>('SELECT terms, terms_seq FROM applications WHERE tenant_id = ? AND id = ?', [tenantId, id]);
  const sqlite = db.dialect === 'sqlite';
  const docs = await db.query<{ seq: number }>(`SELECT ${sqlite ? 'rowid' : 'terms_seq'} AS seq FROM application_search WHERE application_id = ?`, [id]);
  assert.deepEqual(docs.map((d) => Number(d.seq)), [Number(app.terms_seq)], 'one row of the index per pratica, at its terms_seq');
  let words: string[];
  if (sqlite) {
    await db.execute(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, application_search, 'instance')`);
    words = (await db.query<{ term: string }>('SELECT term FROM temp.search_vocab WHERE doc = ?', [app.terms_seq])).map((w) => w.term);
  } else {
    const [row] = await db.query<{ words: string[] }>('SELECT tsvector_to_array(terms) AS words FROM application_search WHERE terms_seq = ?', [app.terms_seq]);
    words = row.words;
  }
  const key = searchKey(tenantId);
  assert.ok(words.every((w) => w.startsWith(key)), 'every word under its tenant\'s key');
  return { rows: words.map((w) => w.slice(key.length)).sort(), row: app.terms.split(' ').sort() };
}

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
      const kept = await indexed(store, t.id, doc.id);
      assert.deepEqual(kept.rows, kept.row, 'the old rows went: the index holds the pratica\'s terms, no more');
      assert.ok(kept.rows.includes('affitto'));
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
      for (const id of [doc.id, other.id]) {
        const kept = await indexed(store, t.id, id);
        assert.deepEqual(kept.rows, kept.row, 'one row per term, once');
      }
    } finally {
      await cleanup();
    }
  });

  it('indexes pratiche projected before the index at start', async () => {
    const { store, cleanup } = await open();
    try {
      const t = await tenant(store);
      const svc = await service(store, t.id);
      const doc = newApp(t.id, svc, 1900);
      await store.appendEvents([createdEvent(doc)]);
      const db = (store as SqlStore).database;
      // As a database upgraded past migration 140 from before it finds itself: pratiche, no words.
      await db.execute('DELETE FROM application_search');
      await db.execute('UPDATE applications SET terms = NULL, terms_seq = NULL');
      assert.deepEqual(await ids(store, t.id, 'rossi'), []);
      await store.migrate();
      assert.deepEqual(await ids(store, t.id, 'rossi'), [doc.id]);
      const left = await db.query<{ n: number }>('SELECT count(*) AS n FROM applications WHERE terms IS NULL');
      assert.equal(Number(left[0].n), 0, 'every pratica indexed: a later start finds none to do');
    } finally {
      await cleanup();
    }
  });
}

describe('search index on SQLite', () => cases(() => freshSqliteStore()));
describe('search index on PostgreSQL', { skip: await pgSkip() }, () => cases(() => freshPgStore()));
