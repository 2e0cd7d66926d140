/**
 * The search index of pratiche (domain/search.ts says what is indexed): written with every
 * projection change, read as one prefix match of the query's words.
 *
 * One row per pratica (application_search, migration 210): keyed by the seq of the event that
 * wrote its terms (applications.terms_seq: an event projects one pratica, and seqs are never
 * reused), with the pratica's id, and its words each prefixed with the tenant's key (searchKey),
 * so that a tenant's query reads its own words only. SQLite keeps it in FTS5 (contentless, its
 * rowid the seq), PostgreSQL in a tsvector under a GIN index. Both write what a transaction adds
 * in one place and merge it later: FTS5 as a new segment, GIN in its pending list. The row per
 * word they replace (application_terms) put most words on a random leaf of a B-tree, real names
 * being many: on SQLite 2.7 of the 10.4 WAL pages of a bench event on a new store, 5.9 of 16.8
 * after 20,000; FTS5 writes 0.08 (BENCHMARKS.md).
 */
import { applicationTerms, queryWords, words } from '../domain/search.js';
import type { Db, Dialect, SqlValue } from './db.js';
import { insertMany } from './sql.js';

/** A pratica's terms, sorted: what it is found by (domain/search.ts), its short id first among its words. */
export function termsOf(id: string, doc: Record<string, unknown>): string[] {
  return [...new Set([...words(id).slice(0, 1), ...applicationTerms(doc)])].sort();
}

/** Terms as the pratica's row keeps them (applications.terms): [a-z0-9] words, so a space parts them. */
export const joinTerms = (terms: string[]): string => terms.join(' ');

/**
 * Search terms a group commit holds until its end (held-writes.ts), per pratica ("tenant id"):
 * the terms it ends with, the seq of the event that wrote them (the key of its row in the
 * index), and the row to remove first (the terms it had before the group, and their seq).
 */
export type HeldTerms = Map<string, { tenant: string; id: string; seq: number; terms: string[]; old: { terms: string[]; seq: number } | null }>;

/**
 * The terms a pratica's row held before the projection's write, as the write itself returns them
 * (the projection never sets them on an existing row); 'new' for a row the write inserted, with
 * the pratica's terms already on it.
 */
export type TermsBefore = { terms: string | null; terms_seq: number | null } | 'new';

/**
 * Keeps a pratica's terms (inside the projection's transaction, after its row is written). When
 * its words changed, they are replaced on its row at once; most changes (a status move) leave them
 * as they were, and write nothing. Its row of the index is held in `held` (flushTerms writes
 * it): a pratica changed twice in one group ends with its last terms, and its row from before
 * the group goes.
 */
export async function writeTerms(t: Db, tenantId: string, id: string, seq: number, terms: string[], before: TermsBefore, held: HeldTerms): Promise<void> {
  // Ids are per tenant (issue 12 item 7): another tenant may hold a pratica with this id.
  const key = `${tenantId} ${id}`;
  if (before === 'new') {
    held.set(key, { tenant: tenantId, id, seq, terms, old: null });
    return;
  }
  const stored = before.terms;
  // Sorted again: rows indexed by migration 160 on SQLite were joined in the index's order.
  if (stored !== null && joinTerms(stored.split(' ').sort()) === joinTerms(terms)) return;
  await t.execute('UPDATE applications SET terms = ?, terms_seq = ? WHERE tenant_id = ? AND id = ?', [joinTerms(terms), seq, tenantId, id]);
  const earlier = held.get(key);
  if (earlier) {
    earlier.terms = terms;
    earlier.seq = seq;
    return;
  }
  const old = stored === null ? null : { terms: stored === '' ? [] : stored.split(' '), seq: Number(before.terms_seq) };
  held.set(key, { tenant: tenantId, id, seq, terms, old });
}

/**
 * Writes held terms: the old row of each pratica whose words changed goes, then a row per pratica
 * with its words, each under its tenant's key (searchKey). A row already there for the seq (the
 * start's backfill in two processes at once) is the same pratica's, with the same words.
 */
export async function flushTerms(t: Db, held: HeldTerms): Promise<void> {
  if (held.size === 0) return;
  const sqlite = t.dialect === 'sqlite';
  const rows: SqlValue[][] = [];
  for (const h of held.values()) {
    if (h.old) await t.execute(`DELETE FROM application_search WHERE ${sqlite ? 'rowid' : 'terms_seq'} = ?`, [h.old.seq]);
    if (h.terms.length === 0) continue;
    const key = searchKey(h.tenant);
    rows.push([h.seq, h.id, h.terms.map((w) => key + w).join(' ')]);
  }
  held.clear();
  if (sqlite) {
    await insertMany(t, 'INSERT OR REPLACE INTO application_search (rowid, application_id, terms)', '(?, ?, ?)', rows, { perStatement: SEARCH_ROWS_PER_INSERT });
  } else {
    await insertMany(t, 'INSERT INTO application_search (terms_seq, application_id, terms)', "(?, ?, array_to_tsvector(string_to_array(?, ' ')))", rows,
      { perStatement: SEARCH_ROWS_PER_INSERT, tail: ' ON CONFLICT (terms_seq) DO NOTHING', pgTypes: ['bigint', 'text', 'text'] });
  }
}

/**
 * What a tenant's words start with in the index: its id's UTF-8 bytes in hex, then 'z' (migration
 * 210 writes the same in SQL). No hex digit is a 'z', so no tenant's key starts another's: a
 * query's prefix matches its own tenant's words only.
 */
export const searchKey = (tenantId: string): string => `${Buffer.from(tenantId, 'utf8').toString('hex')}z`;

/** Pratiche per INSERT into the index: 3 values each, well under both stores' bind limits. */
const SEARCH_ROWS_PER_INSERT = 500;

/**
 * A condition on `column` (an application id) that holds when every word of `q` prefixes one of
 * the pratica's terms (a whole UUID in `q` must be the id itself: `byId`, one pratica at most);
 * null when `q` has neither.
 * The words are one query of the index, each a prefix of the tenant's words: FTS5's
 * `"…"* AND "…"*` on SQLite, a tsquery's `'…':* & '…':*` on PostgreSQL (its GIN index). A word is
 * [a-z0-9] (queryWords), so it is never syntax of either.
 */
export function searchCondition(dialect: Dialect, column: string, tenantId: string, q: string): { sql: string; params: SqlValue[]; byId: boolean } | null {
  const whole = q.match(UUID_G) ?? [];
  const ws = queryWords(q.replace(UUID_G, ' '));
  if (ws.length === 0 && whole.length === 0) return null;
  const conditions = whole.map(() => `${column} = ?`);
  const params: SqlValue[] = whole.map((u) => u.toLowerCase());
  if (ws.length > 0) {
    const key = searchKey(tenantId);
    const m = MATCH[dialect];
    conditions.push(`${column} IN (SELECT application_id FROM application_search WHERE ${m.sql})`);
    params.push(ws.map((w) => m.prefix(key + w)).join(m.and));
  }
  return { sql: conditions.join(' AND '), params, byId: whole.length > 0 };
}

/** Per store: the index's match of one parameter, a word's prefix in its query language, and "and". */
const MATCH: Record<Dialect, { sql: string; prefix: (word: string) => string; and: string }> = {
  sqlite: { sql: 'application_search MATCH ?', prefix: (w) => `"${w}"*`, and: ' AND ' },
  postgres: { sql: 'terms @@ ?::tsquery', prefix: (w) => `'${w}':*`, and: ' & ' },
};

/** A whole UUID in a query: matched on the id, not word by word. */
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * Indexes the pratiche whose terms are NULL (projected before the index existed, migrations 140
 * and 160 on an older installation, or copied by `messo migrate-store`), in batches; a partial
 * index holds just those, so a start with none left reads nothing. Run once at start.
 */
export async function backfillTerms(db: Db, batch = 500): Promise<number> {
  let n = 0;
  for (;;) {
    const rows = await db.query<{ id: string; tenant_id: string; last_event_seq: number; doc: unknown }>(
      'SELECT id, tenant_id, last_event_seq, doc FROM applications WHERE terms IS NULL LIMIT ?', [batch],
    );
    if (rows.length === 0) return n;
    await db.tx(async (t) => {
      const held: HeldTerms = new Map();
      for (const r of rows) {
        const doc = (typeof r.doc === 'string' ? JSON.parse(r.doc) : r.doc) as Record<string, unknown>;
        await writeTerms(t, r.tenant_id, r.id, Number(r.last_event_seq), termsOf(r.id, doc), { terms: null, terms_seq: null }, held);
      }
      await flushTerms(t, held);
    });
    n += rows.length;
    if (rows.length < batch) return n;
  }
}
