/**
 * The store, written once in SQL over the database port. Dialect differences are confined to
 * the drivers (placeholders, error codes) and to the delivery claim (claims.ts). The outbox
 * lives in outbox.ts, deliveries and attempts in delivery-store.ts.
 */
import { uuid } from '../domain/ids.js';
import { EVENT_TYPES, MESSO_APP_ID, type EventRecord } from '../domain/events.js';
import type { ApplicationDoc } from '../domain/application.js';
import { UniqueViolation, type Db, type SqlValue } from './db.js';
import { migrate, type Migration } from './migrations/index.js';
import { purgeOlderThan, type PurgeResult } from './retention.js';
import { SqlDeliveryStore } from './delivery-store.js';
import { appendInTx } from './outbox.js';
import { STATUS } from './sql.js';
export { endpointKey } from './outbox.js';
import { SqlInspectorStore } from './inspector-store.js';
import { SqlIngestTokenStore } from './ingest-token-store.js';
import { DuplicateError, type Store } from './store.js';
import {
  decodeCursor, toApiKey, toApplication, toEvent, toPage, toService, toTenant, toWebhook,
} from './rows.js';
import type {
  ApiKey, AppendResult, ApplicationFilter, ApplicationRow, EventFilter, NewEvent, Page, PageQuery,
  Service, Tenant, Webhook, WebhookInput,
} from './types.js';

const b = (v: boolean): number => (v ? 1 : 0);

export class SqlStore extends SqlDeliveryStore implements Store {
  readonly inspector: SqlInspectorStore;
  readonly ingestTokens: SqlIngestTokenStore;

  constructor(db: Db, private readonly migrations: Migration[]) {
    super(db);
    this.inspector = new SqlInspectorStore(db);
    this.ingestTokens = new SqlIngestTokenStore(db);
  }

  get dialect() {
    return this.db.dialect;
  }

  /** Wakes this process's dispatcher when another process queued work; null: nothing to listen to. */
  subscribeWake(onWake: () => void, onError: (err: Error) => void): { close(): Promise<void> } | null {
    const version = this.db.dataVersion?.bind(this.db);
    if (!version) return null;
    // SQLite shared by processes (serve + worker on one machine): data_version moves when
    // another process commits. Checked every 25 ms: an in-memory read, no query on the rows.
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
    }, 25);
    timer.unref();
    return { close: async () => clearInterval(timer) };
  }

  /** The database port itself, for whole-store tools (migrate-store). */
  get database(): Db {
    return this.db;
  }

  async purgeOlderThan(cutoff: number): Promise<PurgeResult> {
    return purgeOlderThan(this.db, cutoff);
  }

  async migrate(): Promise<void> {
    await migrate(this.db, this.migrations);
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

  async createApiKey(input: { id: string; tenant_id: string; name: string; prefix: string; hash: string }): Promise<ApiKey> {
    const rows = await this.db.query(
      'INSERT INTO api_keys (id, tenant_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      [input.id, input.tenant_id, input.name, input.prefix, input.hash, Date.now()],
    );
    return toApiKey(rows[0]);
  }

  async listApiKeys(tenantId: string): Promise<ApiKey[]> {
    const rows = await this.db.query('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY seq', [tenantId]);
    return rows.map(toApiKey);
  }

  async revokeApiKey(tenantId: string, id: string): Promise<ApiKey | null> {
    await this.db.execute(
      'UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL',
      [Date.now(), tenantId, id],
    );
    const rows = await this.db.query('SELECT * FROM api_keys WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    return rows[0] ? toApiKey(rows[0]) : null;
  }

  async findApiKeyByHash(hash: string): Promise<ApiKey | null> {
    const rows = await this.db.query('SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL', [hash]);
    if (!rows[0]) return null;
    const key = toApiKey(rows[0]);
    // Written at most once a minute per key: a busy integration must not turn reads into writes.
    const now = Date.now();
    if (key.last_used_at === null || now - key.last_used_at > 60_000) {
      await this.db.execute('UPDATE api_keys SET last_used_at = ? WHERE id = ?', [now, key.id]);
      key.last_used_at = now;
    }
    return key;
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
    const where = ['tenant_id = ?', 'last_event_seq > ?'];
    const params: SqlValue[] = [tenantId, decodeCursor(page.cursor) ?? 0];
    if (filter.status !== undefined) { where.push('status = ?'); params.push(filter.status); }
    if (filter.service_id !== undefined) { where.push('service_id = ?'); params.push(filter.service_id); }
    if (filter.updated_since !== undefined) { where.push('updated_at >= ?'); params.push(filter.updated_since); }
    params.push(page.limit + 1);
    const rows = await this.db.query(
      `SELECT * FROM applications WHERE ${where.join(' AND ')} ORDER BY last_event_seq LIMIT ?`, params,
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

  async appendEvents(events: NewEvent[]): Promise<AppendResult[]> {
    return this.db.tx((t) => this.appendInTx(t, events));
  }

  private async appendInTx(t: Db, events: NewEvent[]): Promise<AppendResult[]> {
    const results = await appendInTx(t, events);
    if (results.some((r) => r.deliveries > 0)) await this.notifyWake(t);
    return results;
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
         version, format, active, ordering, max_concurrency, rate_limit, secret, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [w.id, w.tenant_id, w.title, w.description, w.endpoint, w.method, w.trigger, JSON.stringify(w.events),
        JSON.stringify(w.filters), JSON.stringify(w.headers), w.version, w.format, b(w.active), w.ordering,
        w.max_concurrency, w.rate_limit, w.secret, now, now],
    );
    return toWebhook(rows[0]);
  }

  async updateWebhook(tenantId: string, id: string, patch: Partial<WebhookInput>): Promise<Webhook | null> {
    return this.db.tx(async (t) => {
      const rows = await t.query('SELECT * FROM webhooks WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL', [tenantId, id]);
      if (!rows[0]) return null;
      const current = toWebhook(rows[0]);
      const w = { ...current, ...patch };
      const updated = await t.query(
        `UPDATE webhooks SET title = ?, description = ?, endpoint = ?, method = ?, trigger = ?, events = ?, filters = ?,
           headers = ?, version = ?, format = ?, ordering = ?, max_concurrency = ?, rate_limit = ?, updated_at = ?
         WHERE tenant_id = ? AND id = ? RETURNING *`,
        [w.title, w.description, w.endpoint, w.method, w.trigger, JSON.stringify(w.events), JSON.stringify(w.filters),
          JSON.stringify(w.headers), w.version, w.format, w.ordering, w.max_concurrency, w.rate_limit, Date.now(), tenantId, id],
      );
      if (patch.active === undefined || patch.active === current.active) return toWebhook(updated[0]);
      return this.setActiveInTx(t, toWebhook(updated[0]), patch.active, patch.active ? 'enabled by the user' : 'disabled by the user');
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
      const current = toWebhook(rows[0]);
      return current.active === active ? current : this.setActiveInTx(t, current, active, reason);
    });
  }

  private async setActiveInTx(t: Db, w: Webhook, active: boolean, reason: string): Promise<Webhook> {
    const now = Date.now();
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
    return toWebhook(rows[0]);
  }

  async getWebhook(tenantId: string, id: string): Promise<Webhook | null> {
    const rows = await this.db.query('SELECT * FROM webhooks WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL', [tenantId, id]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async listWebhooks(tenantId: string, page: PageQuery): Promise<Page<Webhook>> {
    const rows = await this.db.query(
      'SELECT * FROM webhooks WHERE tenant_id = ? AND deleted_at IS NULL AND seq > ? ORDER BY seq LIMIT ?',
      [tenantId, decodeCursor(page.cursor) ?? 0, page.limit + 1],
    );
    const p = toPage(rows, page.limit, (r) => Number(r.seq));
    return { items: p.items.map(toWebhook), next_cursor: p.next_cursor };
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
      [previousValidUntil, secret, Date.now(), tenantId, id],
    );
    return rows[0] ? toWebhook(rows[0]) : null;
  }
}
