/**
 * Claiming deliveries and keeping claims alive: the dispatcher's side of the outbox.
 *
 * A claim runs in one transaction and decides, in SQL and so across processes: endpoint
 * ownership (an endpoint — a receiver origin — is served by one dispatcher at a time, which then
 * enforces the limits of its lanes and of the origin exactly and can keep a few deliveries
 * queued ahead), a fair share of the endpoints for each live dispatcher, lane slow-down after
 * 429/502/503/504 (a lane is one tenant at one origin: `endpoints` rows keyed
 * `laneKey(tenant, origin)` carry its pause; rows keyed by the bare origin its ownership),
 * per-webhook rate limits (a send slot per delivery), and per-application ordering (only the
 * oldest unfinished delivery of a (webhook, application) chain is eligible). Attempts are
 * counted at claim time, so a crash mid-send still counts as an attempt.
 */
import { claimRoom, concurrencyOf, laneKey, takeRateSlot } from '../domain/limits.js';
import type { Db, SqlValue } from './db.js';
import type { Keyring } from '../domain/encryption.js';
import { toDelivery, toWebhook } from './rows.js';
import { anyOf, placeholders, RELAXED, STATUS } from './sql.js';
import { DELIVERY_STATUS, type Delivery, type Webhook } from './types.js';
import type { ClaimedDelivery, ClaimOptions } from './dispatch-store.js';

/** A delivery's lane in SQL, exactly as the index deliveries_lane (migration 150) is written. */
const LANE = `(d.tenant_id || ' ' || d.endpoint_key)`;

/** Lanes read per claim at most (one index seek each): far more than an installation has with work. */
const MAX_LANES = 5000;

/** Lanes per statement when their due deliveries are read (a UNION ALL of one range each). */
const LANES_PER_STATEMENT = 50;

/**
 * The lanes with pending deliveries, due or not: a skip scan of deliveries_lane, one seek per
 * lane, however many deliveries each has queued.
 */
async function pendingLanes(db: Db): Promise<string[]> {
  return (await db.query<{ k: string }>(
    `WITH RECURSIVE l(k) AS (
       SELECT MIN(${LANE}) FROM deliveries d WHERE d.status = ${STATUS.pending}
       UNION ALL
       SELECT (SELECT MIN(${LANE}) FROM deliveries d WHERE d.status = ${STATUS.pending} AND ${LANE} > l.k) FROM l WHERE l.k IS NOT NULL)
     SELECT k FROM l WHERE k IS NOT NULL LIMIT ${MAX_LANES}`,
  )).map((r) => r.k);
}

/**
 * The due deliveries a claim may take from these lanes, oldest first, up to `limit`, each lane
 * read on its own; a full, paused or busy lane is passed over without a read.
 * A walk of all due deliveries in time order passed each of them first (300 ms a claim, and
 * another tenant's deliveries a second late, behind one tenant's 300,000 to a stuck receiver).
 * Only the head of each (webhook, application) chain is eligible (per-application ordering),
 * and nothing of a webhook whose rate limit has no slot soon (`limited`).
 */
async function dueCandidates(t: Db, q: { lanes: string[]; now: number; limit: number; laneLimit: (lane: string) => number; limited: string[]; passOver: (lane: string) => boolean }): Promise<Candidate[]> {
  const lanes = q.lanes.filter((k) => !q.passOver(k));
  const filters = [`d.status = ${STATUS.pending}`, 'd.next_attempt_at <= ?'];
  const filterParams: SqlValue[] = [q.now];
  if (q.limited.length > 0) { filters.push(`d.webhook_id NOT IN (${placeholders(q.limited.length)})`); filterParams.push(...q.limited); }
  filters.push(`(d.order_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.order_key = d.order_key
      AND p.seq < d.seq AND p.status IN (${STATUS.pending}, ${STATUS.sending})))`);
  const picks: { seq: number; at: number }[] = [];
  for (let i = 0; i < lanes.length; i += LANES_PER_STATEMENT) {
    const group = lanes.slice(i, i + LANES_PER_STATEMENT);
    const one = (n: number) => `SELECT * FROM (SELECT d.seq, d.next_attempt_at FROM deliveries d WHERE ${LANE} = ? AND ${filters.join(' AND ')}
      ORDER BY d.next_attempt_at, d.seq LIMIT ?) AS lane_${n}`;
    const rows = await t.query<{ seq: number; next_attempt_at: number }>(
      group.map((_, n) => one(n)).join(' UNION ALL '),
      group.flatMap((lane) => [lane, ...filterParams, q.laneLimit(lane)]),
    );
    for (const r of rows) picks.push({ seq: Number(r.seq), at: Number(r.next_attempt_at) });
  }
  if (picks.length === 0) return [];
  const seqs = picks.sort((a, b) => a.at - b.at || a.seq - b.seq).slice(0, q.limit).map((p) => p.seq);
  // Locked only now, by primary key, with the columns the choice needs (the chosen ones are read
  // whole with their bodies after: take). The status is read again under the lock: another
  // claimer may have taken a row meanwhile (PostgreSQL; SQLite runs one transaction at a time).
  const lock = t.dialect === 'postgres' ? ' FOR UPDATE OF d SKIP LOCKED' : '';
  const chosen = anyOf(t, 'd.seq', seqs, 'bigint');
  return t.query<Candidate>(
    `SELECT d.seq, d.id, d.tenant_id, d.webhook_id, d.endpoint_key FROM deliveries d
     WHERE d.status = ${STATUS.pending} AND ${chosen.sql}
     ORDER BY d.next_attempt_at, d.seq${lock}`, chosen.params,
  );
}

interface EndpointState { endpoint_key: string; owner: string | null; owner_until: number | null; blocked_until: number | null; slowdowns: number }

/**
 * What a claim reads before its candidates, in one statement (on PostgreSQL, three statements
 * were three round trips in every claim): the endpoints another live dispatcher serves or that
 * asked us to slow down, and ours, with the lanes that have slow-downs counted, which a success
 * then clears (completeAttempts); how many dispatchers are live (they register by heartbeat,
 * renewLeases, in settings as `dispatcher:<owner>`); and the webhooks whose rate limit has no
 * slot soon.
 */
async function claimState(t: Db, now: number): Promise<{ states: EndpointState[]; live: number; limited: string[] }> {
  const rows = await t.query<{ kind: string; k: string | null; owner: string | null; n1: number | null; n2: number | null; n3: number | null }>(
    `SELECT 'endpoint' AS kind, endpoint_key AS k, owner, owner_until AS n1, blocked_until AS n2, slowdowns AS n3 FROM endpoints
       WHERE owner IS NOT NULL OR blocked_until > ? OR slowdowns > 0
     UNION ALL SELECT 'live', NULL, NULL, COUNT(*), NULL, NULL FROM settings WHERE key LIKE 'dispatcher:%' AND CAST(value AS BIGINT) > ?
     UNION ALL SELECT 'limited', id, NULL, NULL, NULL, NULL FROM webhooks WHERE next_send_at > ?`,
    [now, now, now + 1000],
  );
  const states: EndpointState[] = [];
  const limited: string[] = [];
  let live = 1;
  for (const r of rows) {
    if (r.kind === 'endpoint') {
      states.push({ endpoint_key: String(r.k), owner: r.owner, owner_until: r.n1, blocked_until: r.n2, slowdowns: Number(r.n3) });
    } else if (r.kind === 'live') live = Math.max(1, Number(r.n1));
    else limited.push(String(r.k));
  }
  return { states, live, limited };
}

export async function claimDeliveries(db: Db, opts: ClaimOptions, ring: Keyring): Promise<ClaimedDelivery[]> {
  const { now, owner } = opts;
  // The lanes with work, read before the transaction. When this dispatcher already holds enough of
  // each (or paused it), as after most wake-ups while it is busy, there is nothing to claim and no
  // transaction is opened: on PostgreSQL 375 of 899 claims, each a BEGIN, four reads and a COMMIT
  // (bench e2e, a connection per POST); on SQLite each took the write lock.
  const skip = new Set(opts.skipLanes ?? []);
  const lanes = (await pendingLanes(db)).filter((k) => !skip.has(k));
  if (lanes.length === 0) return [];
  return db.tx(async (t) => {
    const { states, live, limited } = await claimState(t, now);
    const mine = new Set<string>();
    const busy: string[] = [];
    const paused: string[] = [];
    const slowed = new Set(states.filter((e) => Number(e.slowdowns) > 0).map((e) => e.endpoint_key));
    for (const e of states) {
      const live = e.owner !== null && Number(e.owner_until) > now;
      // Before this change an origin row could carry a pause too: it still counts, for everyone.
      if (Number(e.blocked_until) > now) (e.endpoint_key.includes(' ') ? paused : busy).push(e.endpoint_key);
      else if (live && e.owner === owner) mine.add(e.endpoint_key);
      else if (live) busy.push(e.endpoint_key);
    }
    const excluded = new Set(busy);
    // The lanes this dispatcher skips are gone from `lanes` already; those paused remain.
    const pausedLanes = new Set(paused);
    const ownedLive = states.filter((e) => e.owner !== null && Number(e.owner_until) > now).length;

    const candidates = await dueCandidates(t, {
      lanes, now, limit: opts.limit, laneLimit: (lane) => laneReadLimit(opts, lane), limited,
      // A lane is passed over when it is paused, or its origin is served by another dispatcher
      // (or paused as a whole, as rows before lanes were).
      passOver: (lane) => pausedLanes.has(lane) || excluded.has(lane.slice(lane.indexOf(' ') + 1)),
    });
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
      // Ours and live already: the heartbeat keeps it; no statement needed (one fewer per claim).
      if (mine.has(key)) { owned.add(key); continue; }
      if (taken >= mayTake) continue;
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
      .map((r) => [String(r.id), { webhook: toWebhook(r, ring), nextSendAt: r.next_send_at === null ? null : Number(r.next_send_at) }]));

    const chosen: Chosen[] = [];
    const inactive: string[] = [];
    const slots = new Map<string, number>();
    // Taken per lane in this claim; a delivery is taken while that stays under its webhook's room.
    const takenByLane = new Map<string, number>();
    for (const d of candidates) {
      if (!owned.has(d.endpoint_key)) continue;
      const h = hooks.get(d.webhook_id);
      if (!h || !h.webhook.active) { inactive.push(d.id); continue; }
      const w = h.webhook;
      const lane = laneKey(d.tenant_id, d.endpoint_key);
      const n = takenByLane.get(lane) ?? 0;
      if (opts.room) {
        const { rounds, defaultConcurrency, held } = opts.room;
        if (n >= claimRoom(concurrencyOf(w.max_concurrency, defaultConcurrency), rounds, held.get(lane) ?? 0)) continue;
      }
      let notBefore = now;
      if (w.rate_limit) {
        const slot = takeRateSlot(slots.get(w.id) ?? h.nextSendAt, w.rate_limit, now);
        if (slot === null) continue;
        notBefore = slot.notBefore;
        slots.set(w.id, slot.nextFree);
      }
      takenByLane.set(lane, n + 1);
      chosen.push({ seq: Number(d.seq), webhook: w, notBefore });
    }
    const claimed = await take(t, chosen, slowed, { owner, until: now + opts.leaseMs, now });
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
  }, RELAXED);
}

/**
 * How many of a lane's due rows a claim reads: all it may take (`limit`), or, for a lane the
 * dispatcher serves already, what that lane's queue can still hold. Reading up to `limit` in every
 * lane read 189 rows a claim (twice: the lane, then the candidates) where 19 were taken; those
 * two reads were 0.9 ms of a claim, 0.6 s of SQLite time in an end-to-end run of 11,000 events
 * in one process (BENCHMARKS.md).
 */
function laneReadLimit(opts: ClaimOptions, lane: string): number {
  const limit = opts.room?.limits?.get(lane);
  if (!opts.room || limit === undefined) return opts.limit;
  return Math.min(opts.limit, claimRoom(limit, opts.room.rounds, opts.room.held.get(lane) ?? 0));
}

/** The columns a claim chooses by: the full rows are read for the chosen ones only (take). */
interface Candidate {
  seq: number;
  id: string;
  tenant_id: string;
  webhook_id: string;
  endpoint_key: string;
}

interface Chosen { seq: number; webhook: Webhook; notBefore: number }

/**
 * The chosen deliveries taken (sending, an attempt counted, the lease this dispatcher's) and read
 * whole with their bodies, in the order they were chosen (due time, seq). On PostgreSQL that is
 * one `UPDATE … FROM payloads … RETURNING` per 500: the read and the update were two round trips
 * in every claim. SQLite's RETURNING cannot name the FROM table, and a statement there is a call
 * into the library: it reads, then updates.
 */
async function take(t: Db, chosen: Chosen[], slowed: ReadonlySet<string>, lease: { owner: string; until: number; now: number }): Promise<ClaimedDelivery[]> {
  const set = `status = ${STATUS.sending}, attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ?`;
  const setParams = [lease.owner, lease.until, lease.now];
  const rows = new Map<number, Delivery>();
  for (let i = 0; i < chosen.length; i += 500) {
    const chunk = anyOf(t, 'd.seq', chosen.slice(i, i + 500).map((c) => c.seq), 'bigint');
    if (t.dialect === 'postgres') {
      const taken = await t.query(
        `UPDATE deliveries d SET ${set} FROM payloads p WHERE p.id = d.payload_id AND ${chunk.sql} AND d.status = ${STATUS.pending}
         RETURNING d.*, p.body, p.content_type`, [...setParams, ...chunk.params],
      );
      for (const r of taken) rows.set(Number(r.seq), toDelivery(r));
      continue;
    }
    const found = await t.query(`SELECT d.*, p.body, p.content_type FROM deliveries d JOIN payloads p ON p.id = d.payload_id WHERE ${chunk.sql}`, chunk.params);
    for (const r of found) {
      const d = toDelivery(r);
      rows.set(Number(r.seq), { ...d, status: DELIVERY_STATUS.sending, attempts: d.attempts + 1, updated_at: lease.now });
    }
    await t.execute(`UPDATE deliveries AS d SET ${set} WHERE ${chunk.sql} AND d.status = ${STATUS.pending}`, [...setParams, ...chunk.params]);
  }
  return chosen.flatMap(({ seq, webhook, notBefore }) => {
    const d = rows.get(seq);
    // Chosen with its payload, under this transaction's write lock (SQLite) or row lock
    // (PostgreSQL): always there.
    return d ? [{ delivery: d, webhook, notBefore, laneSlowed: slowed.has(laneKey(d.tenant_id, d.endpoint_key)) }] : [];
  });
}

export async function renewLeases(db: Db, owner: string, leaseUntil: number, activeEndpoints: string[]): Promise<void> {
  await db.tx(async (t) => {
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
  }, RELAXED);
}
