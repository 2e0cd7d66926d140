/**
 * Ingest tokens: per-tenant secrets that an OpenCity core puts in the URL it posts to
 * (`/ingest/opencity/<token>/<topic>`; issue 6). The core sends no auth header, so the URL is
 * the credential. Only a sha256 of the token is stored (tokens carry 192 random bits, so a fast
 * hash is the right lookup key) and a display prefix: the same 9 characters the logger keeps
 * when it masks an ingest URL (src/logger.ts), so a log line can be matched to its token.
 */
import { prefixedId, sha256 } from '../domain/ids.js';
import type { Db } from './db.js';

export interface IngestToken {
  id: string;
  tenant_id: string;
  name: string;
  /** The first characters of the token (`ingt_` + 4), safe to show and log. */
  prefix: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** A token just created: the only moment its secret value exists outside the core's config. */
export interface IssuedIngestToken extends IngestToken {
  token: string;
}

export interface IngestTokenStore {
  create(tenantId: string, name: string): Promise<IssuedIngestToken>;
  /** The tenant's tokens, oldest first, revoked ones included (revoked_at set). */
  list(tenantId: string): Promise<IngestToken[]>;
  /** Revokes at once (the next request with it is refused); null when the tenant has no such token. */
  revoke(tenantId: string, id: string): Promise<IngestToken | null>;
  /** The live (not revoked) token with this sha256, marking it used. */
  findLiveByHash(hash: string): Promise<IngestToken | null>;
}

/** Characters of a token shown in listings and kept by the log mask. */
export const INGEST_TOKEN_PREFIX_LENGTH = 9;

type Row = Record<string, unknown>;

const toIngestToken = (r: Row): IngestToken => ({
  id: String(r.id), tenant_id: String(r.tenant_id), name: String(r.name), prefix: String(r.prefix),
  created_at: Number(r.created_at),
  revoked_at: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
  last_used_at: r.last_used_at === null || r.last_used_at === undefined ? null : Number(r.last_used_at),
});

export class SqlIngestTokenStore implements IngestTokenStore {
  constructor(protected readonly db: Db) {}

  async create(tenantId: string, name: string): Promise<IssuedIngestToken> {
    // 24 random bytes = 192 bits, base64url so it sits in a URL path without escaping.
    const token = prefixedId('ingt', 24);
    const rows = await this.db.query(
      'INSERT INTO ingest_tokens (id, tenant_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      [prefixedId('itk'), tenantId, name, token.slice(0, INGEST_TOKEN_PREFIX_LENGTH), sha256(token), Date.now()],
    );
    return { ...toIngestToken(rows[0]), token };
  }

  async list(tenantId: string): Promise<IngestToken[]> {
    const rows = await this.db.query('SELECT * FROM ingest_tokens WHERE tenant_id = ? ORDER BY seq', [tenantId]);
    return rows.map(toIngestToken);
  }

  async revoke(tenantId: string, id: string): Promise<IngestToken | null> {
    await this.db.execute(
      'UPDATE ingest_tokens SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL',
      [Date.now(), tenantId, id],
    );
    const rows = await this.db.query('SELECT * FROM ingest_tokens WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    return rows[0] ? toIngestToken(rows[0]) : null;
  }

  async findLiveByHash(hash: string): Promise<IngestToken | null> {
    const rows = await this.db.query('SELECT * FROM ingest_tokens WHERE hash = ? AND revoked_at IS NULL', [hash]);
    if (!rows[0]) return null;
    const t = toIngestToken(rows[0]);
    // Written at most once a minute: a core sending hundreds of events must not turn each into a write.
    const now = Date.now();
    if (t.last_used_at === null || now - t.last_used_at > 60_000) {
      await this.db.execute('UPDATE ingest_tokens SET last_used_at = ? WHERE id = ?', [now, t.id]);
      t.last_used_at = now;
    }
    return t;
  }
}
