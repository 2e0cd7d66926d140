/**
 * Tenants (enti) and their API keys. The admin creates tenants and keys; a tenant key may read
 * its own tenant and manage its own keys under /api/keys. Another tenant's ids answer 404.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ApiKey, Tenant } from '../../store/index.js';
import { createTenant, mintApiKey } from '../../usecases/tenants.js';
import { requireAdmin, tenantOf } from '../../http-common/auth.js';
import { ApiError, notFound } from '../../http-common/errors.js';
import { ref } from '../../http-common/components.js';
import { ok } from '../../http-common/openapi.js';
import { IdParams, iso, PageQuery } from '../../http-common/schemas.js';

const TenantBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, description: 'e.g. "Comune di Bugliano"' }),
  slug: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'URL-safe name; derived from name when absent' })),
  external_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], { description: "the OpenCity core's tenant (instance) id" })),
}, { additionalProperties: false });

const TenantPatch = Type.Object({
  name: Type.Optional(TenantBody.properties.name),
  external_id: TenantBody.properties.external_id,
}, { additionalProperties: false, minProperties: 1 });

const KeyBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: 'default' })),
}, { additionalProperties: false });

const tenantOut = (t: Tenant) => ({
  id: t.id, name: t.name, slug: t.slug, external_id: t.external_id, created_at: iso(t.created_at)!, updated_at: iso(t.updated_at)!,
});
const keyOut = (k: ApiKey, secret?: string) => ({
  id: k.id, name: k.name, prefix: k.prefix, created_at: iso(k.created_at)!, revoked_at: iso(k.revoked_at),
  last_used_at: iso(k.last_used_at), ...(secret ? { key: secret } : {}),
});

/** A tenant key may see its own tenant only; anything else is "not found". */
async function visibleTenant(request: FastifyRequest, id: string): Promise<Tenant> {
  const p = request.principal;
  if (p.kind === 'tenant' && p.tenantId !== id) throw notFound('tenant');
  const t = await request.server.runtime.store.getTenant(id);
  if (!t) throw notFound('tenant');
  return t;
}

async function issueApiKey(request: FastifyRequest, tenantId: string, name: string) {
  const { key, secret } = await mintApiKey(request.server.runtime.store, tenantId, name);
  return keyOut(key, secret);
}

export const tenantRoutes: FastifyPluginAsync = async (app) => {
  const store = app.runtime.store;
  const tags = ['tenants'];

  app.post<{ Body: Static<typeof TenantBody> }>('/tenants', {
    schema: { tags, operationId: 'createTenant', summary: 'Create a tenant (admin)', body: TenantBody, response: ok(201, ref('Tenant'), 'Created') },
  }, async (request, reply) => {
    requireAdmin(request);
    return reply.status(201).send(tenantOut(await createTenant(store, request.body)));
  });

  app.get<{ Querystring: { limit: number; cursor?: string } }>('/tenants', {
    schema: { tags, operationId: 'listTenants', summary: 'List tenants (admin: all; a key: its own)', querystring: Type.Object(PageQuery), response: ok(200, ref('TenantPage')) },
  }, async (request) => {
    const p = request.principal;
    if (p.kind === 'tenant') {
      const own = await store.getTenant(p.tenantId);
      return { items: own ? [tenantOut(own)] : [], next_cursor: null };
    }
    const page = await store.listTenants({ limit: request.query.limit, cursor: request.query.cursor });
    return { items: page.items.map(tenantOut), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/tenants/:id', {
    schema: { tags, operationId: 'getTenant', summary: 'Get a tenant', params: IdParams, response: ok(200, ref('Tenant')) },
  }, async (request) => tenantOut(await visibleTenant(request, request.params.id)));

  app.patch<{ Params: { id: string }; Body: Static<typeof TenantPatch> }>('/tenants/:id', {
    schema: { tags, operationId: 'updateTenant', summary: 'Update a tenant (admin)', params: IdParams, body: TenantPatch, response: ok(200, ref('Tenant')) },
  }, async (request) => {
    await visibleTenant(request, request.params.id);
    requireAdmin(request);
    const t = await store.updateTenant(request.params.id, request.body);
    if (!t) throw notFound('tenant');
    return tenantOut(t);
  });

  app.post<{ Params: { id: string }; Body: Static<typeof KeyBody> }>('/tenants/:id/keys', {
    schema: {
      tags, operationId: 'createTenantKey', summary: 'Create an API key for a tenant (admin); the key is shown once; the body is optional',
      params: IdParams, body: KeyBody, response: ok(201, ref('ApiKey'), 'Created'),
    },
  }, async (request, reply) => {
    await visibleTenant(request, request.params.id);
    requireAdmin(request);
    return reply.status(201).send(await issueApiKey(request, request.params.id, request.body?.name ?? 'default'));
  });

  app.get<{ Params: { id: string } }>('/tenants/:id/keys', {
    schema: { tags, operationId: 'listTenantKeys', summary: "List a tenant's API keys", params: IdParams, response: ok(200, ref('ApiKeyList')) },
  }, async (request) => {
    await visibleTenant(request, request.params.id);
    return { items: (await store.listApiKeys(request.params.id)).map((k) => keyOut(k)) };
  });

  app.delete<{ Params: { id: string; keyId: string } }>('/tenants/:id/keys/:keyId', {
    schema: {
      tags, operationId: 'revokeTenantKey', summary: 'Revoke an API key',
      params: Type.Object({ id: IdParams.properties.id, keyId: IdParams.properties.id }), response: ok(200, ref('ApiKey')),
    },
  }, async (request) => {
    await visibleTenant(request, request.params.id);
    const key = await store.revokeApiKey(request.params.id, request.params.keyId);
    if (!key) throw notFound('API key');
    return keyOut(key);
  });

  // The same for the calling tenant, without knowing its id.
  app.get('/keys', { schema: { tags, operationId: 'listKeys', summary: "List this tenant's API keys", response: ok(200, ref('ApiKeyList')) } },
    async (request) => ({ items: (await store.listApiKeys(await tenantOf(request))).map((k) => keyOut(k)) }));

  app.post<{ Body: Static<typeof KeyBody> }>('/keys', {
    schema: { tags, operationId: 'createKey', summary: 'Create an API key for this tenant; shown once; the body is optional', body: KeyBody, response: ok(201, ref('ApiKey'), 'Created') },
  }, async (request, reply) => reply.status(201).send(await issueApiKey(request, await tenantOf(request), request.body?.name ?? 'default')));

  app.delete<{ Params: { id: string } }>('/keys/:id', {
    schema: { tags, operationId: 'revokeKey', summary: 'Revoke an API key of this tenant', params: IdParams, response: ok(200, ref('ApiKey')) },
  }, async (request) => {
    const key = await store.revokeApiKey(await tenantOf(request), request.params.id);
    if (!key) throw notFound('API key');
    return keyOut(key);
  });

  app.get('/me', { schema: { tags, operationId: 'getMe', summary: 'Who the token is', response: ok(200, ref('Me')) } }, async (request) => {
    const p = request.principal;
    if (p.kind === 'admin') return { kind: 'admin' };
    const t = await store.getTenant(p.tenantId);
    if (!t) throw new ApiError('unauthorized', 'tenant no longer exists');
    return { kind: 'tenant', key_id: p.keyId, tenant: tenantOut(t) };
  });
};
