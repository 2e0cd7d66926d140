/**
 * Ingest tokens: per-tenant secrets that an OpenCity core puts in the URL it posts to
 * (`/ingest/opencity/<token>/<topic>`; issue 6). The core sends no auth header, so the URL is
 * the credential. Only a sha256 of the token is stored (tokens carry 192 random bits, so a fast
 * hash is the right lookup key) and a display prefix: the same 9 characters the logger keeps
 * when it masks an ingest URL (src/logger.ts), so a log line can be matched to its token.
 */
import { prefixedId, sha256 } from '../domain/ids.js';
import { CredentialTable } from './credentials.js';
import type { Db } from './db.js';
import type { IssuedCredential, Tenant } from './types.js';

/** An ingest token; its prefix is `ingt_` and 4 characters. */
export type IngestToken = IssuedCredential;

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
  /** The live (not revoked) token with this sha256 and its tenant, marking the token used. */
  findLive(hash: string): Promise<{ token: IngestToken; tenant: Tenant } | null>;
}

/** Characters of a token shown in listings and kept by the log mask. */
export const INGEST_TOKEN_PREFIX_LENGTH = 9;

export class SqlIngestTokenStore implements IngestTokenStore {
  private readonly table: CredentialTable;

  constructor(db: Db) {
    this.table = new CredentialTable(db, 'ingest_tokens');
  }

  async create(tenantId: string, name: string): Promise<IssuedIngestToken> {
    // 24 random bytes = 192 bits, base64url so it sits in a URL path without escaping.
    const token = prefixedId('ingt', 24);
    const row = await this.table.insert({
      id: prefixedId('itk'), tenant_id: tenantId, name, prefix: token.slice(0, INGEST_TOKEN_PREFIX_LENGTH), hash: sha256(token),
    });
    return { ...row, token };
  }

  list(tenantId: string): Promise<IngestToken[]> {
    return this.table.list(tenantId);
  }

  revoke(tenantId: string, id: string): Promise<IngestToken | null> {
    return this.table.revoke(tenantId, id);
  }

  async findLive(hash: string): Promise<{ token: IngestToken; tenant: Tenant } | null> {
    const found = await this.table.findLiveWithTenant(hash);
    return found && { token: found.credential, tenant: found.tenant };
  }
}
