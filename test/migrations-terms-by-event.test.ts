/**
 * Migration 160 (a word's search rows keyed by the event that wrote them, a pratica's terms on
 * its row) on an installation that already holds pratiche and their terms, on both stores:
 * every row is kept, with the seq of its pratica's last event, each pratica's row gets its
 * terms, one never indexed is left for the start's backfill, and search finds as before, also
 * past the later migrations (210 moves it into each store's index of a row per pratica).
 */
import assert from 'node:assert/strict';
import type { Db } from '../src/store/db.js';
import { migrate, type Migration } from '../src/store/migrations/index.js';
import { onBothDatabases } from './stores.js';
import { searchCondition } from '../src/store/search.js';

async function check(db: Db, migrations: Migration[]): Promise<void> {
  await migrate(db, migrations.filter((m) => m.id < 160));
  // A second tenant whose id starts with the first's: its words stay its own.
  for (const t of ['ta', 'tab']) await db.execute(`INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, 1, 1)`, [t, t, t]);
  for (const [id, seq, tenant] of [['a1', 7, 'ta'], ['a2', 9, 'ta'], ['a3', 11, 'ta'], ['b1', 12, 'tab']] as const) {
    await db.execute(`INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
      VALUES (?, ?, 's1', 2000, '{}', 1, 1, 1, ?, 1)`, [id, tenant, seq]);
  }
  for (const [term, app, tenant] of [['mario', 'a1', 'ta'], ['rossi', 'a1', 'ta'], ['mario', 'a2', 'ta'], ['verdi', 'a2', 'ta'], ['mario', 'b1', 'tab']]) {
    await db.execute(`INSERT INTO application_terms (tenant_id, term, application_id) VALUES (?, ?, ?)`, [tenant, term, app]);
  }
  assert.deepEqual(await migrate(db, migrations.filter((m) => m.id <= 160)), [160]);
  assert.deepEqual(
    (await db.query<{ term: string; event_seq: number; application_id: string }>(
      'SELECT term, event_seq, application_id FROM application_terms ORDER BY tenant_id, term, event_seq, application_id',
    )).map((r) => [r.term, Number(r.event_seq), r.application_id]),
    [['mario', 7, 'a1'], ['mario', 9, 'a2'], ['rossi', 7, 'a1'], ['verdi', 9, 'a2'], ['mario', 12, 'b1']],
  );
  assert.deepEqual(
    (await db.query<{ id: string; terms: string | null; terms_seq: number | null }>('SELECT id, terms, terms_seq FROM applications ORDER BY id'))
      .map((r) => [r.id, r.terms?.split(' ').sort().join(' ') ?? null, r.terms_seq === null ? null : Number(r.terms_seq)]),
    [['a1', 'mario rossi', 7], ['a2', 'mario verdi', 9], ['a3', null, null], ['b1', 'mario', 12]],
  );
  assert.deepEqual((await db.query<{ id: string }>('SELECT id FROM applications WHERE terms IS NULL')).map((r) => r.id), ['a3']);
  // On to the last migration (210: a row per pratica, in FTS5 or under GIN).
  await migrate(db, migrations);
  const found = async (q: string, tenant = 'ta') => {
    const c = searchCondition(db.dialect, 'id', tenant, q)!;
    // No tenant filter of its own: the condition alone keeps the tenants apart.
    return (await db.query<{ id: string }>(`SELECT id FROM applications WHERE ${c.sql} ORDER BY id`, c.params)).map((r) => r.id);
  };
  assert.deepEqual(await found('mar'), ['a1', 'a2']);
  assert.deepEqual(await found('mario ver'), ['a2']);
  assert.deepEqual(await found('mar', 'tab'), ['b1']);
  assert.deepEqual(await found('ross', 'tab'), []);
}

await onBothDatabases("migration 160 keeps every search term, keyed by its pratica's last event", check);
