/**
 * The event's row, and for a snapshot its pratica's, as the outbox writes them (outbox.ts).
 * An event is staged first (classified, stamped, its search terms made), then inserted: one at a
 * time, or on PostgreSQL the first snapshots of a group all at once (insertStaged).
 */
import type { ApplicationDoc } from '../domain/application.js';
import type { Db, SqlValue } from './db.js';
import { praticaKey } from './applied.js';
import { joinTerms } from './search.js';
import type { NewEvent } from './types.js';

/** An event ready for its row: classified against the pratica as applied, stamped, its search terms made. */
export interface Staged {
  ev: NewEvent;
  now: number;
  /** A pratica's search terms (search.ts); none for other events. */
  terms: string[];
}

/** What the snapshot's upsert returned: nothing when a newer snapshot is applied already. */
export type Upserted = { version: number; terms: string | null; terms_seq: number | null }[];

/** The event's new row; `upserted` when its snapshot's upsert went in the same statement. Null: the event_id is taken. */
export type Inserted = { seq: number; upserted?: Upserted } | null;

/**
 * A snapshot's doc as JSON, written once: the event's data holds the same doc (`{ application:
 * doc }`, toNewEvent), and the event's row and its pratica's go in the same transaction. One
 * JSON.stringify of a ~2.4 KB doc less per snapshot: 6 µs, of the ~230 µs of API CPU a single
 * POST takes on SQLite. A doc is not changed once its event is made.
 */
const docJsons = new WeakMap<ApplicationDoc, string>();

function docJson(doc: ApplicationDoc): string {
  let json = docJsons.get(doc);
  if (json === undefined) {
    json = JSON.stringify(doc);
    docJsons.set(doc, json);
  }
  return json;
}

/** The snapshot's doc when the event's data is that doc and nothing else (`{ application: doc }`). */
function dataDoc(ev: NewEvent): ApplicationDoc | null {
  const data = ev.data as Record<string, unknown>;
  const doc = ev.projection?.kind === 'application' ? ev.projection.doc : null;
  return doc !== null && data.application === doc && Object.keys(data).length === 1 ? doc : null;
}

/** The event's data as JSON: a snapshot's `{ application: doc }` around its doc's JSON (the same text JSON.stringify makes). */
export function dataJson(ev: NewEvent): string {
  const doc = dataDoc(ev);
  return doc ? `{"application":${docJson(doc)}}` : JSON.stringify(ev.data);
}

const INSERT_EVENT = `INSERT INTO events (event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING seq`;

/**
 * A snapshot's projection, the newest wins: the pratica becomes this snapshot unless a later
 * one was applied already (then no row comes back). `row` gives the values (VALUES or SELECT).
 */
const upsertSnapshot = (row: string) => `INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at,
    last_event_seq, last_event_at, terms, terms_seq)
  ${row}
  ON CONFLICT (tenant_id, id) DO UPDATE SET service_id = excluded.service_id, status = excluded.status, doc = excluded.doc,
    version = applications.version + 1, updated_at = excluded.updated_at,
    last_event_seq = excluded.last_event_seq, last_event_at = excluded.last_event_at
  WHERE applications.last_event_at <= excluded.last_event_at
  RETURNING tenant_id, id, version, terms, terms_seq`;
export const UPSERT_SNAPSHOT = upsertSnapshot('VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)');

/**
 * On PostgreSQL, a snapshot's event and its projection in one statement (a data-modifying WITH):
 * the projection is made only when the event row is (a duplicate event_id makes neither). There
 * every statement is a round trip, and a single-POST snapshot made two of its five. Measured
 * (scripts/probe.js ingest, three rounds): 627–703 → 699–757 ev/s, 1.38–1.55 → 1.30–1.40 ms of
 * CPU per event (BENCHMARKS.md, "PostgreSQL: prepared statements, and a snapshot in one
 * statement"). SQLite runs them apart: it has no INSERT in WITH, and a statement costs it no
 * round trip.
 */
const INSERT_EVENT_WITH_SNAPSHOT = `WITH ev AS (${INSERT_EVENT}),
  ap AS (${upsertSnapshot('SELECT ?, ?, ?, ?, ?, 1, ?, ?, ev.seq, ?, ?, ev.seq FROM ev')})
  SELECT ev.seq, ap.version, ap.terms, ap.terms_seq FROM ev LEFT JOIN ap ON true`;

/** The snapshot that goes in with the event in one statement (INSERT_EVENT_WITH_SNAPSHOT); null when they go apart. */
const snapshotWith = (t: Db, ev: NewEvent): ApplicationDoc | null =>
  t.dialect === 'postgres' && ev.projection?.kind === 'application' && ev.projection.mode === 'newer' ? ev.projection.doc : null;

/** The event's new row (null when its event_id is taken), with its snapshot's upsert when both went in one statement. */
export async function insertEvent(t: Db, { ev, now, terms }: Staged): Promise<Inserted> {
  const values: SqlValue[] = [ev.event_id, ev.tenant_id, ev.type, ev.subject, ev.event_version, ev.event_created_at, ev.app_id,
    dataJson(ev), now];
  const doc = snapshotWith(t, ev);
  if (doc) {
    const [row] = await t.query<{ seq: number; version: number | null; terms: string | null; terms_seq: number | null }>(
      INSERT_EVENT_WITH_SNAPSHOT,
      [...values, ...applicationRow(ev, doc, now, terms, null)],
    );
    return row ? inserted(row) : null;
  }
  const [row] = await t.query<{ seq: number }>(INSERT_EVENT, values);
  return row ? { seq: Number(row.seq) } : null;
}

/** An application row's values in the column order of its INSERTs; with `seq` null, its two columns are the statement's. */
export function applicationRow(ev: NewEvent, doc: ApplicationDoc, now: number, terms: string[], seq: number | null): SqlValue[] {
  const head: SqlValue[] = [doc.id, ev.tenant_id, doc.service_id, doc.status, docJson(doc), now, now];
  return seq === null ? [...head, ev.event_created_at, joinTerms(terms)] : [...head, seq, ev.event_created_at, joinTerms(terms), seq];
}

function inserted(row: { seq: number; version: number | null; terms: string | null; terms_seq: number | null }): Inserted {
  return { seq: Number(row.seq), upserted: row.version === null ? [] : [{ version: row.version, terms: row.terms, terms_seq: row.terms_seq }] };
}

/**
 * INSERT_EVENT_WITH_SNAPSHOT for many snapshots, in one statement: their events in the order
 * given (`o`: the seqs follow it), each snapshot upserted once its event is in. The rows come as
 * one JSON array, so the statement's text, prepared once, is the same for any count. An event
 * whose data is `{ application: doc }` comes without it (data null) and the statement wraps the
 * doc: each doc's ~2.5 KB, escaped inside the array, went twice over the wire and through the
 * server's JSON parser.
 */
const INSERT_EVENTS_WITH_SNAPSHOTS = `WITH k AS (SELECT * FROM json_to_recordset(?::json) AS k(o int, event_id text, tenant_id text,
    type text, subject text, event_version int, event_created_at bigint, app_id text, data text, now bigint,
    id text, service_id text, status int, doc text, terms text)),
  ev AS (INSERT INTO events (event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
    SELECT event_id, tenant_id, type, subject, event_version, event_created_at, app_id,
      COALESCE(data, '{"application":' || doc || '}'), now FROM k ORDER BY o
    ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING seq, tenant_id, event_id),
  ap AS (${upsertSnapshot(`SELECT k.id, k.tenant_id, k.service_id, k.status, k.doc, 1, k.now, k.now, ev.seq, k.event_created_at, k.terms, ev.seq
    FROM k JOIN ev ON ev.tenant_id = k.tenant_id AND ev.event_id = k.event_id`)})
  SELECT k.o, ev.seq, ap.version, ap.terms, ap.terms_seq
  FROM k JOIN ev ON ev.tenant_id = k.tenant_id AND ev.event_id = k.event_id LEFT JOIN ap ON ap.tenant_id = k.tenant_id AND ap.id = k.id`;

/**
 * PostgreSQL: how many of `events`, from the first, can go in at once (insertStaged): snapshots
 * whose event and pratica go in one statement, no two of one pratica (an upsert may not touch a
 * row twice in one statement, and the second must be classified against the first) and no two
 * with one event_id. Elsewhere none: each event goes in on its turn.
 */
export function stageable(t: Db, events: NewEvent[]): number {
  const pratiche = new Set<string>();
  const ids = new Set<string>();
  let n = 0;
  for (const ev of events) {
    const doc = snapshotWith(t, ev);
    if (!doc) break;
    const pratica = praticaKey(ev.tenant_id, doc.id);
    const id = JSON.stringify([ev.tenant_id, ev.event_id]);
    if (pratiche.has(pratica) || ids.has(id)) break;
    pratiche.add(pratica);
    ids.add(id);
    n++;
  }
  return n;
}

/**
 * The rows of many staged snapshots (stageable ones) in one statement, where each took one:
 * single posts grouped by a group commit (group-commit.ts) paid a round trip per event for it.
 * Returns what insertEvent would have, for each in order.
 */
export async function insertStaged(t: Db, staged: Staged[]): Promise<Inserted[]> {
  const rows = staged.map(({ ev, now, terms }, o) => {
    const doc = snapshotWith(t, ev);
    if (!doc) throw new Error('insertStaged takes stageable snapshots only');
    return {
      o, event_id: ev.event_id, tenant_id: ev.tenant_id, type: ev.type, subject: ev.subject, event_version: ev.event_version,
      // The data of most snapshots is their doc and nothing else: made here, it would go twice.
      event_created_at: ev.event_created_at, app_id: ev.app_id, data: dataDoc(ev) ? null : dataJson(ev), now,
      id: doc.id, service_id: doc.service_id, status: doc.status, doc: docJson(doc), terms: joinTerms(terms),
    };
  });
  const back = await t.query<{ o: number; seq: number; version: number | null; terms: string | null; terms_seq: number | null }>(
    INSERT_EVENTS_WITH_SNAPSHOTS, [JSON.stringify(rows)],
  );
  const out: Inserted[] = staged.map(() => null);
  for (const row of back) out[Number(row.o)] = inserted(row);
  return out;
}
