/**
 * Claiming deliveries and keeping claims alive: the dispatcher's side of the outbox.
 *
 * A claim runs in one transaction and decides, in SQL and so across processes: endpoint
 * ownership (an endpoint — a receiver origin — is served by one dispatcher at a time, which then
 * enforces its concurrency limit exactly and can keep a few deliveries queued ahead), a fair
 * share of the endpoints for each live dispatcher, endpoint slow-down after 429/502/503/504,
 * per-webhook rate limits (a send slot per delivery), and per-application ordering (only the
 * oldest unfinished delivery of a (webhook, application) chain is eligible). Attempts are
 * counted at claim time, so a crash mid-send still counts as an attempt.
 */
import { takeRateSlot } from '../domain/limits.js';
import type { Db, SqlValue } from './db.js';
import { toDelivery, toWebhook } from './rows.js';
import { placeholders, relaxedCommit, STATUS } from './sql.js';
import { DELIVERY_STATUS } from './types.js';
import type { ClaimedDelivery, ClaimOptions } from './dispatch-store.js';

export async function claimDeliveries(db: Db, opts: ClaimOptions): Promise<ClaimedDelivery[]> {
  const { now, owner } = opts;
  return db.tx(async (t) => {
    await relaxedCommit(t);
    // Endpoints another live dispatcher serves or that asked us to slow down, and ours.
    const states = await t.query<{ endpoint_key: string; owner: string | null; owner_until: number | null; blocked_until: number | null }>(
      'SELECT endpoint_key, owner, owner_until, blocked_until FROM endpoints WHERE owner IS NOT NULL OR blocked_until > ?', [now],
    );
    const mine = new Set<string>();
    const busy: string[] = [];
    for (const e of states) {
      const live = e.owner !== null && Number(e.owner_until) > now;
      if (live && e.owner === owner && !(Number(e.blocked_until) > now)) mine.add(e.endpoint_key);
      else if ((live && e.owner !== owner) || Number(e.blocked_until) > now) busy.push(e.endpoint_key);
    }
    const excluded = [...new Set([...busy, ...(opts.skipEndpoints ?? [])])];
    const ownedLive = states.filter((e) => e.owner !== null && Number(e.owner_until) > now).length;
    // Live dispatchers register by heartbeat (renewLeases) in settings: `dispatcher:<owner>`.
    const liveRows = await t.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM settings WHERE key LIKE 'dispatcher:%' AND CAST(value AS BIGINT) > ?`, [now],
    );
    const live = Math.max(1, Number(liveRows[0]?.n ?? 1));
    const limited = await t.query<{ id: string }>('SELECT id FROM webhooks WHERE next_send_at > ?', [now + 1000]);

    const where = [`d.status = ${STATUS.pending}`, 'd.next_attempt_at <= ?'];
    const params: SqlValue[] = [now];
    if (excluded.length > 0) { where.push(`d.endpoint_key NOT IN (${placeholders(excluded.length)})`); params.push(...excluded); }
    if (limited.length > 0) { where.push(`d.webhook_id NOT IN (${placeholders(limited.length)})`); params.push(...limited.map((l) => l.id)); }
    // Per-application ordering: only the head of each (webhook, application) chain.
    where.push(`(d.order_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.order_key = d.order_key
        AND p.seq < d.seq AND p.status IN (${STATUS.pending}, ${STATUS.sending})))`);
    params.push(opts.limit);
    // The due rows are picked by position alone (narrow rows, a top-N sort or an index walk),
    // then joined to their bodies and locked. With FOR UPDATE on the outer query, PostgreSQL
    // cannot stop a sort early: on fresh statistics it sorted every pending row with its body
    // on disk (80 ms with 20,000 pending). The outer status check is re-read under the lock.
    const lock = t.dialect === 'postgres' ? ' FOR UPDATE OF d SKIP LOCKED' : '';
    const candidates = (await t.query(
      `SELECT d.*, p.body, p.content_type FROM deliveries d JOIN payloads p ON p.id = d.payload_id
       WHERE d.status = ${STATUS.pending} AND d.seq IN (
         SELECT d.seq FROM deliveries d WHERE ${where.join(' AND ')} ORDER BY d.next_attempt_at, d.seq LIMIT ?)
       ORDER BY d.next_attempt_at, d.seq${lock}`, params,
    )).map(toDelivery);
    if (candidates.length === 0) return [];

    // Take ownership of the endpoints; one that another dispatcher took meanwhile is left alone.
    const owned = new Set<string>();
    let taken = 0;
    const keys = [...new Set(candidates.map((c) => c.endpoint_key))].sort();
    // A fair share of the endpoints with work, so dispatchers spread them between them; a lone
    // dispatcher's share is all of them.
    const share = Math.ceil((ownedLive + keys.filter((k) => !mine.has(k)).length) / live);
    const mayTake = Math.min(opts.newEndpoints ?? Infinity, Math.max(0, share - mine.size));
    // In key order, so two claimers never wait on each other's endpoint rows in a cycle.
    for (const key of keys) {
      if (!mine.has(key) && taken >= mayTake) continue;
      const n = await t.execute(
        `INSERT INTO endpoints (endpoint_key, owner, owner_until, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (endpoint_key) DO UPDATE SET owner = excluded.owner, owner_until = excluded.owner_until, updated_at = excluded.updated_at
         WHERE endpoints.owner IS NULL OR endpoints.owner = excluded.owner OR endpoints.owner_until <= ?`,
        [key, owner, now + opts.leaseMs, now, now],
      );
      if (n > 0) {
        owned.add(key);
        if (!mine.has(key)) taken++;
      }
    }

    const hookIds = [...new Set(candidates.map((c) => c.webhook_id))];
    const hooks = new Map((await t.query(`SELECT * FROM webhooks WHERE id IN (${placeholders(hookIds.length)})`, hookIds))
      .map((r) => [String(r.id), { webhook: toWebhook(r), nextSendAt: r.next_send_at === null ? null : Number(r.next_send_at) }]));

    const claimed: ClaimedDelivery[] = [];
    const inactive: string[] = [];
    const slots = new Map<string, number>();
    const perEndpoint = new Map<string, number>();
    for (const d of candidates) {
      if (!owned.has(d.endpoint_key)) continue;
      const h = hooks.get(d.webhook_id);
      if (!h || !h.webhook.active) { inactive.push(d.id); continue; }
      const n = perEndpoint.get(d.endpoint_key) ?? 0;
      if (opts.perEndpoint !== undefined && n >= opts.perEndpoint) continue;
      const w = h.webhook;
      let notBefore = now;
      if (w.rate_limit) {
        const slot = takeRateSlot(slots.get(w.id) ?? h.nextSendAt, w.rate_limit, now);
        if (slot === null) continue;
        notBefore = slot.notBefore;
        slots.set(w.id, slot.nextFree);
      }
      perEndpoint.set(d.endpoint_key, n + 1);
      claimed.push({ delivery: { ...d, status: DELIVERY_STATUS.sending, attempts: d.attempts + 1 }, webhook: w, notBefore });
    }
    const ids = claimed.map((c) => c.delivery.id);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await t.execute(
        `UPDATE deliveries SET status = ${STATUS.sending}, attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ?
         WHERE id IN (${placeholders(chunk.length)}) AND status = ${STATUS.pending}`,
        [owner, now + opts.leaseMs, now, ...chunk],
      );
    }
    for (const [id, next] of slots) await t.execute('UPDATE webhooks SET next_send_at = ? WHERE id = ?', [Math.round(next), id]);
    if (inactive.length > 0) {
      // Queued before their webhook was disabled: terminal and visible, resendable later.
      await t.execute(
        `UPDATE deliveries SET status = ${STATUS.failed}, last_error = 'webhook disabled', next_attempt_at = NULL,
           completed_at = ?, updated_at = ? WHERE id IN (${placeholders(inactive.length)}) AND status = ${STATUS.pending}`,
        [now, now, ...inactive],
      );
    }
    return claimed;
  });
}

export async function renewLeases(db: Db, owner: string, leaseUntil: number, activeEndpoints: string[]): Promise<void> {
  await db.tx(async (t) => {
    await relaxedCommit(t);
    // This dispatcher is alive until leaseUntil (0: it stops); the dead ones are forgotten.
    if (leaseUntil > 0) {
      await t.execute(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [`dispatcher:${owner}`, String(leaseUntil)],
      );
    } else {
      await t.execute('DELETE FROM settings WHERE key = ?', [`dispatcher:${owner}`]);
    }
    await t.execute(`DELETE FROM settings WHERE key LIKE 'dispatcher:%' AND CAST(value AS BIGINT) < ?`, [Date.now() - 60_000]);
    await t.execute(`UPDATE deliveries SET lease_until = ? WHERE lease_owner = ? AND status = ${STATUS.sending}`, [leaseUntil, owner]);
    if (activeEndpoints.length > 0) {
      await t.execute(
        `UPDATE endpoints SET owner_until = ? WHERE owner = ? AND endpoint_key IN (${placeholders(activeEndpoints.length)})`,
        [leaseUntil, owner, ...activeEndpoints],
      );
      await t.execute(
        `UPDATE endpoints SET owner = NULL, owner_until = NULL WHERE owner = ? AND endpoint_key NOT IN (${placeholders(activeEndpoints.length)})`,
        [owner, ...activeEndpoints],
      );
    } else {
      await t.execute('UPDATE endpoints SET owner = NULL, owner_until = NULL WHERE owner = ?', [owner]);
    }
  });
}
