/**
 * The search index of pratiche (domain/search.ts says what is indexed): written with every
 * projection change, read as one prefix range per query word.
 */
import { applicationTerms, PREFIX_END, queryWords, words } from '../domain/search.js';
import type { Db, SqlValue } from './db.js';
import { cannotAbort, insertMany, skipExisting } from './sql.js';

/** A pratica's terms, sorted: what it is found by (domain/search.ts), its short id first among its words. */
export function termsOf(id: string, doc: Record<string, unknown>): string[] {
  return [...new Set([...words(id).slice(0, 1), ...applicationTerms(doc)])].sort();
}

/** Terms as the pratica's row keeps them (applications.terms): [a-z0-9] words, so a space parts them. */
export const joinTerms = (terms: string[]): string => terms.join(' ');

/**
 * Search terms a group commit holds until its end (held-writes.ts), per pratica ("tenant id"):
 * the terms it ends with, the seq of the event that wrote them (their rows' event_seq, migration
 * 160), and the rows to remove first (the terms it had before the group, and their seq).
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
 * as they were, and write nothing. The rows of the index are held in `held` (flushTerms writes
 * them): a pratica changed twice in one group ends with its last terms, and its rows from before
 * the group go.
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

/** Writes held terms: a DELETE of its old rows per pratica whose words changed, then multi-row INSERTs. */
export async function flushTerms(t: Db, held: HeldTerms): Promise<void> {
  const rows: SqlValue[][] = [];
  for (const h of held.values()) {
    if (h.old && h.old.terms.length > 0) {
      await t.execute(
        `DELETE FROM application_terms WHERE tenant_id = ? AND event_seq = ? AND application_id = ? AND term IN (${h.old.terms.map(() => '?').join(', ')})`,
        [h.tenant, h.old.seq, h.id, ...h.old.terms],
      );
    }
    for (const term of h.terms) rows.push([h.tenant, term, h.seq, h.id]);
  }
  held.clear();
  await insertMany(t, `${cannotAbort(t.dialect, 'INSERT INTO')} application_terms (tenant_id, term, event_seq, application_id)`, '(?, ?, ?, ?)',
    rows, { perStatement: TERM_ROWS_PER_INSERT, tail: skipExisting(t.dialect), pgTypes: ['text', 'text', 'bigint', 'text'] });
}

/** Term rows per INSERT: 4 values each, well under both stores' bind limits. */
const TERM_ROWS_PER_INSERT = 1000;

/**
 * A condition on `column` (an application id) that holds when every word of `q` prefixes one of
 * the pratica's terms (a whole UUID in `q` must be the id itself); null when `q` has neither.
 * Each word is one range on the primary key.
 */
export function searchCondition(column: string, tenantId: string, q: string): { sql: string; params: SqlValue[] } | null {
  const whole = q.match(UUID_G) ?? [];
  const ws = queryWords(q.replace(UUID_G, ' '));
  if (ws.length === 0 && whole.length === 0) return null;
  return {
    sql: [
      ...whole.map(() => `${column} = ?`),
      ...ws.map(() => `${column} IN (SELECT application_id FROM application_terms WHERE tenant_id = ? AND term >= ? AND term < ?)`),
    ].join(' AND '),
    params: [...whole.map((u) => u.toLowerCase()), ...ws.flatMap((w) => [tenantId, w, `${w}${PREFIX_END}`])],
  };
}

/** A whole UUID in a query: matched on the id, not word by word. */
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * Indexes the pratiche whose terms are NULL (projected before the index existed: migrations 140
 * and 160 on an older installation), in batches; a partial index holds just those, so a start
 * with none left reads nothing. Run once at start.
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
