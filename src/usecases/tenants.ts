/** Tenants (enti) and their API keys: the one place that names and mints them (API and CLI). */
import { randomBytes } from 'node:crypto';
import { prefixedId, sha256, uuid } from '../domain/ids.js';
import type { ApiKey, Store, Tenant } from '../store/index.js';

/** "Comune di Bugliano" → "comune-di-bugliano": accents dropped, at most 60 characters. */
export function slugify(name: string): string {
  const s = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return (s || 'tenant').slice(0, 60);
}

export interface NewTenant {
  name: string;
  slug?: string;
  external_id?: string | null;
}

export function createTenant(store: Pick<Store, 'createTenant'>, input: NewTenant): Promise<Tenant> {
  return store.createTenant({ id: uuid(), name: input.name, slug: input.slug ?? slugify(input.name), external_id: input.external_id ?? null });
}

/**
 * A new API key: 192 random bits, so a fast hash is the right lookup key. The secret is
 * returned this once; the store keeps its hash and a prefix for logs and lists.
 */
export async function mintApiKey(store: Pick<Store, 'createApiKey'>, tenantId: string, name: string): Promise<{ key: ApiKey; secret: string }> {
  const secret = `messo_${randomBytes(24).toString('base64url')}`;
  const key = await store.createApiKey({ id: prefixedId('key'), tenant_id: tenantId, name, prefix: secret.slice(0, 12), hash: sha256(secret) });
  return { key, secret };
}
