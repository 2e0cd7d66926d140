/**
 * Tables of secrets issued to tenants — API keys and ingest tokens — which differ only in name:
 * a row per secret with its sha256 (the secrets carry 192 random bits, so a fast hash is the
 * right lookup key), a display prefix, and when it was created, revoked and last used.
 */
import type { Db } from './db.js';
import { toCredential, toTenant } from './rows.js';
import { placeholders } from './sql.js';
import type { IssuedCredential, Tenant } from './types.js';

export type CredentialTableName = 'api_keys' | 'ingest_tokens';

/** Which of these secrets (by id) are live, read in `t`: one statement for a group's writes (sql-store.ts). */
export async function liveOf(t: Db, table: CredentialTableName, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await t.query<{ id: string }>(
    `SELECT id FROM ${table} WHERE id IN (${placeholders(ids.length)}) AND revoked_at IS NULL`, ids,
  );
  return new Set(rows.map((r) => String(r.id)));
}

export class CredentialTable {
  constructor(private readonly db: Db, private readonly table: CredentialTableName) {}

  async insert(row: { id: string; tenant_id: string; name: string; prefix: string; hash: string }): Promise<IssuedCredential> {
    const rows = await this.db.query(
      `INSERT INTO ${this.table} (id, tenant_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
      [row.id, row.tenant_id, row.name, row.prefix, row.hash, Date.now()],
    );
    return toCredential(rows[0]);
  }

  /** The tenant's secrets, oldest first, revoked ones included. */
  async list(tenantId: string): Promise<IssuedCredential[]> {
    const rows = await this.db.query(`SELECT * FROM ${this.table} WHERE tenant_id = ? ORDER BY seq`, [tenantId]);
    return rows.map(toCredential);
  }

  /** Revokes at once; null when the tenant has no such secret. */
  async revoke(tenantId: string, id: string): Promise<IssuedCredential | null> {
    await this.db.execute(
      `UPDATE ${this.table} SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`,
      [Date.now(), tenantId, id],
    );
    const rows = await this.db.query(`SELECT * FROM ${this.table} WHERE tenant_id = ? AND id = ?`, [tenantId, id]);
    return rows[0] ? toCredential(rows[0]) : null;
  }

  /** The live (not revoked) secret with this hash, marking it used. */
  async findLiveByHash(hash: string): Promise<IssuedCredential | null> {
    const rows = await this.db.query(`SELECT * FROM ${this.table} WHERE hash = ? AND revoked_at IS NULL`, [hash]);
    return rows[0] ? this.markUsed(toCredential(rows[0])) : null;
  }

  /**
   * findLiveByHash with the secret's tenant, in one statement: on PostgreSQL one round trip where
   * the secret and then its tenant were two.
   */
  async findLiveWithTenant(hash: string): Promise<{ credential: IssuedCredential; tenant: Tenant } | null> {
    const rows = await this.db.query(
      `SELECT c.*, t.name AS tenant_name, t.slug AS tenant_slug, t.external_id AS tenant_external_id,
         t.created_at AS tenant_created_at, t.updated_at AS tenant_updated_at
       FROM ${this.table} c JOIN tenants t ON t.id = c.tenant_id WHERE c.hash = ? AND c.revoked_at IS NULL`, [hash],
    );
    const r = rows[0];
    if (!r) return null;
    const tenant = toTenant({
      id: r.tenant_id, name: r.tenant_name, slug: r.tenant_slug, external_id: r.tenant_external_id,
      created_at: r.tenant_created_at, updated_at: r.tenant_updated_at,
    });
    return { credential: await this.markUsed(toCredential(r)), tenant };
  }

  /** Written at most once a minute: a busy integration must not turn every request into a write. */
  private async markUsed(c: IssuedCredential): Promise<IssuedCredential> {
    const now = Date.now();
    if (c.last_used_at === null || now - c.last_used_at > 60_000) {
      await this.db.execute(`UPDATE ${this.table} SET last_used_at = ? WHERE id = ?`, [now, c.id]);
      c.last_used_at = now;
    }
    return c;
  }
}
