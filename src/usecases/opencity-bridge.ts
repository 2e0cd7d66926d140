/**
 * The bridge for an OpenCity core's own webhooks (issue 11, item 5): an operator points one core
 * webhook, trigger `all`, at `/ingest/opencity-webhook/<token>`, and messo receives what that
 * webhook sends: application bodies (version "1.0" or "2.0") and message bodies. Messages reach
 * messo only this way: the core's producer never publishes them.
 *
 * The core's `event_id` is per send job (a retry of the same change, or a second webhook, has
 * another), so repeats are recognised by content: an application by id + status +
 * latest_status_change_time, a message by id. Each key becomes a stable event id (a UUID made
 * from the tenant and the key), and the event log's own duplicate check does the rest. The same
 * key already applied another way (the producer sink sent that status change first) is a
 * repeat too: the core's webhook sends an application only when its status is set, so a body
 * with the status and time messo already has brings nothing new.
 *
 * A version-2 body's `data` has lost the core's `data` segments; it is kept as its own key
 * paths (`applicant.completename.name`), which is why the README recommends version "1.0" here.
 * Like the producer sink, the bridge never refuses an authenticated JSON body: what it cannot
 * apply is kept as `ingest.rejected`.
 */
import { sha256 } from '../domain/ids.js';
import { renderMessage } from '../domain/message.js';
import { EVENT_TYPES } from '../domain/events.js';
import type { WorkSignal } from '../runtime.js';
import type { Store, Tenant } from '../store/index.js';
import { isRejection, kindOfBody, readEnvelope, unsafeData, type Rejection } from './opencity-envelope.js';
import type { createOpenCityIngest, OpenCityOutcome, WarnLog } from './opencity-ingest.js';

export const BRIDGE_SOURCE = 'opencity-webhook';

/** A UUID-shaped id, the same for the same tenant and key (version nibble 5, RFC 4122 variant). */
export function stableEventId(tenantId: string, key: string): string {
  const h = sha256(`messo-bridge\n${tenantId}\n${key}`);
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const idOf = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' && v.length <= 200 ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);

export interface BridgeResult extends Omit<OpenCityOutcome, 'type'> {
  /** Null for a repeat of what another way (the producer sink) already applied. */
  type: string | null;
  event_id: string | null;
}

export interface OpenCityBridgeDeps {
  store: Pick<Store, 'appendEvents' | 'getApplication' | 'getEvent'>;
  work: WorkSignal;
}

export function createOpenCityBridge(deps: OpenCityBridgeDeps, ingest: ReturnType<typeof createOpenCityIngest>) {
  const { store } = deps;

  async function rejected(tenant: Tenant, body: unknown, arrivedAt: number, r: Rejection, log: WarnLog, subject: string | null = null): Promise<BridgeResult> {
    const out = await ingest.reject({ tenant, source: BRIDGE_SOURCE, reason: r.rejected, field: r.field, body, arrivedAt, subject }, log);
    return { ...out, event_id: null };
  }

  async function message(tenant: Tenant, entity: Record<string, unknown>, body: unknown, at: number, arrivedAt: number, appId: string, log: WarnLog): Promise<BridgeResult> {
    const id = idOf(entity.id);
    if (id === null) return rejected(tenant, body, arrivedAt, { rejected: 'a message body needs its id', field: 'id' }, log);
    const applicationId = idOf(entity.application);
    if (applicationId === null) return rejected(tenant, body, arrivedAt, { rejected: 'a message body needs its application id', field: 'application' }, log);
    const eventId = stableEventId(tenant.id, `message\n${id}`);
    const seen = await store.getEvent(tenant.id, eventId);
    if (seen) return { result: 'duplicate', type: seen.type, event_id: eventId };
    // The service filter needs the pratica's service: a message on one messo has not received is kept for the operator.
    const row = await store.getApplication(tenant.id, applicationId);
    if (!row) {
      return rejected(tenant, body, arrivedAt, {
        rejected: `application ${applicationId} is not known here yet: its application body comes first (trigger all sends it)`, field: 'application',
      }, log, applicationId);
    }
    const record = { ...renderMessage(entity), id, application: applicationId };
    const [r] = await store.appendEvents([{
      event_id: eventId, type: EVENT_TYPES.messageCreated, tenant_id: tenant.id, subject: applicationId, event_version: 1,
      event_created_at: at, app_id: appId, data: { message: record, service_id: row.service_id, application_status: row.status },
    }]);
    if (r.created) deps.work.notify();
    return { result: r.created ? 'created' : 'duplicate', type: r.event.type, event_id: eventId };
  }

  return {
    /** One body the core's webhook sent. */
    async receive(tenant: Tenant, body: unknown, arrivedAt: number, log: WarnLog): Promise<BridgeResult> {
      const env = readEnvelope(body, arrivedAt, false);
      if (isRejection(env)) return rejected(tenant, body, arrivedAt, env, log);
      const unsafe = unsafeData(env.entity);
      if (unsafe) return rejected(tenant, body, arrivedAt, unsafe, log);
      const kind = kindOfBody(env.entity);
      if (kind === 'messages') return message(tenant, env.entity, body, env.createdAt, arrivedAt, env.appId, log);
      if (kind !== 'applications') {
        return rejected(tenant, body, arrivedAt, { rejected: 'the bridge takes the bodies of the core\'s webhooks: an application or a message', field: null }, log);
      }
      const id = idOf(env.entity.id);
      if (id === null) return rejected(tenant, body, arrivedAt, { rejected: 'an application body needs its id', field: 'id' }, log);
      const eventId = stableEventId(tenant.id, `application\n${id}\n${String(env.entity.status)}\n${String(env.entity.latest_status_change_time ?? env.entity.latest_status_change_at ?? '')}`);
      const seen = await store.getEvent(tenant.id, eventId);
      if (seen) return { result: 'duplicate', type: seen.type, event_id: eventId };
      const row = await store.getApplication(tenant.id, id);
      const time = Number(env.entity.latest_status_change_time);
      if (row && Number.isFinite(time) && Number(env.entity.status) === Number(row.doc.status) && time === Number(row.doc.latest_status_change_time)) {
        return { result: 'duplicate', type: null, event_id: null };
      }
      const base = { event_id: eventId, tenant_id: tenant.id, event_version: env.version, event_created_at: env.createdAt, app_id: env.appId };
      const out = await ingest.applyOrReject({ topic: 'applications', tenant, entity: env.entity, base }, body, BRIDGE_SOURCE, log);
      return { ...out, event_id: out.result === 'rejected' ? null : eventId };
    },
  };
}
