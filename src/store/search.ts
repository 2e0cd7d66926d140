/**
 * The search index of pratiche (domain/search.ts says what is indexed): written with every
 * projection change, read as one prefix range per query word.
 */
import { applicationTerms, PREFIX_END, queryWords, words } from '../domain/search.js';
import type { Db, SqlValue } from './db.js';
import { cannotAbort, insertMany, skipExisting } from './sql.js';

/**
 * Search terms a group commit holds until its end (held-writes.ts), per pratica ("tenant id"):
 * the terms it ends with, the seq of the event that wrote them (the key's order within a word,
 * migration 160), and whether its stored terms must go first.
 */
export type HeldTerms = Map<string, { tenant: string; id: string; seq: number; terms: string[]; replace: boolean }>;

/**
 * Keeps a pratica's terms (inside the projection's transaction). Most changes (a status move)
 * leave its words as they were: one indexed read then, and no write. The write itself is held
 * in `held` (flushTerms writes it): the stored terms are not read again in the transaction, and
 * a pratica changed twice in one group ends with its last terms.
 */
export async function writeTerms(t: Db, tenantId: string, id: string, seq: number, doc: Record<string, unknown>, fresh: boolean, held: HeldTerms): Promise<void> {
  const terms = [...new Set([...words(id).slice(0, 1), ...applicationTerms(doc)])].sort();
  // Ids are per tenant (issue 12 item 7): another tenant may hold a pratica with this id.
  const key = `${tenantId} ${id}`;
  const earlier = held.get(key);
  if (earlier) {
    earlier.terms = terms;
    earlier.seq = seq;
    return;
  }
  let replace = false;
  if (!fresh) {
    const old = await t.query<{ term: string }>('SELECT term FROM application_terms WHERE tenant_id = ? AND application_id = ? ORDER BY term', [tenantId, id]);
    if (old.length === terms.length && old.every((r, i) => r.term === terms[i])) return;
    replace = old.length > 0;
  }
  held.set(key, { tenant: tenantId, id, seq, terms, replace });
}

/** Writes held terms: a DELETE per pratica whose words changed, then multi-row INSERTs. */
export async function flushTerms(t: Db, held: HeldTerms): Promise<void> {
  const rows: SqlValue[][] = [];
  for (const h of held.values()) {
    if (h.replace) await t.execute('DELETE FROM application_terms WHERE tenant_id = ? AND application_id = ?', [h.tenant, h.id]);
    for (const term of h.terms) rows.push([h.tenant, term, h.seq, h.id]);
  }
  held.clear();
  await insertMany(t, `${cannotAbort(t.dialect, 'INSERT INTO')} application_terms (tenant_id, term, event_seq, application_id)`, '(?, ?, ?, ?)',
    rows, TERM_ROWS_PER_INSERT, skipExisting(t.dialect));
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
 * Indexes pratiche projected before the index existed, in batches; a pratica always has one
 * term at least (its id), so those without any are the ones left. Run once at start.
 */
export async function backfillTerms(db: Db, batch = 500): Promise<number> {
  let n = 0;
  for (;;) {
    const rows = await db.query<{ id: string; tenant_id: string; last_event_seq: number; doc: unknown }>(
      `SELECT a.id, a.tenant_id, a.last_event_seq, a.doc FROM applications a
       WHERE NOT EXISTS (SELECT 1 FROM application_terms t WHERE t.tenant_id = a.tenant_id AND t.application_id = a.id) LIMIT ?`, [batch],
    );
    if (rows.length === 0) return n;
    await db.tx(async (t) => {
      const held: HeldTerms = new Map();
      for (const r of rows) await writeTerms(t, r.tenant_id, r.id, Number(r.last_event_seq), (typeof r.doc === 'string' ? JSON.parse(r.doc) : r.doc) as Record<string, unknown>, false, held);
      await flushTerms(t, held);
    });
    n += rows.length;
    if (rows.length < batch) return n;
  }
}
