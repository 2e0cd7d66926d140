/**
 * Snapshots classified in their own transaction. Whether a snapshot from an external core is a
 * creation, a status change, an update or a late one depends on the pratica as applied before it
 * (domain/snapshot.ts). It used to be read before the transaction, so two snapshots of one
 * pratica posted at once were both judged against the same state: the second one's `from` was
 * wrong, or both were creations. Read in the transaction, after the events before it, each one
 * sees the one before; on PostgreSQL, where groups of other transactions run at the same time
 * (other processes, or the second group a process keeps open), the group first takes a lock per
 * pratica (per tenant for a batch), so that another transaction's snapshot of it waits for this
 * one to commit.
 *
 * The transaction keeps what it read and applied (`AppliedCache`): the events of a group or a
 * batch read each pratica once at most, however many snapshots of it they carry.
 */
import type { AppliedSnapshot } from '../domain/snapshot.js';
import type { Db } from './db.js';
import { toApplication } from './rows.js';
import type { NewEvent } from './types.js';

/** Per transaction: each pratica as it stands in it (null: none yet), by tenant and id. */
export type AppliedCache = Map<string, AppliedSnapshot | null>;

/** A pratica's key: its tenant and its id (ids are per tenant). */
export const praticaKey = (tenantId: string, id: string): string => JSON.stringify([tenantId, id]);

/** The event with the type and data its classification gives, against the pratica as applied in `t`. */
export async function classifyInTx(t: Db, cache: AppliedCache, ev: NewEvent): Promise<NewEvent> {
  const p = ev.projection;
  if (!ev.classify || p?.kind !== 'application' || p.mode !== 'newer') {
    throw new Error('classify needs an application projection in newer mode');
  }
  const key = praticaKey(ev.tenant_id, p.doc.id);
  let prior = cache.get(key);
  if (prior === undefined) {
    const [row] = await t.query('SELECT * FROM applications WHERE tenant_id = ? AND id = ?', [ev.tenant_id, p.doc.id]);
    prior = row ? applied(row) : null;
    cache.set(key, prior);
  }
  const { type, data } = ev.classify(prior);
  return { ...ev, type, data, classify: undefined };
}

/** The event's projection moved the pratica: later snapshots of this transaction see it. */
export function noteApplied(cache: AppliedCache, ev: NewEvent): void {
  const p = ev.projection;
  if (p?.kind === 'application') cache.set(praticaKey(ev.tenant_id, p.doc.id), { doc: p.doc, at: ev.event_created_at });
}

/** First keys of the advisory locks: per pratica ('prat') and per tenant ('tena'); the second is a hash. */
const PRATICA_LOCK = 0x70726174;
const TENANT_LOCK = 0x74656e61;

/**
 * At most this many pratiche are locked one by one in a group; past it (a batch), its tenants are
 * locked whole. Advisory locks share PostgreSQL's lock table (max_locks_per_transaction × max
 * connections, a few thousand by default): a batch of 1,000 pratiche, a lock each, in a few
 * processes at once would run it out ("out of shared memory").
 */
export const MAX_PRATICA_LOCKS = 64;

/**
 * A lock per pratica, with its tenant's lock shared; or, for a group of many, its tenants' locks
 * alone, exclusive. Tenants first, then pratiche, each in hash order: the same order in every
 * transaction, so two groups never wait for each other in a cycle. Held to the commit. Its own
 * statement: a statement's snapshot is taken when it starts, so a read in the statement that
 * waited would not see what the lock's holder committed.
 */
const PAIRS = `WITH k AS (SELECT * FROM json_to_recordset(?::json) AS k(t text, i text))`;
const TENANT_HASH = `hashtext(concat_ws(' ', current_schema(), k.t))`;
const LOCK_PRATICHE = `${PAIRS} SELECT count(l) AS locked FROM (
    SELECT CASE WHEN s.kind = 0 THEN pg_advisory_xact_lock_shared(${TENANT_LOCK}, s.h) ELSE pg_advisory_xact_lock(${PRATICA_LOCK}, s.h) END AS l
    FROM (SELECT 0 AS kind, ${TENANT_HASH} AS h FROM k
          UNION SELECT 1, hashtext(concat_ws(' ', current_schema(), k.t, k.i)) FROM k
          ORDER BY 1, 2) AS s) AS x`;
const LOCK_TENANTS = `${PAIRS} SELECT count(pg_advisory_xact_lock(${TENANT_LOCK}, s.h)) AS locked FROM (
    SELECT DISTINCT ${TENANT_HASH} AS h FROM k ORDER BY h) AS s`;

/**
 * The pratiche of these (tenant, id) pairs, each by its primary key. The lateral LIMIT 1 keeps
 * that plan whatever the statistics say. The statement is prepared, and its generic plan is made
 * on the first runs. Written as `tenant_id = ANY(…) AND id = ANY(…)`, a plan made while the table
 * was empty (a new schema, before autovacuum's first ANALYZE) walked the tenant's whole index and
 * filtered the ids: 3.2 ms and 580 pages a group once a tenant had 5,000 pratiche, a quarter of
 * PostgreSQL's CPU in the end-to-end bench, growing with the tenant.
 */
export const READ_PRATICHE = `SELECT a.* FROM json_to_recordset(?::json) AS k(t text, i text)
  CROSS JOIN LATERAL (SELECT * FROM applications WHERE tenant_id = k.t AND id = k.i LIMIT 1) AS a`;

/**
 * PostgreSQL, once at a group's start: locks and reads every pratica its events will classify,
 * two statements for the group instead of a read per snapshot. SQLite runs one transaction at a
 * time and a read there is a call into the library, not a round trip: it reads each on its turn
 * (classifyInTx).
 */
export async function readAhead(t: Db, cache: AppliedCache, events: NewEvent[]): Promise<void> {
  if (t.dialect !== 'postgres') return;
  const pairs = new Map<string, { t: string; i: string }>();
  for (const ev of events) {
    const p = ev.projection;
    if (ev.classify && p?.kind === 'application') pairs.set(praticaKey(ev.tenant_id, p.doc.id), { t: ev.tenant_id, i: p.doc.id });
  }
  if (pairs.size === 0) return;
  const wanted = [...pairs.values()];
  const json = JSON.stringify(wanted);
  await t.query(wanted.length <= MAX_PRATICA_LOCKS ? LOCK_PRATICHE : LOCK_TENANTS, [json]);
  const rows = await t.query(READ_PRATICHE, [json]);
  for (const key of pairs.keys()) cache.set(key, null);
  for (const row of rows) cache.set(praticaKey(String(row.tenant_id), String(row.id)), applied(row));
}

function applied(row: Record<string, unknown>): AppliedSnapshot {
  const a = toApplication(row);
  return { doc: a.doc, at: a.last_event_at };
}
