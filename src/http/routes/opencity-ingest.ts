/**
 * Drop-in ingest for an existing OpenCity core (issue 6). The core publishes every change by
 * POSTing the entity JSON to `{KAFKA_URL}/{topic}` with only `Content-Type: application/json`,
 * counts 200 and 201 as success and retries anything else later. Pointing its KAFKA_URL at
 * `<messo>/ingest/opencity/<token>` is all it takes; the token in the path is the credential,
 * so this plugin sits outside the /api auth hook. The token never reaches a log: the request
 * serializer masks it (src/logger.ts), and nothing here logs more than its prefix.
 *
 * A request goes: topic → token → envelope (schema) → tenant_id → event_version → entity →
 * duplicate? → classify → one appendEvents call (event, projection and deliveries in one
 * transaction, so a refused or failed request leaves nothing behind and the core's retry
 * starts clean).
 *
 * Because the core retries every non-2xx forever, 4xx is kept for what the core must be told
 * (bad token, wrong tenant, a body it cannot have meant), and the entity is read leniently:
 * unknown fields kept, numeric strings accepted as status codes.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { normalizeApplication, type ApplicationDoc } from '../../domain/application.js';
import { formatRome, parseTime } from '../../domain/dates.js';
import { sha256 } from '../../domain/ids.js';
import { classifySnapshot, OUTDATED_SNAPSHOT_TYPE } from '../../domain/snapshot.js';
import { DuplicateError } from '../../store/store.js';
import type { NewEvent, Service, ServiceStatus, Tenant } from '../../store/types.js';
import { ApiError, invalid } from '../../http-common/errors.js';
import { slugify } from '../../usecases/tenants.js';

export const OPENCITY_TOPICS = ['applications', 'services', 'meetings', 'calendars'] as const;
export type OpenCityTopic = (typeof OPENCITY_TOPICS)[number];

/** Envelope versions this consumer understands; others are skipped quietly, as the platform requires. */
export const SUPPORTED_EVENT_VERSIONS: readonly number[] = [1, 2];

/**
 * Type of a snapshot older than the one already applied to its entity. It is recorded (the
 * log keeps everything the core said) but it is not a change: it moves no projection, and no
 * `trigger` or `application.*` webhook matches it, because delivering an old status as news
 * would tell a receiver the pratica went backwards. Only a webhook subscribed to `*` or to
 * this type sees it, and then by its own name.
 */
export { OUTDATED_SNAPSHOT_TYPE };

/** The producer's keys around the entity; everything else in the body is the entity. */
const ENVELOPE_KEYS = ['tenant_id', 'event_id', 'event_created_at', 'event_version', 'app_version'];

const Envelope = Type.Object({
  tenant_id: Type.String({ minLength: 1, maxLength: 200, description: "the core's instance id: the tenant's id or external_id" }),
  event_id: Type.String({ minLength: 1, maxLength: 200, description: 'UUID; a repeat is answered 200 and writes nothing' }),
  event_created_at: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Number({ minimum: 0 })], { description: 'ISO 8601 date-time or Unix seconds' }),
  event_version: Type.Union([Type.Integer(), Type.String({ pattern: '^[0-9]{1,9}$' })], { description: '1 and 2 are understood; others are skipped' }),
  app_version: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
}, { additionalProperties: true, description: 'the entity JSON as the core publishes it, plus the envelope keys' });
type Envelope = Static<typeof Envelope>;

const Params = Type.Object({
  token: Type.String({ description: 'an ingest token (POST /api/ingest-tokens)' }),
  topic: Type.String({ description: OPENCITY_TOPICS.join(', ') }),
});

const Result = Type.Object({
  result: Type.Union([Type.Literal('created'), Type.Literal('duplicate'), Type.Literal('skipped')]),
  event_id: Type.String(),
  type: Type.Union([Type.String(), Type.Null()]),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** An entity id as the core sends it (UUID string, or a number for older entities). */
function entityId(entity: Record<string, unknown>, field = 'id'): string {
  const v = entity[field];
  if (nonEmpty(v)) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw invalid(field, 'is required');
}

/** The projection's document; `tenant` stays the core's own value when it sent one. */
function applicationDoc(entity: Record<string, unknown>, tenantId: string): ApplicationDoc {
  entityId(entity);
  if (!nonEmpty(entity.service_id)) throw invalid('service_id', 'is required');
  const status = typeof entity.status === 'string' && /^[0-9]{1,6}$/.test(entity.status) ? Number(entity.status) : entity.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status <= 0) throw invalid('status', 'must be a status code such as 2000');
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
  if (!nonEmpty(entity.name)) throw invalid('name', 'is required');
  const group = entity.service_group_name ?? entity.group_name ?? (isObject(entity.service_group) ? entity.service_group.name : entity.service_group);
  return {
    id, tenant_id: tenantId, name: entity.name, slug: nonEmpty(entity.slug) ? entity.slug : slugify(entity.name),
    group_name: nonEmpty(group) ? group : null, description: typeof entity.description === 'string' ? entity.description : null,
    status: serviceStatus(entity.status),
  };
}

/**
 * Runs `fn` after earlier work on the same key has finished. Classifying a snapshot reads the
 * projection and appending writes it: two snapshots of one pratica handled at once could both
 * be classified against the same state. This closes that gap within one process; across
 * processes (PostgreSQL, several instances) the projection still never moves back, and a lost
 * race is logged (`projected: false` on a current snapshot).
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

interface Resolved {
  tenant: Tenant;
  topic: OpenCityTopic;
  tokenPrefix: string;
}

export const opencityIngestRoutes: FastifyPluginAsync = async (app) => {
  const { store } = app.runtime;
  const resolved = new WeakMap<FastifyRequest, Resolved>();
  const serialize = serializer();

  /** Newest event_created_at recorded for an entity, through the log (services, meetings, calendars). */
  async function newerRecorded(tenantId: string, kind: string, subject: string, at: number): Promise<number | null> {
    const page = await store.listEvents(tenantId, { subject, type: `${kind}.*`, since: at + 1 }, { limit: 1 });
    return page.items[0]?.event_created_at ?? null;
  }

  async function seenBefore(tenantId: string, kind: string, subject: string): Promise<boolean> {
    return (await store.listEvents(tenantId, { subject, type: `${kind}.*` }, { limit: 1 })).items.length > 0;
  }

  const outdated = (base: Omit<NewEvent, 'type' | 'subject' | 'data'>, subject: string, topic: OpenCityTopic, data: Record<string, unknown>, appliedAt: number): NewEvent =>
    ({ ...base, type: OUTDATED_SNAPSHOT_TYPE, subject, data: { topic, ...data, applied_event_created_at: formatRome(appliedAt) } });

  /** What one accepted body becomes; the caller appends it. */
  async function toEvent(topic: OpenCityTopic, tenant: Tenant, entity: Record<string, unknown>, base: Omit<NewEvent, 'type' | 'subject' | 'data'>): Promise<NewEvent> {
    const at = base.event_created_at;
    switch (topic) {
      case 'applications': {
        const doc = applicationDoc(entity, tenant.external_id ?? tenant.id);
        const row = await store.getApplication(tenant.id, doc.id);
        // Late snapshot (the core retried it after newer ones got through): classified against
        // the newer projection it would read as a move back (e.g. 7000 → 2000) and fire the
        // webhooks of the old status again. It is kept in the log under its own type instead.
        if (row && at < row.last_event_at) return outdated(base, doc.id, topic, { application: doc }, row.last_event_at);
        const { type, data } = classifySnapshot(row?.doc ?? null, doc);
        return { ...base, type, subject: doc.id, data, projection: { kind: 'application', doc, mode: 'newer' } };
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

  app.post<{ Params: Static<typeof Params>; Body: Envelope }>('/ingest/opencity/:token/:topic', {
    schema: {
      tags: ['ingest'], security: [],
      summary: "Receive an OpenCity core's event (set the core's KAFKA_URL to <messo>/ingest/opencity/<token>)",
      params: Params, body: Envelope, response: { 200: Result, 201: Result },
    },
    // Before body validation: an unknown topic or token is answered as such whatever the body.
    preValidation: async (request) => {
      const { token, topic } = request.params as Static<typeof Params>;
      if (!(OPENCITY_TOPICS as readonly string[]).includes(topic)) {
        throw new ApiError('not_found', `unknown topic: use one of ${OPENCITY_TOPICS.join(', ')}`, { field: 'topic' });
      }
      const found = await store.ingestTokens.findLiveByHash(sha256(token));
      const tenant = found ? await store.getTenant(found.tenant_id) : null;
      if (!found || !tenant) throw new ApiError('unauthorized', 'the ingest token in the URL is not valid or was revoked', { field: 'token' });
      resolved.set(request, { tenant, topic: topic as OpenCityTopic, tokenPrefix: found.prefix });
    },
  }, async (request, reply) => {
    const { tenant, topic, tokenPrefix } = resolved.get(request)!;
    const body = request.body;
    const log = request.log.child({ topic, event_id: body.event_id, token_prefix: tokenPrefix, tenant_id: tenant.id });

    if (body.tenant_id !== tenant.id && body.tenant_id !== tenant.external_id) {
      throw new ApiError('forbidden', "tenant_id is not this token's tenant: set the tenant's external_id to the core's instance id", { field: 'tenant_id' });
    }
    const version = Number(body.event_version);
    if (!SUPPORTED_EVENT_VERSIONS.includes(version)) {
      log.debug({ event_version: version }, 'opencity ingest: unsupported event_version skipped');
      return reply.status(200).send({ result: 'skipped', event_id: body.event_id, type: null });
    }
    const createdAt = parseTime(body.event_created_at);
    if (createdAt === null) throw invalid('event_created_at', 'must be an ISO 8601 date-time or Unix seconds');

    const entity: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!ENVELOPE_KEYS.includes(k)) entity[k] = v;
    const base = {
      event_id: body.event_id, tenant_id: tenant.id, event_version: version, event_created_at: createdAt,
      app_id: `opencity:${nonEmpty(body.app_version) ? body.app_version : 'unknown'}`,
    };

    // Entities are serialised per id: see serializer().
    const key = `${tenant.id}:${topic}:${String(entity.id)}`;
    const outcome = await serialize(key, async () => {
      const existing = await store.getEvent(tenant.id, body.event_id);
      if (existing) return { result: 'duplicate' as const, type: existing.type };
      const event = await toEvent(topic, tenant, entity, base);
      try {
        const [r] = await store.appendEvents([event]);
        if (r.created && event.projection && !r.projected && event.type !== OUTDATED_SNAPSHOT_TYPE) {
          log.warn({ type: event.type }, 'opencity ingest: a newer snapshot was applied meanwhile; this one was recorded but not projected');
        }
        return { result: r.created ? 'created' as const : 'duplicate' as const, type: r.event.type };
      } catch (err) {
        // Ids taken by another tenant: the core will retry until an operator sorts it out.
        if (err instanceof DuplicateError) log.warn({ field: err.field, detail: err.message }, 'opencity ingest refused');
        throw err;
      }
    });
    if (outcome.result === 'created') app.runtime.work.notify();
    log.debug({ result: outcome.result, type: outcome.type }, 'opencity ingest');
    return reply.status(outcome.result === 'created' ? 201 : 200).send({ ...outcome, event_id: body.event_id });
  });
};
