/**
 * What an OpenCity core's post becomes (the producer's `{KAFKA_URL}/{topic}`): applications,
 * services, meetings and calendars turned into events, each with the late-snapshot rule, and
 * appended one at a time per entity. The HTTP side (src/http/routes/opencity-ingest.ts) checks
 * the token, the envelope and the tenant; this is the rest.
 *
 * A post goes: duplicate? → classify → one appendEvents call (event, projection and
 * deliveries in one transaction, so a refused or failed post leaves nothing behind and the
 * core's retry starts clean). A pratica's snapshot skips the first two here: its transaction
 * does both. The entity is read leniently: unknown fields kept, numeric strings accepted as
 * status codes.
 */

import { normalizeApplication, type ApplicationDoc } from '../domain/application.js';
import { formatRome } from '../domain/dates.js';
import { uuid } from '../domain/ids.js';
import { classifyAgainst, INGEST_REJECTED_TYPE, OUTDATED_SNAPSHOT_TYPE } from '../domain/snapshot.js';
import type { WorkSignal } from '../runtime.js';
import { DuplicateError, type NewEvent, type Service, type ServiceStatus, type Store, type Tenant } from '../store/index.js';
import { InputError } from './errors.js';
import { slugify } from './tenants.js';

export const OPENCITY_TOPICS = ['applications', 'services', 'meetings', 'calendars'] as const;
export type OpenCityTopic = (typeof OPENCITY_TOPICS)[number];

/** Envelope versions this consumer understands; others are skipped quietly, as the platform requires. */
export const SUPPORTED_EVENT_VERSIONS: readonly number[] = [1, 2];


const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** An entity id as the core sends it (UUID string, or a number for older entities). */
function entityId(entity: Record<string, unknown>, field = 'id'): string {
  const v = entity[field];
  if (nonEmpty(v)) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new InputError(field, 'is required');
}

/** The projection's document; `tenant` stays the core's own value when it sent one. */
function applicationDoc(entity: Record<string, unknown>, tenantId: string): ApplicationDoc {
  entityId(entity);
  if (!nonEmpty(entity.service_id)) throw new InputError('service_id', 'is required');
  const status = typeof entity.status === 'string' && /^[0-9]{1,6}$/.test(entity.status) ? Number(entity.status) : entity.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status <= 0) throw new InputError('status', 'must be a status code such as 2000');
  const doc = normalizeApplication({ ...entity, id: String(entity.id), status, tenant: entity.tenant ?? tenantId });
  // A code outside our table keeps the name the core gave it rather than losing it.
  if (doc.status_name === null && nonEmpty(entity.status_name)) doc.status_name = entity.status_name;
  return doc;
}

/** The core's service status codes (0 cancelled, 1 available, 2 suspended, 3 private, 4 scheduled). */
function serviceStatus(v: unknown): ServiceStatus {
  if (v === 'active' || v === 'suspended' || v === 'draft') return v;
  const n = Number(v);
  if (n === 0 || n === 2) return 'suspended';
  if (n === 4) return 'draft';
  return 'active';
}

function serviceOf(entity: Record<string, unknown>, tenantId: string): Omit<Service, 'created_at' | 'updated_at'> {
  const id = entityId(entity);
  if (!nonEmpty(entity.name)) throw new InputError('name', 'is required');
  const group = entity.service_group_name ?? entity.group_name ?? (isObject(entity.service_group) ? entity.service_group.name : entity.service_group);
  return {
    id, tenant_id: tenantId, name: entity.name, slug: nonEmpty(entity.slug) ? entity.slug : slugify(entity.name),
    group_name: nonEmpty(group) ? group : null, description: typeof entity.description === 'string' ? entity.description : null,
    status: serviceStatus(entity.status),
  };
}

/**
 * Runs `fn` after earlier work on the same key has finished. A service, meeting or calendar is
 * classified by reading the log before it is appended: two posts of one entity handled at once
 * could both be judged against the same state. This closes that gap within one process (a
 * pratica needs it no more: its snapshot is classified in its own transaction, under a lock on
 * PostgreSQL, store/applied.ts).
 */
function serializer() {
  const tails = new Map<string, Promise<void>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.then(() => undefined, () => undefined);
    tails.set(key, tail);
    void tail.then(() => { if (tails.get(key) === tail) tails.delete(key); });
    return run;
  };
}

export type EventBase = Omit<NewEvent, 'type' | 'subject' | 'data'>;

export interface OpenCityPost {
  topic: OpenCityTopic;
  tenant: Tenant;
  /** The body without the envelope keys. */
  entity: Record<string, unknown>;
  base: EventBase;
}

export interface OpenCityOutcome {
  result: 'created' | 'duplicate' | 'rejected';
  type: string;
  /** Why it was not applied (result `rejected`). */
  reason?: string;
  /** The event recorded (for `rejected`: the ingest.rejected event's own id). */
  recorded_id?: string;
}

/** What a rejected post keeps: where it came from, why, and the body (as text, at most this long). */
export interface RejectedPost {
  tenant: Tenant;
  /** The route and topic name it came through, e.g. `opencity/applications`, `opencity-webhook`. */
  source: string;
  reason: string;
  field: string | null;
  body: unknown;
  arrivedAt: number;
  /** The core's event_id, when the body had one. */
  coreEventId?: string | null;
  subject?: string | null;
}

export const REJECTED_BODY_MAX = 64 * 1024;

/** Where a post's warnings go: the request's logger, so they carry its id and the token prefix. */
export interface WarnLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface OpenCityIngestDeps {
  store: Pick<Store, 'appendEvents' | 'getEvent' | 'getService' | 'listEvents'>;
  work: WorkSignal;
}

export function createOpenCityIngest(deps: OpenCityIngestDeps) {
  const { store } = deps;
  const serialize = serializer();

  /** Newest event_created_at recorded for an entity, through the log (services, meetings, calendars). */
  async function newerRecorded(tenantId: string, kind: string, subject: string, at: number): Promise<number | null> {
    const page = await store.listEvents(tenantId, { subject, type: `${kind}.*`, since: at + 1 }, { limit: 1 });
    return page.items[0]?.event_created_at ?? null;
  }

  async function seenBefore(tenantId: string, kind: string, subject: string): Promise<boolean> {
    return (await store.listEvents(tenantId, { subject, type: `${kind}.*` }, { limit: 1 })).items.length > 0;
  }

  const outdated = (base: EventBase, subject: string, topic: OpenCityTopic, data: Record<string, unknown>, appliedAt: number): NewEvent =>
    ({ ...base, type: OUTDATED_SNAPSHOT_TYPE, subject, data: { topic, ...data, applied_event_created_at: formatRome(appliedAt) } });

  /** What one accepted body becomes; the caller appends it. */
  async function toEvent({ topic, tenant, entity, base }: OpenCityPost): Promise<NewEvent> {
    const at = base.event_created_at;
    switch (topic) {
      case 'applications': {
        const doc = applicationDoc(entity, tenant.external_id ?? tenant.id);
        // Classified in the event's transaction, against the pratica as applied there (store/applied.ts).
        // A late one's projection is left alone there: a newer snapshot is applied.
        return {
          ...base, type: 'application.snapshot', subject: doc.id, data: { application: doc }, projection: { kind: 'application', doc, mode: 'newer' },
          classify: (prior) => {
            const c = classifyAgainst(prior, doc, at);
            return c.type === OUTDATED_SNAPSHOT_TYPE ? { type: c.type, data: { topic, ...c.data } } : c;
          },
        };
      }
      case 'services': {
        const service = serviceOf(entity, tenant.id);
        // The service projection has no "newer" rule of its own, so age is checked here.
        const newer = await newerRecorded(tenant.id, 'service', service.id, at);
        if (newer !== null) return outdated(base, service.id, topic, { service }, newer);
        const exists = (await store.getService(tenant.id, service.id)) !== null;
        return { ...base, type: exists ? 'service.updated' : 'service.created', subject: service.id, data: { service }, projection: { kind: 'service', service } };
      }
      case 'meetings':
      case 'calendars': {
        const kind = topic === 'meetings' ? 'meeting' : 'calendar';
        const id = entityId(entity);
        const newer = await newerRecorded(tenant.id, kind, id, at);
        if (newer !== null) return outdated(base, id, topic, { [kind]: entity }, newer);
        // data is the entity itself, so an opencity-format webhook sends it as the core did.
        const type = (await seenBefore(tenant.id, kind, id)) ? `${kind}.updated` : `${kind}.created`;
        return { ...base, type, subject: id, data: entity };
      }
    }
  }

  /** Keeps a post that cannot be applied as an ingest.rejected event; never throws for its content. */
  async function reject(r: RejectedPost, log: WarnLog): Promise<OpenCityOutcome> {
    const text = JSON.stringify(r.body) ?? 'null';
    const id = uuid();
    await store.appendEvents([{
      event_id: id, type: INGEST_REJECTED_TYPE, tenant_id: r.tenant.id, subject: r.subject ?? null, event_version: 1,
      event_created_at: r.arrivedAt, app_id: 'opencity:unknown',
      data: {
        source: r.source, reason: r.reason, field: r.field, core_event_id: r.coreEventId ?? null,
        body: text.length > REJECTED_BODY_MAX ? text.slice(0, REJECTED_BODY_MAX) : text, body_truncated: text.length > REJECTED_BODY_MAX,
      },
    }]);
    log.warn({ source: r.source, reason: r.reason, field: r.field, recorded_id: id }, 'opencity ingest: post kept as ingest.rejected');
    return { result: 'rejected', type: INGEST_REJECTED_TYPE, reason: r.reason, recorded_id: id };
  }

  /** apply(), with what the use case refuses (InputError, a slug clash) kept as rejected. */
  async function applyOrReject(post: OpenCityPost, body: unknown, source: string, log: WarnLog): Promise<OpenCityOutcome> {
    try {
      return await apply(post, log);
    } catch (err) {
      if (!(err instanceof InputError) && !(err instanceof DuplicateError)) throw err;
      const subject = typeof post.entity.id === 'string' ? post.entity.id.slice(0, 200) : null;
      return reject({ tenant: post.tenant, source, reason: err.message, field: err.field, body, arrivedAt: Date.now(), coreEventId: post.base.event_id, subject }, log);
    }
  }

  /** Records one post; entities are serialised per id (see serializer()). */
  async function apply(post: OpenCityPost, log: WarnLog): Promise<OpenCityOutcome> {
    const { tenant, topic, entity, base } = post;
    const duplicate = async (): Promise<OpenCityOutcome | null> => {
      const existing = await store.getEvent(tenant.id, base.event_id);
      return existing && { result: 'duplicate', type: existing.type };
    };
    const outcome = await serialize(`${tenant.id}:${topic}:${String(entity.id)}`, async (): Promise<OpenCityOutcome> => {
      // A pratica's snapshot needs no read first: its append finds a repeated event_id itself, in
      // the transaction that classifies it (created: false), which on PostgreSQL saves a round
      // trip per post. The other entities are classified by reading the log before the append,
      // which a repeat must not reach.
      const readFirst = topic !== 'applications';
      if (readFirst) {
        const seen = await duplicate();
        if (seen) return seen;
      }
      let event: NewEvent;
      try {
        event = await toEvent(post);
      } catch (err) {
        // A repeat is answered as one whatever it holds, as when every post was looked up first.
        if (!readFirst && err instanceof InputError) {
          const seen = await duplicate();
          if (seen) return seen;
        }
        throw err;
      }
      try {
        const [r] = await store.appendEvents([event]);
        if (r.created && event.projection && !r.projected && r.event.type !== OUTDATED_SNAPSHOT_TYPE) {
          log.warn({ type: r.event.type }, 'opencity ingest: a newer snapshot was applied meanwhile; this one was recorded but not projected');
        }
        return { result: r.created ? 'created' : 'duplicate', type: r.event.type };
      } catch (err) {
        // Ids are per tenant (issue 12 item 7): what is left is a service slug this tenant already
        // uses under another id; applyOrReject keeps the post as ingest.rejected.
        if (err instanceof DuplicateError) log.warn({ field: err.field, detail: err.message }, 'opencity ingest refused');
        throw err;
      }
    });
    if (outcome.result === 'created') deps.work.notify();
    return outcome;
  }

  return { apply, applyOrReject, reject };
}
