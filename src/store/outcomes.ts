/**
 * What a dispatcher's attempts came to, written in one go (completeAttempts): each delivery
 * moves on (succeeded, pending again for its retry, failed), its attempt is logged, and the
 * webhook's failing streak and the lane's slow-downs follow.
 *
 * Three stages: each outcome's row values (`moves`, `attemptRows`), the state writes the batch
 * needs (`stateWrites`: most batches need none), then the writes. On PostgreSQL a batch that
 * needs no state write is one statement (`recordInOne`); anything else is a transaction
 * (`recordInTx`).
 */
import type { Db, SqlValue } from './db.js';
import { laneKey } from '../domain/limits.js';
import { anyOf, cannotAbort, insertMany, pgArray, placeholders, RELAXED, STATUS } from './sql.js';
import type { AttemptOutcome } from './dispatch-store.js';
import { ATTEMPT_OUTCOME, DELIVERY_STATUS } from './types.js';

/** A delivery's columns after its attempt; `status` one of DELIVERY_STATUS. */
interface Move {
  id: string;
  owner: string;
  status: string;
  nextAttemptAt: number | null;
  code: number | null;
  error: string | null;
  at: number;
  completedAt: number | null;
}

/** What a batch changes besides its deliveries and attempts, in the order it is written. */
interface StateWrites {
  /** Lanes told to slow down (429/502/503/504): until when, and when it was said. */
  blocks: { lane: string; until: number; at: number }[];
  /**
   * Webhooks whose failing streak starts (no success in the batch: `since`, if none has one) or
   * ends (a success: `since` null), in id order.
   */
  webhooks: { id: string; since: number | null }[];
  /** Lanes whose slow-downs a success ends. */
  laneClears: string[];
}

export async function completeAttempts(db: Db, outcomes: AttemptOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const moved = moves(outcomes);
  const state = stateWrites(outcomes);
  const none = state.blocks.length + state.webhooks.length + state.laneClears.length === 0;
  if (none && db.dialect === 'postgres') return recordInOne(db, moved, outcomes);
  return recordInTx(db, moved, outcomes, state);
}

/**
 * A batch's successes end when the batch's last attempt did (one value for all, so that on
 * SQLite they move in one statement per status code); a retry or a failure at its own end.
 */
function moves(outcomes: AttemptOutcome[]): Move[] {
  const doneAt = Math.max(...outcomes.map((o) => o.startedAt + o.durationMs));
  return outcomes.map((o) => {
    const base = { id: o.deliveryId, owner: o.owner, code: o.statusCode };
    if (o.result === 'success' && o.statusCode !== null) {
      return { ...base, status: DELIVERY_STATUS.succeeded, nextAttemptAt: null, error: null, at: doneAt, completedAt: doneAt };
    }
    const end = o.startedAt + o.durationMs;
    const retry = o.result === 'retry';
    return {
      ...base,
      status: retry ? DELIVERY_STATUS.pending : DELIVERY_STATUS.failed,
      nextAttemptAt: retry ? o.nextAttemptAt : null,
      error: o.errorClass ? `${o.errorClass}: ${o.errorMessage ?? ''}`.slice(0, 500) : `HTTP ${o.statusCode}`,
      at: end,
      completedAt: retry ? null : end,
    };
  });
}

/**
 * An attempt's id: the same for the same attempt (a flush written twice logs it once), and its
 * start first, in base 36 of fixed width, so that ids sort by it and the index on them grows at
 * its end. The delivery's id first put every new entry on a page of its own: 0.75 of the 12.1
 * SQLite WAL pages an event wrote end to end (a scratch copy of scripts/wal-pages.js with the
 * dispatcher on, 2,000 events).
 */
export function attemptId(o: Pick<AttemptOutcome, 'deliveryId' | 'attempt' | 'startedAt'>): string {
  return `att_${o.startedAt.toString(36).padStart(9, '0')}_${o.deliveryId.slice(4)}_${o.attempt}`;
}

/** An attempt's row by column, in the order of the table's columns (ATTEMPT_COLUMNS). */
function attemptRow(o: AttemptOutcome): Record<(typeof ATTEMPT_COLUMNS)[number][0], SqlValue> {
  return {
    id: attemptId(o), delivery_id: o.deliveryId, webhook_id: o.webhookId, attempt: o.attempt, started_at: o.startedAt,
    duration_ms: o.durationMs, url: o.url, outcome: o.result === 'success' ? ATTEMPT_OUTCOME.success : ATTEMPT_OUTCOME.failure,
    status_code: o.statusCode, response_headers: o.responseHeaders ? JSON.stringify(o.responseHeaders) : null,
    response_body: o.responseBody, response_truncated: o.truncated ? 1 : 0, error_class: o.errorClass,
    error_message: o.errorMessage, next_attempt_at: o.result === 'retry' ? o.nextAttemptAt : null,
  };
}

/** The attempts' columns and their PostgreSQL types. */
const ATTEMPT_COLUMNS = [
  ['id', 'text'], ['delivery_id', 'text'], ['webhook_id', 'text'], ['attempt', 'int'], ['started_at', 'bigint'],
  ['duration_ms', 'int'], ['url', 'text'], ['outcome', 'text'], ['status_code', 'int'], ['response_headers', 'text'],
  ['response_body', 'text'], ['response_truncated', 'int'], ['error_class', 'text'], ['error_message', 'text'],
  ['next_attempt_at', 'bigint'],
] as const;
const ATTEMPT_NAMES = ATTEMPT_COLUMNS.map(([name]) => name).join(', ');

/**
 * Per webhook and lane, the batch's outcomes folded into one state write each; a success writes
 * only where there is a streak to clear (webhookFailing, laneSlowed): most batches had two
 * statements that changed nothing, two of six round trips on PostgreSQL.
 */
function stateWrites(outcomes: AttemptOutcome[]): StateWrites {
  const webhookOk = new Map<string, { ok: boolean; at: number; clear: boolean }>();
  const laneOk = new Map<string, boolean>();
  const blocks: StateWrites['blocks'] = [];
  for (const o of outcomes) {
    const prev = webhookOk.get(o.webhookId);
    // A success anywhere in the batch ends the failing streak; otherwise the first failure starts it.
    const clear = (prev?.clear ?? false) || (o.result === 'success' && o.webhookFailing);
    webhookOk.set(o.webhookId, prev?.ok || o.result === 'success' ? { ok: true, at: 0, clear } : { ok: false, at: prev?.at ?? o.startedAt, clear });
    // A slow-down pauses the lane (this tenant at this origin), kept in an endpoints row of its own.
    const lane = laneKey(o.tenantId, o.endpointKey);
    if (o.laneBlockedUntil === null) {
      if (o.result === 'success' && o.laneSlowed) laneOk.set(lane, true);
    } else {
      laneOk.delete(lane);
      blocks.push({ lane, until: o.laneBlockedUntil, at: o.startedAt + o.durationMs });
    }
  }
  // In key order, so that two dispatchers never wait on each other's rows in a cycle.
  const webhooks = [...webhookOk].sort(([a], [b]) => (a < b ? -1 : 1))
    .filter(([, s]) => !s.ok || s.clear).map(([id, s]) => ({ id, since: s.ok ? null : s.at }));
  return { blocks, webhooks, laneClears: [...laneOk.keys()].sort() };
}

/** recordInOne's statement: the batch as a recordset, its deliveries moved, its attempts inserted. */
const RECORD_IN_ONE = `WITH o AS (SELECT * FROM json_to_recordset(?::json) AS o(${ATTEMPT_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')},
    owner text, status text, err text, at bigint, done bigint)),
  relaxed AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
  moved AS (UPDATE deliveries d SET status = o.status, next_attempt_at = o.next_attempt_at, last_status_code = o.status_code,
      last_error = o.err, lease_owner = NULL, lease_until = NULL, updated_at = o.at, completed_at = o.done
    FROM o WHERE d.id = ANY(?::text[]) AND d.id = o.delivery_id AND d.lease_owner = o.owner AND d.status = ${STATUS.sending})
INSERT INTO attempts (${ATTEMPT_NAMES}) SELECT ${ATTEMPT_COLUMNS.map(([name]) => `o.${name}`).join(', ')} FROM o CROSS JOIN relaxed`;

/**
 * PostgreSQL, a batch with no state to write: its deliveries move on and its attempts go in by
 * one statement, with no BEGIN and COMMIT around it. A transaction there was four round trips
 * (BEGIN, the UPDATE, the INSERT, COMMIT), each a wake-up of the server and of the worker; in an
 * end to end run of 11,000 events, 2,711 batches (about 4 deliveries each) made 10,844 of the
 * run's ~26,000. `set_config(…, true)` relaxes this statement's own commit as RELAXED does a
 * transaction's (no wait for the WAL flush: a batch lost in a crash of the server is sent again,
 * as one lost in a crash of the worker is). The deliveries are found by id through the unique
 * index (`= ANY` of the ids): a generic plan made on a new, empty table might otherwise join the
 * recordset to a scan of the whole table.
 */
async function recordInOne(db: Db, moved: Move[], outcomes: AttemptOutcome[]): Promise<void> {
  // The attempt's row and its delivery's move; the row's status_code and next_attempt_at are the delivery's too.
  const rows = moved.map((m, i) => ({ ...attemptRow(outcomes[i]), owner: m.owner, status: m.status, err: m.error, at: m.at, done: m.completedAt }));
  await db.execute(RECORD_IN_ONE, [JSON.stringify(rows), pgArray(moved.map((m) => m.id))]);
}

/**
 * A transaction: plain successes (the common case) move on in one statement per status code, the
 * rest one by one; attempt rows go in as multi-row inserts (flushes cost a third less), then the
 * state writes.
 */
async function recordInTx(db: Db, moved: Move[], outcomes: AttemptOutcome[], state: StateWrites): Promise<void> {
  await db.tx(async (t) => {
    const successes = new Map<number, Move[]>();
    for (const m of moved) {
      if (m.status === DELIVERY_STATUS.succeeded && m.code !== null) {
        const list = successes.get(m.code);
        if (list) list.push(m);
        else successes.set(m.code, [m]);
        continue;
      }
      await t.execute(
        `UPDATE deliveries SET status = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?, lease_owner = NULL,
           lease_until = NULL, updated_at = ?, completed_at = ? WHERE id = ? AND lease_owner = ? AND status = ${STATUS.sending}`,
        [m.status, m.nextAttemptAt, m.code, m.error, m.at, m.completedAt, m.id, m.owner],
      );
    }
    for (const [code, list] of successes) {
      for (let i = 0; i < list.length; i += 500) {
        const chunk = list.slice(i, i + 500);
        const ids = anyOf(t, 'id', chunk.map((m) => m.id), 'text');
        await t.execute(
          `${cannotAbort(t.dialect, 'UPDATE')} deliveries SET status = ${STATUS.succeeded}, next_attempt_at = NULL, last_status_code = ?, last_error = NULL,
             lease_owner = NULL, lease_until = NULL, updated_at = ?, completed_at = ?
           WHERE lease_owner = ? AND status = ${STATUS.sending} AND ${ids.sql}`,
          [code, chunk[0].at, chunk[0].at, chunk[0].owner, ...ids.params],
        );
      }
    }
    await insertMany(t, `${cannotAbort(t.dialect, 'INSERT INTO')} attempts (${ATTEMPT_NAMES})`,
      `(${placeholders(ATTEMPT_COLUMNS.length)})`, outcomes.map((o) => Object.values(attemptRow(o))), { perStatement: 50 });
    for (const b of state.blocks) {
      await t.execute(
        `INSERT INTO endpoints (endpoint_key, blocked_until, slowdowns, updated_at) VALUES (?, ?, 1, ?)
         ON CONFLICT (endpoint_key) DO UPDATE SET slowdowns = endpoints.slowdowns + 1, updated_at = excluded.updated_at,
           blocked_until = CASE WHEN endpoints.blocked_until > excluded.blocked_until THEN endpoints.blocked_until ELSE excluded.blocked_until END`,
        [b.lane, b.until, b.at],
      );
    }
    for (const w of state.webhooks) {
      if (w.since !== null) await t.execute('UPDATE webhooks SET failing_since = ? WHERE id = ? AND failing_since IS NULL', [w.since, w.id]);
      else await t.execute('UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL', [w.id]);
    }
    for (const key of state.laneClears) await t.execute('UPDATE endpoints SET slowdowns = 0 WHERE endpoint_key = ? AND slowdowns > 0', [key]);
  }, RELAXED);
}
