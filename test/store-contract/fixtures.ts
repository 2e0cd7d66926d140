/**
 * Fixtures of the Store contract: entities and events built the way the API builds them, with
 * event times chosen (from T0), never read from the clock.
 */
import assert from 'node:assert/strict';
import { applyTransition, createApplication, type ApplicationDoc } from '../../src/domain/application.js';
import { EVENT_TYPES } from '../../src/domain/events.js';
import { uuid } from '../../src/domain/ids.js';
import type { NewEvent, Service, Store, StoreOptions, WebhookInput } from '../../src/store/index.js';

/** 2025-11-20T10:00:00Z: a fixed origin so event times are chosen, not read from the clock. */
export const T0 = Date.UTC(2025, 10, 20, 10, 0, 0);

/** A case: it gets a store of its own, opened with `options` when given. */
export type StoreCase = (fn: (store: Store) => Promise<void>, options?: StoreOptions) => () => Promise<void>;

export async function tenant(store: Store, slug = `t-${uuid().slice(0, 8)}`) {
  return store.createTenant({ id: uuid(), name: `Comune ${slug}`, slug, external_id: null });
}

export function serviceEvent(tenantId: string, s: Partial<Service> & { id?: string } = {}, type: string = EVENT_TYPES.serviceCreated): NewEvent {
  const service = {
    id: s.id ?? uuid(), tenant_id: tenantId, slug: s.slug ?? `svc-${uuid().slice(0, 8)}`, name: s.name ?? 'Iscrizione asilo nido',
    group_name: s.group_name ?? null, description: s.description ?? null, status: s.status ?? 'active',
  } as const;
  return {
    event_id: uuid(), type, tenant_id: tenantId, subject: service.id, event_version: 1, event_created_at: T0,
    app_id: 'test', data: { service }, projection: { kind: 'service', service },
  };
}

export async function service(store: Store, tenantId: string, s: Partial<Service> = {}): Promise<Service> {
  const ev = serviceEvent(tenantId, s);
  await store.appendEvents([ev]);
  const got = await store.getService(tenantId, ev.subject!);
  assert.ok(got, 'the service projection exists after its event');
  return got;
}

export function newApp(tenantId: string, svc: Service, status = 2000, at = T0, id = uuid()): ApplicationDoc {
  return createApplication({
    id, tenantId, status, nowMs: at, fields: { subject: 'Iscrizione - Mario Rossi', data: { 'applicant.data.name': 'Mario' } },
    applicationUrl: `https://messo.example/api/applications/${id}`,
    service: { id: svc.id, slug: svc.slug, name: svc.name, group_name: svc.group_name },
  });
}

export function createdEvent(doc: ApplicationDoc, at = T0): NewEvent {
  return {
    event_id: uuid(), type: EVENT_TYPES.applicationCreated, tenant_id: doc.tenant, subject: doc.id, event_version: 1,
    event_created_at: at, app_id: 'test', data: { application: doc },
    projection: { kind: 'application', doc, mode: 'strict', expectedVersion: null },
  };
}

export function transitionEvent(doc: ApplicationDoc, to: number, expectedVersion: number, at: number): { event: NewEvent; doc: ApplicationDoc } {
  const next = applyTransition(doc, { to, nowMs: at });
  return {
    doc: next,
    event: {
      event_id: uuid(), type: EVENT_TYPES.applicationStatusChanged, tenant_id: doc.tenant, subject: doc.id, event_version: 1,
      event_created_at: at, app_id: 'test', data: { application: next, from: doc.status, to, message: null },
      projection: { kind: 'application', doc: next, mode: 'strict', expectedVersion },
    },
  };
}

export function snapshotEvent(tenantId: string, doc: ApplicationDoc, at: number, type: string = EVENT_TYPES.applicationUpdated): NewEvent {
  return {
    event_id: uuid(), type, tenant_id: tenantId, subject: doc.id, event_version: 1, event_created_at: at,
    app_id: 'core:2.15.0', data: { application: doc }, projection: { kind: 'application', doc, mode: 'newer' },
  };
}

export function messageEvent(tenantId: string, applicationId: string, serviceId: string, at = T0): NewEvent {
  return {
    event_id: uuid(), type: EVENT_TYPES.messageCreated, tenant_id: tenantId, subject: applicationId, event_version: 1,
    event_created_at: at, app_id: 'test',
    data: { message: { id: uuid(), message: 'Serve un documento', application: applicationId }, service_id: serviceId },
  };
}

export function webhookInput(w: Partial<WebhookInput> = {}): WebhookInput {
  return {
    title: 'Protocollo', description: null, endpoint: 'http://127.0.0.1:9/hook', method: 'POST', trigger: 'all', events: [],
    filters: 'all', headers: {}, version: 1, format: 'opencity', active: true, ordering: 'none', max_concurrency: null,
    rate_limit: null, follow_redirects: false, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ...w,
  };
}

export async function webhook(store: Store, tenantId: string, w: Partial<WebhookInput> = {}) {
  return store.createWebhook({ ...webhookInput(w), id: `wh_${uuid().slice(0, 12)}`, tenant_id: tenantId });
}

export async function allEvents(store: Store, tenantId: string) {
  return (await store.listEvents(tenantId, {}, { limit: 500 })).items;
}

export async function deliveriesOf(store: Store, tenantId: string, eventId?: string) {
  return (await store.listDeliveries(tenantId, eventId ? { event_id: eventId } : {}, { limit: 500 })).items;
}
