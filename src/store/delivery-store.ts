/**
 * Deliveries and attempts: the outbox rows the dispatcher works through, and what the API
 * shows of them.
 *
 * A delivery's states:
 *   pending   — waiting for its next attempt (`next_attempt_at`)
 *   sending   — claimed by a dispatcher under a lease (`lease_owner`, `lease_until`)
 *   succeeded — a 2xx was received (terminal)
 *   failed    — the schedule is exhausted, the webhook answered 410 or was disabled (terminal,
 *               resendable)
 *   cancelled — its webhook was deleted (terminal)
 *
 * Claims (claims.ts) take deliveries under a lease that a live dispatcher renews by heartbeat;
 * a dead one's run out and another dispatcher takes over.
 */
import type { Db, Dialect, SqlValue } from './db.js';
import type { Keyring } from '../domain/encryption.js';
import { decodeCursor, toAttempt, toDelivery, toPage, toWebhook } from './rows.js';
import { claimDeliveries, renewLeases } from './claims.js';
import { completeAttempts } from './outcomes.js';
import { applicationSummary, deliveryWhere } from './delivery-filter.js';
import { OUTCOME, placeholders, STATUS } from './sql.js';
import type { AttemptOutcome, ClaimedDelivery, ClaimOptions, DispatchStore } from './dispatch-store.js';
import {
  type Attempt, type Delivery, type DeliveryFilter, type Page, type PageQuery, type Webhook,
} from './types.js';

export interface QueueStats {
  due: number;
  scheduled: number;
  sending: number;
  oldestDueAt: number | null;
  /** Fan-out jobs whose deliveries are not all written yet (fanout.ts). */
  fanoutJobs: number;
}

export interface WebhookStats {
  attempts: number;
  successes: number;
  failures: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  last_error: { at: number; error: string } | null;
}

export interface MinuteBucket {
  minute: number;
  success: number;
  failure: number;
}

export type BulkAction = 'retry_now' | 'resend';

/** Deliveries as the API and the operators see them; the dispatcher's side is DispatchStore. */
export interface DeliveryStore {
  listDeliveries(tenantId: string, filter: DeliveryFilter, page: PageQuery): Promise<Page<Delivery>>;
  getDelivery(tenantId: string, id: string): Promise<Delivery | null>;
  listAttempts(deliveryId: string): Promise<Attempt[]>;

  /** A terminal delivery goes again with a fresh schedule; null when not found or still in progress. */
  resendDelivery(tenantId: string, id: string, now: number): Promise<Delivery | null>;
  /** A pending delivery becomes due now, its schedule kept; null when not found or not pending. */
  retryDeliveryNow(tenantId: string, id: string, now: number): Promise<Delivery | null>;
  /** retry_now or resend on ids or on a list filter; the count only with dryRun. */
  bulkDeliveries(tenantId: string, action: BulkAction, target: { ids?: string[]; filter?: DeliveryFilter }, now: number, dryRun?: boolean): Promise<number>;
  /** Every failed delivery of a webhook created in [since, until) goes again. */
  recoverDeliveries(tenantId: string, webhookId: string, since: number, until: number, now: number): Promise<number>;
  /** Pending deliveries of a disabled webhook become failed (visible, resendable). */
  failPendingDeliveries(webhookId: string, reason: string, now: number): Promise<number>;
  queueStats(now: number): Promise<QueueStats>;
  /** Those of the given webhook ids that exist and are not deleted (metrics drop the others). */
  liveWebhookIds(webhookIds: string[]): Promise<string[]>;
  /** Attempts of one webhook since a time: outcome counts, latency percentiles, last error. */
  webhookStats(webhookId: string, since: number): Promise<WebhookStats>;
  /** Deliveries finished per minute: succeeded, and failed for good (retries not counted). */
  deliveriesPerMinute(tenantId: string, since: number, webhookId?: string): Promise<MinuteBucket[]>;
  /** Attempts per minute by outcome, for a tenant or one of its webhooks. */
  attemptsPerMinute(tenantId: string, since: number, webhookId?: string): Promise<MinuteBucket[]>;
}

/**
 * A page of a tenant's delivery list: newest first unless asked, what an operator looking at
 * deliveries wants to see. The pratica's doc rides along for its subject and applicant (one page
 * of rows, by primary key). Exported for the test that reads its plan.
 */
export function deliveryListQuery(dialect: Dialect, tenantId: string, filter: DeliveryFilter, page: PageQuery): { sql: string; params: SqlValue[] } {
  const asc = filter.order === 'asc';
  const before = decodeCursor(page.cursor);
  const { where, params } = deliveryWhere(dialect, tenantId, filter);
  if (before !== null) { where.push(asc ? 'd.seq > ?' : 'd.seq < ?'); params.push(before); }
  params.push(page.limit + 1);
  return {
    sql: `SELECT d.*, p.body, p.content_type, a.doc AS app_doc FROM deliveries d JOIN payloads p ON p.id = d.payload_id
       LEFT JOIN applications a ON a.id = d.subject AND a.tenant_id = d.tenant_id
       WHERE ${where.join(' AND ')} ORDER BY d.seq ${asc ? '' : 'DESC'} LIMIT ?`,
    params,
  };
}

/** Both sides over SQL; setWebhookActive lives with the webhooks (sql-store.ts). */
export class SqlDeliveryStore implements DeliveryStore, Omit<DispatchStore, 'setWebhookActive'> {
  /** PostgreSQL: the NOTIFY channel that wakes dispatchers in other processes. */
  protected wakeChannel: string | null = null;

  constructor(protected readonly db: Db, protected readonly ring: Keyring) {}

  /** Tells dispatchers elsewhere that deliveries became due (sent on commit, with it in a transaction; a hint only). */
  protected async notifyWake(t: Db = this.db): Promise<void> {
    if (!this.wakeChannel) return;
    if (t.notifyOnCommit) t.notifyOnCommit(this.wakeChannel);
    else await t.query('SELECT pg_notify(?, ?)', [this.wakeChannel, '']);
  }

  async listDeliveries(tenantId: string, filter: DeliveryFilter, page: PageQuery): Promise<Page<Delivery>> {
    const { sql, params } = deliveryListQuery(this.db.dialect, tenantId, filter, page);
    const rows = await this.db.query(sql, params);
    return toPage(rows.map((r) => ({ ...toDelivery(r), application: applicationSummary(r.app_doc) })), page.limit, (d) => d.seq);
  }

  /**
   * Operator actions on many deliveries, by ids or by a list filter. `retry_now`: pending ones
   * become due at once; `resend`: finished ones go again with a fresh schedule. Both count the
   * next attempt as manual; numbering goes on. With `dryRun` only the count is answered.
   */
  async bulkDeliveries(tenantId: string, action: BulkAction, target: { ids?: string[]; filter?: DeliveryFilter }, now: number, dryRun = false): Promise<number> {
    const { where, params } = deliveryWhere(this.db.dialect, tenantId, target.filter ?? {});
    if (target.ids) {
      if (target.ids.length === 0) return 0;
      where.push(`d.id IN (${placeholders(target.ids.length)})`);
      params.push(...target.ids);
    }
    where.push(action === 'retry_now' ? `d.status = ${STATUS.pending}` : `d.status IN (${STATUS.failed}, ${STATUS.succeeded}, ${STATUS.cancelled})`);
    const chosen = `SELECT d.id FROM deliveries d WHERE ${where.join(' AND ')}`;
    if (dryRun) {
      const rows = await this.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM (${chosen}) x`, params);
      return Number(rows[0]?.n ?? 0);
    }
    const set = action === 'retry_now'
      ? `manual_attempts = manual_attempts || ',' || CAST(attempt_offset + attempts + 1 AS TEXT)`
      : `attempt_offset = attempt_offset + attempts, attempts = 0, completed_at = NULL,
         manual_attempts = manual_attempts || ',' || CAST(attempt_offset + attempts + 1 AS TEXT)`;
    const n = await this.db.execute(
      `UPDATE deliveries SET ${set}, status = ${STATUS.pending}, next_attempt_at = ?, updated_at = ?
       WHERE id IN (${chosen}) AND ${action === 'retry_now' ? `status = ${STATUS.pending}` : `status IN (${STATUS.failed}, ${STATUS.succeeded}, ${STATUS.cancelled})`}`,
      [now, now, ...params],
    );
    if (n > 0) await this.notifyWake();
    return n;
  }

  async getDelivery(tenantId: string, id: string): Promise<Delivery | null> {
    const rows = await this.db.query(`SELECT d.*, p.body, p.content_type FROM deliveries d JOIN payloads p ON p.id = d.payload_id WHERE d.tenant_id = ? AND d.id = ?`, [tenantId, id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async listAttempts(deliveryId: string): Promise<Attempt[]> {
    const rows = await this.db.query('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY seq', [deliveryId]);
    return rows.map(toAttempt);
  }

  claimDeliveries(opts: ClaimOptions): Promise<ClaimedDelivery[]> {
    return claimDeliveries(this.db, opts, this.ring);
  }

  renewLeases(owner: string, leaseUntil: number, activeEndpoints: string[]): Promise<void> {
    return renewLeases(this.db, owner, leaseUntil, activeEndpoints);
  }

  completeAttempts(outcomes: AttemptOutcome[]): Promise<void> {
    return completeAttempts(this.db, outcomes);
  }

  /** How many slow-downs in a row a lane has had (for its back-off). */
  async laneSlowdowns(lane: string): Promise<number> {
    const rows = await this.db.query<{ slowdowns: number }>('SELECT slowdowns FROM endpoints WHERE endpoint_key = ?', [lane]);
    return rows[0] ? Number(rows[0].slowdowns) : 0;
  }

  async releaseClaims(owner: string, deliveryIds: string[], now: number): Promise<number> {
    if (deliveryIds.length === 0) return 0;
    const n = await this.db.execute(
      `UPDATE deliveries SET status = ${STATUS.pending}, lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, updated_at = ?
       WHERE lease_owner = ? AND status = ${STATUS.sending} AND id IN (${placeholders(deliveryIds.length)})`,
      [now, now, owner, ...deliveryIds],
    );
    if (n > 0) await this.notifyWake();
    return n;
  }

  async releaseExpiredLeases(now: number, maxAttempts: number): Promise<number> {
    return this.db.execute(
      `UPDATE deliveries SET status = CASE WHEN attempts >= ? THEN ${STATUS.failed} ELSE ${STATUS.pending} END,
         completed_at = CASE WHEN attempts >= ? THEN CAST(? AS BIGINT) ELSE NULL END,
         last_error = 'lease expired: the worker stopped during the attempt',
         next_attempt_at = CASE WHEN attempts >= ? THEN NULL ELSE CAST(? AS BIGINT) END,
         lease_owner = NULL, lease_until = NULL, updated_at = ?
       WHERE status = ${STATUS.sending} AND lease_until < ?`,
      [maxAttempts, maxAttempts, now, maxAttempts, now, now, now],
    );
  }

  async webhooksFailingSince(webhookIds: string[], failingSince: number): Promise<Webhook[]> {
    if (webhookIds.length === 0) return [];
    const rows = await this.db.query(
      `SELECT * FROM webhooks WHERE id IN (${placeholders(webhookIds.length)}) AND active = 1 AND deleted_at IS NULL
         AND failing_since IS NOT NULL AND failing_since <= ?`,
      [...webhookIds, failingSince],
    );
    return rows.map((r) => toWebhook(r, this.ring));
  }

  async resendDelivery(tenantId: string, id: string, now: number): Promise<Delivery | null> {
    const changed = await this.bulkDeliveries(tenantId, 'resend', { ids: [id] }, now);
    return changed === 0 ? null : this.getDelivery(tenantId, id);
  }

  async retryDeliveryNow(tenantId: string, id: string, now: number): Promise<Delivery | null> {
    const changed = await this.bulkDeliveries(tenantId, 'retry_now', { ids: [id] }, now);
    return changed === 0 ? null : this.getDelivery(tenantId, id);
  }

  async recoverDeliveries(tenantId: string, webhookId: string, since: number, until: number, now: number): Promise<number> {
    const n = await this.db.execute(
      `UPDATE deliveries SET status = ${STATUS.pending}, attempt_offset = attempt_offset + attempts, attempts = 0,
         manual_attempts = manual_attempts || ',' || CAST(attempt_offset + attempts + 1 AS TEXT), next_attempt_at = ?, completed_at = NULL, updated_at = ?
       WHERE tenant_id = ? AND webhook_id = ? AND status = ${STATUS.failed} AND created_at >= ? AND created_at < ?`,
      [now, now, tenantId, webhookId, since, until],
    );
    if (n > 0) await this.notifyWake();
    return n;
  }

  async failPendingDeliveries(webhookId: string, reason: string, now: number): Promise<number> {
    return this.db.execute(
      `UPDATE deliveries SET status = ${STATUS.failed}, last_error = ?, next_attempt_at = NULL, completed_at = ?, updated_at = ?
       WHERE webhook_id = ? AND status = ${STATUS.pending}`,
      [reason, now, now, webhookId],
    );
  }

  async liveWebhookIds(webhookIds: string[]): Promise<string[]> {
    const out: string[] = [];
    // 500 at a time: SQLite allows 32,766 parameters, but a scrape has no need to push it.
    for (let i = 0; i < webhookIds.length; i += 500) {
      const ids = webhookIds.slice(i, i + 500);
      const rows = await this.db.query<{ id: string }>(`SELECT id FROM webhooks WHERE id IN (${placeholders(ids.length)}) AND deleted_at IS NULL`, ids);
      out.push(...rows.map((r) => r.id));
    }
    return out;
  }

  async queueStats(now: number): Promise<QueueStats> {
    const rows = await this.db.query<{ due: number; scheduled: number; oldest: number | null }>(
      `SELECT SUM(CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END) AS due,
              SUM(CASE WHEN next_attempt_at > ? THEN 1 ELSE 0 END) AS scheduled,
              MIN(CASE WHEN next_attempt_at <= ? THEN next_attempt_at END) AS oldest
       FROM deliveries WHERE status = ${STATUS.pending}`,
      [now, now, now],
    );
    const sending = await this.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM deliveries WHERE status = ${STATUS.sending}`);
    const jobs = await this.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM fanout_jobs');
    const r = rows[0];
    return {
      due: Number(r?.due ?? 0), scheduled: Number(r?.scheduled ?? 0), sending: Number(sending[0]?.n ?? 0),
      oldestDueAt: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest), fanoutJobs: Number(jobs[0]?.n ?? 0),
    };
  }

  async nextDueAt(now: number): Promise<number | null> {
    const rows = await this.db.query<{ t: number | null }>(
      `SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status = ${STATUS.pending} AND next_attempt_at > ?`, [now],
    );
    return rows[0]?.t === null || rows[0]?.t === undefined ? null : Number(rows[0].t);
  }

  async webhookStats(webhookId: string, since: number): Promise<WebhookStats> {
    const counts = await this.db.query<{ n: number; ok: number }>(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN outcome = ${OUTCOME.success} THEN 1 ELSE 0 END) AS ok
       FROM attempts WHERE webhook_id = ? AND started_at >= ?`, [webhookId, since],
    );
    const n = Number(counts[0]?.n ?? 0);
    const ok = Number(counts[0]?.ok ?? 0);
    // Percentiles by offset into the sorted durations: three indexed reads, not a full fetch.
    const pct = async (p: number): Promise<number | null> => {
      if (n === 0) return null;
      const rows = await this.db.query<{ d: number }>(
        'SELECT duration_ms AS d FROM attempts WHERE webhook_id = ? AND started_at >= ? ORDER BY duration_ms LIMIT 1 OFFSET ?',
        [webhookId, since, Math.min(n - 1, Math.floor(p * n))],
      );
      return rows[0] ? Number(rows[0].d) : null;
    };
    const last = await this.db.query<{ started_at: number; status_code: number | null; error_class: string | null; error_message: string | null }>(
      `SELECT started_at, status_code, error_class, error_message FROM attempts
       WHERE webhook_id = ? AND outcome = ${OUTCOME.failure} ORDER BY seq DESC LIMIT 1`, [webhookId],
    );
    const l = last[0];
    return {
      attempts: n, successes: ok, failures: n - ok, p50_ms: await pct(0.5), p95_ms: await pct(0.95), p99_ms: await pct(0.99),
      last_error: l ? { at: Number(l.started_at), error: l.error_class ? `${l.error_class}: ${l.error_message ?? ''}` : `HTTP ${l.status_code}` } : null,
    };
  }

  async deliveriesPerMinute(tenantId: string, since: number, webhookId?: string): Promise<MinuteBucket[]> {
    const params: SqlValue[] = [tenantId, since];
    let extra = '';
    if (webhookId) { extra = ' AND webhook_id = ?'; params.push(webhookId); }
    const rows = await this.db.query<{ m: number; ok: number; ko: number }>(
      `SELECT completed_at / 60000 AS m, SUM(CASE WHEN status = ${STATUS.succeeded} THEN 1 ELSE 0 END) AS ok,
              SUM(CASE WHEN status = ${STATUS.failed} THEN 1 ELSE 0 END) AS ko
       FROM deliveries WHERE tenant_id = ? AND completed_at >= ?${extra} GROUP BY completed_at / 60000 ORDER BY 1`, params,
    );
    return rows.map((r) => ({ minute: Math.floor(Number(r.m)) * 60000, success: Number(r.ok), failure: Number(r.ko) }));
  }

  async attemptsPerMinute(tenantId: string, since: number, webhookId?: string): Promise<MinuteBucket[]> {
    const params: SqlValue[] = [tenantId, since];
    let extra = '';
    if (webhookId) { extra = ' AND a.webhook_id = ?'; params.push(webhookId); }
    const rows = await this.db.query<{ m: number; ok: number; ko: number }>(
      `SELECT a.started_at / 60000 AS m, SUM(CASE WHEN a.outcome = ${OUTCOME.success} THEN 1 ELSE 0 END) AS ok,
              SUM(CASE WHEN a.outcome = ${OUTCOME.success} THEN 0 ELSE 1 END) AS ko
       FROM attempts a JOIN webhooks w ON w.id = a.webhook_id
       WHERE w.tenant_id = ? AND a.started_at >= ?${extra} GROUP BY a.started_at / 60000 ORDER BY 1`, params,
    );
    return rows.map((r) => ({ minute: Math.floor(Number(r.m)) * 60000, success: Number(r.ok), failure: Number(r.ko) }));
  }
}
