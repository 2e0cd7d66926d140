/** Services of a tenant. Creating or changing one is an event (service.created / service.updated). */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { EVENT_TYPES, MESSO_APP_ID } from '../../domain/events.js';
import { uuid } from '../../domain/ids.js';
import { SERVICE_STATUSES, type Service } from '../../store/index.js';
import { tenantOf } from '../../http-common/auth.js';
import { ApiError, notFound } from '../../http-common/errors.js';
import { ref } from '../../http-common/components.js';
import { ok } from '../../http-common/openapi.js';
import { IdParams, iso, PageQuery } from '../../http-common/schemas.js';
import { slugify } from '../../usecases/tenants.js';

const fields = {
  name: Type.String({ minLength: 1, maxLength: 300 }),
  slug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,99}$' }),
  group_name: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
  description: Type.Union([Type.String({ maxLength: 5000 }), Type.Null()]),
  status: Type.Union(SERVICE_STATUSES.map((s) => Type.Literal(s))),
};

const ServiceBody = Type.Object({
  id: Type.Optional(Type.String({ format: 'uuid', description: 'keep an existing platform id; generated when absent' })),
  name: fields.name,
  slug: Type.Optional(fields.slug),
  group_name: Type.Optional(fields.group_name),
  description: Type.Optional(fields.description),
  status: Type.Optional(fields.status),
}, { additionalProperties: false });

const ServicePatch = Type.Object({
  name: Type.Optional(fields.name),
  slug: Type.Optional(fields.slug),
  group_name: Type.Optional(fields.group_name),
  description: Type.Optional(fields.description),
  status: Type.Optional(fields.status),
}, { additionalProperties: false, minProperties: 1 });

export const serviceOut = (s: Service) => ({
  id: s.id, slug: s.slug, name: s.name, group_name: s.group_name, description: s.description, status: s.status,
  created_at: iso(s.created_at)!, updated_at: iso(s.updated_at)!,
});

export const serviceRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.runtime;
  const tags = ['services'];

  async function save(tenantId: string, service: Omit<Service, 'created_at' | 'updated_at'>, type: string): Promise<Service> {
    await store.appendEvents([{
      event_id: uuid(), type, tenant_id: tenantId, subject: service.id, event_version: 1,
      event_created_at: Date.now(), app_id: MESSO_APP_ID, data: { service },
      projection: { kind: 'service', service },
    }]);
    app.runtime.work.notify();
    return (await store.getService(tenantId, service.id))!;
  }

  app.post<{ Body: Static<typeof ServiceBody> }>('/services', {
    schema: { tags, operationId: 'createService', summary: 'Create a service', body: ServiceBody, response: ok(201, ref('Service'), 'Created') },
  }, async (request, reply) => {
    const tenantId = await tenantOf(request);
    const b = request.body;
    const service = {
      id: b.id ?? uuid(), tenant_id: tenantId, name: b.name, slug: b.slug ?? slugify(b.name),
      group_name: b.group_name ?? null, description: b.description ?? null, status: b.status ?? 'active',
    } as const;
    if (await store.getService(tenantId, service.id)) {
      throw new ApiError('duplicate', 'a service with this id already exists', { field: 'id' });
    }
    return reply.status(201).send(serviceOut(await save(tenantId, service, EVENT_TYPES.serviceCreated)));
  });

  app.get<{ Querystring: { limit: number; cursor?: string } }>('/services', {
    schema: { tags, operationId: 'listServices', summary: 'List services', querystring: Type.Object(PageQuery), response: ok(200, ref('ServicePage')) },
  }, async (request) => {
    const page = await store.listServices(await tenantOf(request), request.query);
    return { items: page.items.map(serviceOut), next_cursor: page.next_cursor };
  });

  app.get<{ Params: { id: string } }>('/services/:id', {
    schema: { tags, operationId: 'getService', summary: 'Get a service', params: IdParams, response: ok(200, ref('Service')) },
  }, async (request) => {
    const s = await store.getService(await tenantOf(request), request.params.id);
    if (!s) throw notFound('service');
    return serviceOut(s);
  });

  app.patch<{ Params: { id: string }; Body: Static<typeof ServicePatch> }>('/services/:id', {
    schema: { tags, operationId: 'updateService', summary: 'Update a service', params: IdParams, body: ServicePatch, response: ok(200, ref('Service')) },
  }, async (request) => {
    const tenantId = await tenantOf(request);
    const current = await store.getService(tenantId, request.params.id);
    if (!current) throw notFound('service');
    const { created_at: _c, updated_at: _u, ...rest } = current;
    return serviceOut(await save(tenantId, { ...rest, ...request.body }, EVENT_TYPES.serviceUpdated));
  });
};
