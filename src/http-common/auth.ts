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

export type Principal = { kind: 'admin' } | { kind: 'tenant'; tenantId: string; keyId: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export const authPlugin = fp<{ adminTokenHash: string }>(async (app, opts) => {
  app.decorateRequest('principal');
  const adminHash = Buffer.from(opts.adminTokenHash, 'hex');
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new ApiError('unauthorized', 'send Authorization: Bearer <API key or admin token>');
    const hash = sha256(m[1]);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), adminHash)) {
      request.principal = { kind: 'admin' };
      return;
    }
    const key = await app.runtime.store.findApiKeyByHash(hash);
    if (!key) throw new ApiError('unauthorized', 'the token is not valid or was revoked');
    request.principal = { kind: 'tenant', tenantId: key.tenant_id, keyId: key.id };
  });
});

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
  return tenant.id;
}

export function requireAdmin(request: FastifyRequest): void {
  if (request.principal.kind !== 'admin') throw new ApiError('forbidden', 'this operation needs the admin token');
}
