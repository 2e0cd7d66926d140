/**
 * The store, written once in SQL over the database port. Dialect differences are confined to
 * the drivers (placeholders, error codes) and to the delivery claim (claims.ts). The outbox
 * lives in outbox.ts, deliveries and attempts in delivery-store.ts.
 */
import { uuid } from '../domain/ids.js';
import { seal, type Keyring } from '../domain/encryption.js';
import { EVENT_TYPES, MESSO_APP_ID, type EventRecord } from '../domain/events.js';
import type { ApplicationDoc } from '../domain/application.js';
import { CredentialTable, liveOf } from './credentials.js';
import { UniqueViolation, type Db, type SqlValue } from './db.js';
import { migrate, type Migration } from './migrations/index.js';
import { sealAtRest } from './sealing.js';
import { backfillTerms, searchCondition } from './search.js';
import { recoverSkipped, webhookHealth, type Recovery, type WebhookHealth } from './webhook-health.js';
import { purgeOlderThan, type PurgeResult } from './retention.js';
import { SqlDeliveryStore } from './delivery-store.js';
import { GroupCommit } from './group-commit.js';
import { appendInTx, appendTestDelivery, DEFAULT_FANOUT_CHUNK, insertAhead, newAppendShared, type AppendShared } from './outbox.js';
import { expandNextFanOut } from './fanout.js';
import { readAhead } from './applied.js';
import { flushHeld, newHeldWrites } from './held-writes.js';
import { STATUS } from './sql.js';
export { endpointKey } from './outbox.js';
import { SqlInspectorStore } from './inspector-store.js';
import { SqlIngestTokenStore } from './ingest-token-store.js';
import { DuplicateError, RevokedKeyError, type Store } from './store.js';
import {
  decodeCursor, toApplication, toEvent, toPage, toService, toTenant, toWebhook,
} from './rows.js';
import type {
  ApiKey, AppendResult, ApplicationFilter, ApplicationRow, EventFilter, FanOutPass, NewEvent, Page, PageQuery,
  Service, Tenant, Webhook, WebhookInput,
} from './types.js';

const b = (v: boolean): number => (v ? 1 : 0);

/** One appendEvents call, as its group commit takes it. */
interface AppendRequest {
  events: NewEvent[];
  /** An API key to read in the transaction: revoked, the request is refused (RevokedKeyError). */
  liveKey?: string;
}

/** How a store renders the bodies it freezes. */
export interface StoreOptions {
  /** CloudEvents `type` prefix (MESSO_CLOUDEVENTS_TYPE_PREFIX); the domain's default when absent. */
  cloudEventsTypePrefix?: string;
  /** Deliveries written per transaction at most (MESSO_FANOUT_CHUNK); beyond, fan-out jobs. */
  fanoutChunk?: number;
}

export class SqlStore extends SqlDeliveryStore implements Store {
  readonly inspector: SqlInspectorStore;
  readonly ingestTokens: SqlIngestTokenStore;
  private readonly apiKeys: CredentialTable;
  /** Concurrent appendEvents calls share a transaction (group-commit.ts). */
  private readonly appends: GroupCommit<AppendRequest, AppendResult[], AppendShared>;

  constructor(db: Db, private readonly migrations: Migration[], ring: Keyring, private readonly options: StoreOptions = {}) {
    super(db, ring);
    this.inspector = new SqlInspectorStore(db, ring);
    this.ingestTokens = new SqlIngestTokenStore(db);
    this.apiKeys = new CredentialTable(db, 'api_keys');
    this.appends = new GroupCommit(db, {
      work: (t, { events, liveKey }, shared) => {
        if (liveKey !== undefined && !shared.liveKeys.has(liveKey)) throw new RevokedKeyError();
        return appendInTx(t, events, { ring: this.ring, typePrefix: this.options.cloudEventsTypePrefix, shared, holdWrites: true });
      },
      newShared: () => newAppendShared(this.chunk),
      begin: async (t, requests, shared) => {
        // The keys its requests did not look up (appendEvents' liveKey), in one statement.
        shared.liveKeys = await liveOf(t, 'api_keys', [...new Set(requests.flatMap((r) => r.liveKey ?? []))]);
        // PostgreSQL: the group's pratiche with snapshots to classify, locked and read in two statements (applied.ts).
        await readAhead(t, shared.applied, requests.flatMap((r) => r.events));
      },
      // PostgreSQL: the rows of the group's snapshots, one statement for them all (outbox.ts).
      beginTogether: (t, requests, shared) => insertAhead(t, shared, requests.flatMap((r) => r.events)),
      // The group's payloads, deliveries and terms: a few statements for all its events.
      settle: (t, shared) => flushHeld(t, shared.held),
      drop: (shared) => {
        shared.held = newHeldWrites();
        shared.applied.clear();
      },
      // One NOTIFY per group, not per request.
      after: async (t, outs) => {
        if (outs.some((rs) => rs.some((r) => r.deliveries > 0))) await this.notifyWake(t);
      },
      // Up to 1,000 events a transaction: a batch of 1,000 goes alone, 32 single posts together.
      weight: (r) => r.events.length, maxWeight: 1000,
      // SQLite runs one transaction at a time anyway. PostgreSQL overlaps two groups' round trips
      // (a remote server's latency is hidden by the other group); more makes smaller groups. Bench,
      // ingest alone, server on the same 2 cores, two rounds: 1 group 504–523 ev/s (CPU 5.0–5.3 s
      // per 5,000), 2: 492–525 (5.8–6.0 s), 4: 427–475 (6.7–7.6 s), 8: 359–440 (7.5–9.5 s).
      concurrency: db.dialect === 'postgres' ? 2 : 1,
    });
  }

  private webhookOf(r: Record<string, unknown>): Webhook {
    return toWebhook(r, this.ring);
  }

  private sealed(plaintext: string): string {
    return seal(this.ring, plaintext);
  }

  get dialect() {
    return this.db.dialect;
  }

  /** Wakes this process's dispatcher when another process queued work; null: nothing to listen to. */
  subscribeWake(onWake: () => void, onError: (err: Error) => void): { close(): Promise<void> } | null {
    const version = this.db.dataVersion?.bind(this.db);
    if (!version) return null;
    // SQLite shared by processes (serve + worker on one machine): data_version moves when
    // another process commits. Checked every 10 ms, the dispatcher's gap between short claims:
    // an in-memory read, no query on the rows. Every 25 ms, a worker's deliveries at 1,000
    // events/s arrived 23–26 ms after their scheduled send at the median; every 10 ms, 15–17.
    let last = version();
    const timer = setInterval(() => {
      try {
        const now = version();
        if (now !== last) {
          last = now;
          onWake();
        }
      } catch (err) {
        onError(err as Error);
      }
    }, 10);
    timer.unref();
    return { close: async () => clearInterval(timer) };
  }

  /** The database port itself, for whole-store tools (migrate-store). */
  get database(): Db {
    return this.db;
  }

  async keepStatistics(): Promise<string[]> {
    return [];
  }

  async purgeOlderThan(cutoff: number): Promise<PurgeResult> {
    return purgeOlderThan(this.db, cutoff);
  }

  async migrate(): Promise<void> {
    await migrate(this.db, this.migrations);
    await sealAtRest(this.db, this.ring);
    // Pratiche projected before the search index (migrations 140, 160) are indexed: one seek of
    // a partial index when none is left.
    await backfillTerms(this.db);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async getSetting(key: string): Promise<string | null> {
    const rows = await this.db.query<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
    return rows[0]?.value ?? null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.db.execute(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }

  // ── tenants and keys ──────────────────────────────────────────────────────

  async createTenant(input: { id: string; name: string; slug: string; external_id: string | null }): Promise<Tenant> {
    const now = Date.now();
    try {
      const rows = await this.db.query(
        'INSERT INTO tenants (id, name, slug, external_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
        [input.id, input.name, input.slug, input.external_id, now, now],
      );
      return toTenant(rows[0]);
    } catch (err) {
      throw await this.tenantDuplicate(err, input.slug, input.external_id);
    }
  }

  private async tenantDuplicate(err: unknown, slug: string | undefined, externalId: string | null | undefined): Promise<unknown> {
    if (!(err instanceof UniqueViolation)) return err;
    if (externalId && (await this.findTenantByExternalId(externalId))) {
      return new DuplicateError('a tenant with this external_id already exists', 'external_id');
    }
    if (slug) return new DuplicateError('a tenant with this slug already exists', 'slug');
    return err;
  }

  async updateTenant(id: string, patch: Partial<Pick<Tenant, 'name' | 'external_id'>>): Promise<Tenant | null> {
    const current = await this.getTenant(id);
    if (!current) return null;
    const next = { ...current, ...patch };
    try {
      const rows = await this.db.query(
        'UPDATE tenants SET name = ?, external_id = ?, updated_at = ? WHERE id = ? RETURNING *',
        [next.name, next.external_id, Date.now(), id],
      );
      return rows[0] ? toTenant(rows[0]) : null;
    } catch (err) {
      throw await this.tenantDuplicate(err, undefined, patch.external_id);
    }
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const rows = await this.db.query('SELECT * FROM tenants WHERE id = ?', [id]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async findTenantByExternalId(externalId: string): Promise<Tenant | null> {
    const rows = await this.db.query('SELECT * FROM tenants WHERE external_id = ?', [externalId]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async listTenants(page: PageQuery): Promise<Page<Tenant>> {
    const after = decodeCursor(page.cursor) ?? 0;
    const rows = await this.db.query('SELECT * FROM tenants WHERE seq > ? ORDER BY seq LIMIT ?', [after, page.limit + 1]);
    const p = toPage(rows, page.limit, (r) => Number(r.seq));
    return { items: p.items.map(toTenant), next_cursor: p.next_cursor };
  }

  createApiKey(input: { id: string; tenant_id: string; name: string; prefix: string; hash: string }): Promise<ApiKey> {
    return this.apiKeys.insert(input);
  }

  listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return this.apiKeys.list(tenantId);
  }

  revokeApiKey(tenantId: string, id: string): Promise<ApiKey | null> {
    return this.apiKeys.revoke(tenantId, id);
  }

  findApiKeyByHash(hash: string): Promise<ApiKey | null> {
    return this.apiKeys.findLiveByHash(hash);
  }

  // ── services and applications ───────────────────────────────────────────

  async getService(tenantId: string, id: string): Promise<Service | null> {
    const rows = await this.db.query('SELECT * FROM services WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    return rows[0] ? toService(rows[0]) : null;
  }

  async listServices(tenantId: string, page: PageQuery): Promise<Page<Service>> {
    const after = decodeCursor(page.cursor) ?? 0;
    const rows = await this.db.query(
      'SELECT * FROM services WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      [tenantId, after, page.limit + 1],
    );
    const p = toPage(rows, page.limit, (r) => Number(r.seq));
    return { items: p.items.map(toService), next_cursor: p.next_cursor };
  }

  async getApplication(tenantId: string, id: string): Promise<ApplicationRow | null> {
    const rows = await this.db.query('SELECT * FROM applications WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    return rows[0] ? toApplication(rows[0]) : null;
  }

  async listApplications(tenantId: string, filter: ApplicationFilter, page: PageQuery): Promise<Page<ApplicationRow>> {
    const desc = filter.order === 'desc';
    const cursor = decodeCursor(page.cursor);
    const where = ['tenant_id = ?'];
    const params: SqlValue[] = [tenantId];
    if (desc) { if (cursor !== null) { where.push('last_event_seq < ?'); params.push(cursor); } }
    else { where.push('last_event_seq > ?'); params.push(cursor ?? 0); }
    const search = filter.q ? searchCondition(this.db.dialect, 'id', tenantId, filter.q) : null;
    if (search) { where.push(search.sql); params.push(...search.params); }
    if (filter.status !== undefined) { where.push('status = ?'); params.push(filter.status); }
    if (filter.service_id !== undefined) { where.push('service_id = ?'); params.push(filter.service_id); }
    if (filter.updated_since !== undefined) { where.push('updated_at >= ?'); params.push(filter.updated_since); }
    params.push(page.limit + 1);
    const rows = await this.db.query(
      `SELECT * FROM applications WHERE ${where.join(' AND ')} ORDER BY last_event_seq ${desc ? 'DESC' : ''} LIMIT ?`, params,
    );
    const p = toPage(rows.map(toApplication), page.limit, (a) => a.last_event_seq);
    return p;
  }

  async replayApplication(tenantId: string, id: string): Promise<ApplicationDoc | null> {
    const rows = await this.db.query(
      `SELECT * FROM events WHERE tenant_id = ? AND subject = ? AND type LIKE 'application.%' ORDER BY seq`,
      [tenantId, id],
    );
    let doc: ApplicationDoc | null = null;
    let lastAt = -Infinity;
    for (const ev of rows.map(toEvent)) {
      const snapshot = ev.data.application as ApplicationDoc | undefined;
      // Same rule as the live projection: a snapshot older than the applied one is ignored.
      if (snapshot && ev.event_created_at >= lastAt) {
        doc = snapshot;
        lastAt = ev.event_created_at;
      }
    }
    return doc;
  }

  // ── events (the transactional outbox) ─────────────────────────────────────

  /** The events, their projections and deliveries, committed before this resolves. */
  async appendEvents(events: NewEvent[], opts: { liveKey?: string } = {}): Promise<AppendResult[]> {
    return this.appends.submit({ events, liveKey: opts.liveKey });
  }

  private async appendInTx(t: Db, events: NewEvent[]): Promise<AppendResult[]> {
    const results = await appendInTx(t, events, { ring: this.ring, typePrefix: this.options.cloudEventsTypePrefix, shared: newAppendShared(this.chunk) });
    if (results.some((r) => r.deliveries > 0)) await this.notifyWake(t);
    return results;
  }

  private get chunk(): number {
    return this.options.fanoutChunk ?? DEFAULT_FANOUT_CHUNK;
  }

  async expandFanOut(): Promise<FanOutPass> {
    // The usual answer, none waiting, from one read outside any transaction (no write lock).
    if ((await this.db.query('SELECT 1 AS x FROM fanout_jobs LIMIT 1')).length === 0) return { job: false, deliveries: 0 };
    return this.db.tx(async (t) => {
      const pass = await expandNextFanOut(t, { ring: this.ring, typePrefix: this.options.cloudEventsTypePrefix, chunk: this.chunk });
      if (pass.deliveries > 0) await this.notifyWake(t);
      return pass;
    });
  }

  async getEvent(tenantId: string, eventId: string): Promise<EventRecord | null> {
    const rows = await this.db.query('SELECT * FROM events WHERE tenant_id = ? AND event_id = ?', [tenantId, eventId]);
    return rows[0] ? toEvent(rows[0]) : null;
  }

  async listEvents(tenantId: string, filter: EventFilter, page: PageQuery): Promise<Page<EventRecord>> {
    const where = ['tenant_id = ?', 'seq > ?'];
    const params: SqlValue[] = [tenantId, decodeCursor(page.cursor) ?? 0];
    if (filter.type) {
      // A plain prefix compare, not LIKE: LIKE ignores case on SQLite only, and `_` is a wildcard.
      if (filter.type.endsWith('.*')) { const p = filter.type.slice(0, -1); where.push('substr(type, 1, ?) = ?'); params.push(p.length, p); }
      else { where.push('type = ?'); params.push(filter.type); }
    }
    if (filter.subject) { where.push('subject = ?'); params.push(filter.subject); }
    if (filter.since !== undefined) { where.push('event_created_at >= ?'); params.push(filter.since); }
    params.push(page.limit + 1);
    const rows = await this.db.query(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`, params);
    return toPage(rows.map(toEvent), page.limit, (e) => e.seq);
  }

  // ── webhooks ──────────────────────────────────────────────────────────────

  async createWebhook(w: WebhookInput & { id: string; tenant_id: string }): Promise<Webhook> {
    const now = Date.now();
    const rows = await this.db.query(
      `INSERT INTO webhooks (id, tenant_id, title, description, endpoint, method, trigger, events, filters, headers,
         version, format, active, ordering, max_concurrency, rate_limit, follow_redirects, secret, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [w.id, w.tenant_id, w.title, w.description, w.endpoint, w.method, w.trigger, JSON.stringify(w.events),
        JSON.stringify(w.filters), this.sealed(JSON.stringify(w.headers)), w.version, w.format, b(w.active), w.ordering,
        w.max_concurrency, w.rate_limit, b(w.follow_redirects), this.sealed(w.secret), now, now],
    );
    return this.webhookOf(rows[0]);
  }

  async updateWebhook(tenantId: string, id: string, patch: Partial<WebhookInput>): Promise<Webhook | null> {
    return this.db.tx(async (t) => {
      const rows = await t.query('SELECT * FROM webhooks WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL', [tenantId, id]);
      if (!rows[0]) return null;
      const current = this.webhookOf(rows[0]);
      const w = { ...current, ...patch };
      const updated = await t.query(
        `UPDATE webhooks SET title = ?, description = ?, endpoint = ?, method = ?, trigger = ?, events = ?, filters = ?,
           headers = ?, version = ?, format = ?, ordering = ?, max_concurrency = ?, rate_limit = ?, follow_redirects = ?, updated_at = ?
         WHERE tenant_id = ? AND id = ? RETURNING *`,
        [w.title, w.description, w.endpoint, w.method, w.trigger, JSON.stringify(w.events), JSON.stringify(w.filters),
          this.sealed(JSON.stringify(w.headers)), w.version, w.format, w.ordering, w.max_concurrency, w.rate_limit, b(w.follow_redirects), Date.now(), tenantId, id],
      );
      if (patch.active === undefined || patch.active === current.active) return this.webhookOf(updated[0]);
      return this.setActiveInTx(t, this.webhookOf(updated[0]), patch.active, patch.active ? 'enabled by the user' : 'disabled by the user');
    });
  }

  /**
   * Enables or disables a webhook and records webhook.enabled / webhook.disabled in the same
   * transaction (tenants may subscribe to those). Disabling fails its pending deliveries, so
   * nothing waits forever; they stay visible and can be recovered after re-enabling.
   */
  async setWebhookActive(tenantId: string, id: string, active: boolean, reason: string): Promise<Webhook | null> {
    return this.db.tx(async (t) => {
      const rows = await t.query('SELECT * FROM webhooks WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL', [tenantId, id]);
      if (!rows[0]) return null;
      const current = this.webhookOf(rows[0]);
      return current.active === active ? current : this.setActiveInTx(t, current, active, reason);
    });
  }

  /** Enables a webhook; with `recover`, also its skipped events and the deliveries its disabling failed. */
  async enableWebhook(tenantId: string, id: string, recover: boolean): Promise<{ webhook: Webhook; recovery: Recovery | null } | null> {
    return this.db.tx(async (t) => {
      const rows = await t.query('SELECT * FROM webhooks WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL', [tenantId, id]);
      if (!rows[0]) return null;
      const current = this.webhookOf(rows[0]);
      const webhook = current.active ? current : await this.setActiveInTx(t, current, true, 'enabled by the user', true);
      if (!recover) return { webhook, recovery: null };
      const recovery = await recoverSkipped(t, webhook, current.disabled_at, Date.now(), this.options.cloudEventsTypePrefix);
      if (recovery.created + recovery.resent > 0) await this.notifyWake(t);
      return { webhook, recovery };
    });
  }

  async createTestDelivery(hook: Webhook, ev: Omit<EventRecord, 'seq' | 'recorded_at'>, body: { body: string; contentType: string }): Promise<string> {
    return this.db.tx(async (t) => {
      const id = await appendTestDelivery(t, hook, ev, body, Date.now());
      await this.notifyWake(t);
      return id;
    });
  }

  webhookHealth(w: Webhook): Promise<WebhookHealth> {
    return webhookHealth(this.db, w);
  }

  private async setActiveInTx(t: Db, w: Webhook, active: boolean, reason: string, keepSkips = false): Promise<Webhook> {
    const now = Date.now();
    // A new disabling counts its own skipped events; a plain enabling forgets them.
    if (!keepSkips) await t.execute('DELETE FROM webhook_skips WHERE webhook_id = ?', [w.id]);
    const rows = await t.query(
      `UPDATE webhooks SET active = ?, disabled_reason = ?, disabled_at = ?, failing_since = NULL, updated_at = ?
       WHERE id = ? RETURNING *`,
      [b(active), active ? null : reason, active ? null : now, now, w.id],
    );
    if (!active) {
      await t.execute(
        `UPDATE deliveries SET status = ${STATUS.failed}, last_error = ?, next_attempt_at = NULL, completed_at = ?, updated_at = ?
         WHERE webhook_id = ? AND status = ${STATUS.pending}`,
        [`webhook disabled: ${reason}`.slice(0, 500), now, now, w.id],
      );
    }
    await this.appendInTx(t, [{
      event_id: uuid(), type: active ? EVENT_TYPES.webhookEnabled : EVENT_TYPES.webhookDisabled, tenant_id: w.tenant_id,
      subject: w.id, event_version: 1, event_created_at: now, app_id: MESSO_APP_ID,
      data: { webhook: { id: w.id, title: w.title, endpoint: w.endpoint }, reason },
    }]);
    return this.webhookOf(rows[0]);
  }

  async getWebhook(tenantId: string, id: string): Promise<Webhook | null> {
    const rows = await this.db.query('SELECT * FROM webhooks WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL', [tenantId, id]);
    return rows[0] ? this.webhookOf(rows[0]) : null;
  }

  async countWebhooks(tenantId: string): Promise<number> {
    const rows = await this.db.query('SELECT COUNT(*) AS n FROM webhooks WHERE tenant_id = ? AND deleted_at IS NULL', [tenantId]);
    return Number(rows[0].n);
  }

  async listWebhooks(tenantId: string, page: PageQuery): Promise<Page<Webhook>> {
    const rows = await this.db.query(
      'SELECT * FROM webhooks WHERE tenant_id = ? AND deleted_at IS NULL AND seq > ? ORDER BY seq LIMIT ?',
      [tenantId, decodeCursor(page.cursor) ?? 0, page.limit + 1],
    );
    const p = toPage(rows, page.limit, (r) => Number(r.seq));
    return { items: p.items.map((r) => this.webhookOf(r)), next_cursor: p.next_cursor };
  }

  async deleteWebhook(tenantId: string, id: string): Promise<boolean> {
    return this.db.tx(async (t) => {
      const now = Date.now();
      const changed = await t.execute(
        'UPDATE webhooks SET deleted_at = ?, active = 0, updated_at = ? WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL',
        [now, now, tenantId, id],
      );
      if (changed === 0) return false;
      await t.execute(
        `UPDATE deliveries SET status = ${STATUS.cancelled}, last_error = 'webhook deleted', updated_at = ?, completed_at = ?
         WHERE webhook_id = ? AND status = ${STATUS.pending}`,
        [now, now, id],
      );
      return true;
    });
  }

  async rotateWebhookSecret(tenantId: string, id: string, secret: string, previousValidUntil: number): Promise<Webhook | null> {
    const rows = await this.db.query(
      `UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = ?, secret = ?, updated_at = ?
       WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL RETURNING *`,
      [previousValidUntil, this.sealed(secret), Date.now(), tenantId, id],
    );
    return rows[0] ? this.webhookOf(rows[0]) : null;
  }
}
