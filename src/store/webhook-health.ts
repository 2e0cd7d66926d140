/**
 * A webhook's health as the lists show it (failing since when, how many failed attempts since,
 * how many events found it disabled), and the recovery of the events it skipped while disabled.
 */
import type { Db } from './db.js';
import { matches } from '../domain/matching.js';
import { enqueue } from './outbox.js';
import { toEvent } from './rows.js';
import { OUTCOME, placeholders, STATUS } from './sql.js';
import type { Recovery, Webhook, WebhookHealth } from './types.js';

export type { Recovery, WebhookHealth };


export async function webhookHealth(db: Db, w: Webhook): Promise<WebhookHealth> {
  let failures = 0;
  if (w.active && w.failing_since !== null) {
    const rows = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM attempts WHERE webhook_id = ? AND started_at >= ? AND outcome = ${OUTCOME.failure}`, [w.id, w.failing_since],
    );
    failures = Number(rows[0]?.n ?? 0);
  }
  let skipped = 0;
  if (!w.active) {
    const rows = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_skips WHERE webhook_id = ?', [w.id]);
    skipped = Number(rows[0]?.n ?? 0);
  }
  return {
    state: !w.active ? 'disabled' : w.failing_since !== null ? 'failing' : 'ok',
    failing_since: w.active ? w.failing_since : null, failures,
    disabled_reason: w.active ? null : w.disabled_reason, disabled_at: w.active ? null : w.disabled_at, skipped_events: skipped,
  };
}

/** Skipped events turned into deliveries per call at most; the rest stay for the next call. */
export const RECOVER_BATCH = 5000;


/**
 * Inside the enabling transaction (`w` already active): a delivery for every event the webhook
 * skipped, rendered as it would have been then, and the deliveries failed by the disabling sent
 * again with their numbering going on. Events purged by retention are gone and are not counted.
 */
export async function recoverSkipped(t: Db, w: Webhook, disabledAt: number | null, now: number, typePrefix?: string): Promise<Recovery> {
  const skips = await t.query<{ seq: number; event_id: string }>(
    'SELECT seq, event_id FROM webhook_skips WHERE webhook_id = ? ORDER BY seq LIMIT ?', [w.id, RECOVER_BATCH],
  );
  let created = 0;
  for (let i = 0; i < skips.length; i += 200) {
    const ids = skips.slice(i, i + 200).map((s) => s.event_id);
    const events = (await t.query(`SELECT * FROM events WHERE tenant_id = ? AND event_id IN (${placeholders(ids.length)}) ORDER BY seq`, [w.tenant_id, ...ids])).map(toEvent);
    for (const ev of events) created += await enqueue(t, ev, matches(w, ev) ? [w] : [], now, typePrefix);
  }
  if (skips.length > 0) {
    await t.execute('DELETE FROM webhook_skips WHERE webhook_id = ? AND seq <= ?', [w.id, Number(skips[skips.length - 1].seq)]);
  }
  const left = await t.query<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_skips WHERE webhook_id = ?', [w.id]);
  const resent = disabledAt === null ? 0 : await t.execute(
    `UPDATE deliveries SET status = ${STATUS.pending}, attempt_offset = attempt_offset + attempts, attempts = 0,
       manual_attempts = manual_attempts || ',' || CAST(attempt_offset + attempts + 1 AS TEXT), next_attempt_at = ?, completed_at = NULL, updated_at = ?
     WHERE webhook_id = ? AND status = ${STATUS.failed} AND completed_at >= ?`,
    // The attempt that made it disabled (a 410) ended moments before: a minute's margin.
    [now, now, w.id, disabledAt - 60_000],
  );
  return { created, resent, remaining: Number(left[0]?.n ?? 0) };
}
