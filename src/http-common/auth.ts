/**
 * Authentication for `/api`: `Authorization: Bearer <token>` with either the admin token or a
 * tenant API key. Keys are random (192 bits), so a fast hash is the right lookup key; the admin
 * token is compared as a hash too, in constant time. A tenant key sees only its own tenant.
 * The admin may act for one tenant by naming it in `X-Tenant-Id` (the dashboard's switcher).
 */
import fp from 'fastify-plugin';
import { timingSafeEqual } from 'node:crypto';
import { setBounded } from '../domain/bounded-map.js';
import { sha256 } from '../domain/ids.js';
import type { FastifyRequest } from 'fastify';
import './fastify.js';
import { ApiError } from './errors.js';
import { limiter } from './quotas.js';
import { RevokedKeyError } from '../store/index.js';

/**
 * Who a request acts as. `checkAtWrite`: the tenant's key came from the recent keys, not from a
 * lookup, and the route's write must check it (liveKeyOf).
 */
export type Principal = { kind: 'admin' } | { kind: 'tenant'; tenantId: string; keyId: string; checkAtWrite?: true };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /**
     * The route's write checks the key itself (store.appendEvents' liveKey), and nothing before
     * it answers with the tenant's data: its key may come from the recent keys instead of a
     * lookup. (The one read before it, the fan-out cap's count of webhooks, runs only when
     * MESSO_MAX_DELIVERIES_PER_BATCH is set below the webhooks a tenant may have, and tells a
     * key revoked within the minute only a count it could read a minute before.)
     */
    keyCheckedAtWrite?: boolean;
  }
}

/**
 * API keys found live lately, by hash, for the routes whose write checks the key again inside
 * its own transaction (`keyCheckedAtWrite`: POST /api/events, the core's one event per request).
 * There a lookup before the write was a round trip of its own for every event on PostgreSQL,
 * more than a third of the API's statements; the write's check is one statement for a whole
 * group (sql-store.ts). A key revoked before the write's transaction is refused there, in this
 * process or any other, as the lookup would have refused it. An entry lives a minute, then the
 * lookup runs again (and marks the key used: findLiveByHash writes that once a minute); at most
 * RECENT_KEYS are kept.
 */
class RecentKeys {
  static readonly TTL_MS = 60_000;
  private readonly byHash = new Map<string, { tenantId: string; keyId: string; at: number }>();

  constructor(private readonly max: number) {}

  get(hash: string): { tenantId: string; keyId: string } | undefined {
    const hit = this.byHash.get(hash);
    if (hit && Date.now() - hit.at < RecentKeys.TTL_MS) return hit;
    if (hit) this.byHash.delete(hash);
    return undefined;
  }

  set(hash: string, tenantId: string, keyId: string): void {
    setBounded(this.byHash, hash, { tenantId, keyId, at: Date.now() }, this.max);
  }

  /** A write found the key revoked: its next request looks it up (and counts as a failure there). */
  forget(keyId: string): void {
    for (const [hash, k] of this.byHash) if (k.keyId === keyId) this.byHash.delete(hash);
  }
}

const RECENT_KEYS = 10_000;

export const authPlugin = fp<{ adminTokenHash: string }>(async (app, opts) => {
  app.decorateRequest('principal');
  const adminHash = Buffer.from(opts.adminTokenHash, 'hex');
  const { config } = app.runtime;
  const failures = limiter(app, {
    name: 'auth-failures', max: config.authFailuresPerMinute, windowMs: 60_000, key: (r) => r.ip,
    what: 'too many failed authentications from this address (MESSO_AUTH_FAILURES_PER_MINUTE)',
  });
  const requests = limiter(app, {
    name: 'api', max: config.apiRequestsPerMinute, windowMs: 60_000,
    key: (r) => (r.principal.kind === 'admin' ? 'admin' : r.principal.keyId),
    what: 'too many requests with this credential (MESSO_API_REQUESTS_PER_MINUTE)',
  });
  const recent = new RecentKeys(RECENT_KEYS);
  app.addHook('onError', async (request, _reply, error) => {
    if (error instanceof RevokedKeyError && request.principal?.kind === 'tenant') recent.forget(request.principal.keyId);
  });
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new ApiError('unauthorized', 'send Authorization: Bearer <API key or admin token>');
    // An address that guessed wrong too often is refused before its token is even looked at.
    await failures.check(request, reply);
    const hash = sha256(m[1]);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), adminHash)) {
      request.principal = { kind: 'admin' };
    } else {
      const cached = request.routeOptions.config?.keyCheckedAtWrite ? recent.get(hash) : undefined;
      if (cached) {
        request.principal = { kind: 'tenant', tenantId: cached.tenantId, keyId: cached.keyId, checkAtWrite: true };
      } else {
        const key = await app.runtime.store.findApiKeyByHash(hash);
        if (!key) {
          await failures.take(request, reply);
          throw new ApiError('unauthorized', 'the token is not valid or was revoked');
        }
        recent.set(hash, key.tenant_id, key.id);
        request.principal = { kind: 'tenant', tenantId: key.tenant_id, keyId: key.id };
      }
      request.tenantId = request.principal.tenantId;
    }
    await requests.take(request, reply);
  });
});

/** What a write must check of the request's key (store.appendEvents): its id when no lookup checked it. */
export function liveKeyOf(request: FastifyRequest): { liveKey?: string } {
  const p = request.principal;
  return p.kind === 'tenant' && p.checkAtWrite ? { liveKey: p.keyId } : {};
}

/** Does this request carry the admin token (`Authorization: Bearer <admin token>`)? Constant time. */
export function hasAdminToken(request: FastifyRequest, adminTokenHash: string): boolean {
  const header = request.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m !== null && timingSafeEqual(Buffer.from(sha256(m[1]), 'hex'), Buffer.from(adminTokenHash, 'hex'));
}

/** The tenant a request acts for; 403 for the admin without `X-Tenant-Id`. */
export async function tenantOf(request: FastifyRequest): Promise<string> {
  const p = request.principal;
  if (p.kind === 'tenant') return p.tenantId;
  const header = request.headers['x-tenant-id'];
  const tenantId = Array.isArray(header) ? header[0] : header;
  if (!tenantId) {
    throw new ApiError('forbidden', 'the admin token manages tenants; to act for one tenant send X-Tenant-Id or use its API key', { field: 'X-Tenant-Id' });
  }
  const tenant = await request.server.runtime.store.getTenant(tenantId);
  if (!tenant) throw new ApiError('not_found', 'tenant not found', { field: 'X-Tenant-Id' });
  request.tenantId = tenant.id;
  return tenant.id;
}

export function requireAdmin(request: FastifyRequest): void {
  if (request.principal.kind !== 'admin') throw new ApiError('forbidden', 'this operation needs the admin token');
}
