/**
 * Authentication for `/api`: `Authorization: Bearer <token>` with either the admin token or a
 * tenant API key. Keys are random (192 bits), so a fast hash is the right lookup key; the admin
 * token is compared as a hash too, in constant time. A tenant key sees only its own tenant.
 * The admin may act for one tenant by naming it in `X-Tenant-Id` (the dashboard's switcher).
 */
import fp from 'fastify-plugin';
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../domain/ids.js';
import type { FastifyRequest } from 'fastify';
import './fastify.js';
import { ApiError } from './errors.js';
import { limiter } from './quotas.js';

export type Principal = { kind: 'admin' } | { kind: 'tenant'; tenantId: string; keyId: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

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
      const key = await app.runtime.store.findApiKeyByHash(hash);
      if (!key) {
        await failures.take(request, reply);
        throw new ApiError('unauthorized', 'the token is not valid or was revoked');
      }
      request.principal = { kind: 'tenant', tenantId: key.tenant_id, keyId: key.id };
      request.tenantId = key.tenant_id;
    }
    await requests.take(request, reply);
  });
});

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
