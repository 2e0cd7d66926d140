/**
 * Ingest of events from an external core that keeps its own pratiche (`POST /api/events` and
 * `/api/events/batch`). Idempotent on event_id: a repeat answers with the original and writes
 * nothing. A batch is checked whole before anything is written, then written in one
 * transaction. Events carrying an application snapshot (`data.application`) update the
 * projection; `application.snapshot` lets messo tell created / status_changed / updated apart.
 */
import { normalizeApplication, TIME_PAIRS } from '../domain/application.js';
import { parseTime } from '../domain/dates.js';
import { classifyAgainst, OUTDATED_SNAPSHOT_TYPE, SNAPSHOT_CLASSES } from '../domain/snapshot.js';
import { isStatusCode } from '../domain/statuses.js';
import { WEBHOOKS_PER_TENANT_CEILING, type Config } from '../config.js';
import { matches } from '../domain/matching.js';
import type { AppendResult, NewEvent, Page, Store, Webhook } from '../store/index.js';
import type { WorkSignal } from '../runtime.js';
import { unsafeKeyPaths } from '../domain/form-data.js';
import { InputError, QuotaError, refuseUnsafeKeys } from './errors.js';

export interface IngestInput {
  event_id: string;
  type: string;
  subject?: string | null;
  event_version?: number;
  event_created_at?: string | number;
  app_id?: string;
  data: Record<string, unknown>;
}

export interface IngestDeps {
  store: Pick<Store, 'appendEvents' | 'listWebhooks' | 'countWebhooks'>;
  config: Pick<Config, 'maxDeliveriesPerBatch'>;
  work: WorkSignal;
}

/**
 * The deliveries a batch would create (each event times the active webhooks it matches), and a
 * QuotaError past MESSO_MAX_DELIVERIES_PER_BATCH, before anything is written. Repeats of known
 * event_ids are counted too, and a snapshot, classified only when written, counts every webhook
 * that any of its classes would fire: an upper bound, never an under-count.
 */
async function checkFanOut(deps: IngestDeps, tenantId: string, events: NewEvent[]): Promise<void> {
  const max = deps.config.maxDeliveriesPerBatch;
  // No tenant can reach the cap with these few events: nothing to read (every single POST with
  // the defaults: one statement, a round trip on PostgreSQL, fewer per event).
  if (WEBHOOKS_PER_TENANT_CEILING * events.length <= max) return;
  // Every webhook matching every event stays under the cap: the common case (a batch against at
  // most MESSO_MAX_WEBHOOKS_PER_TENANT webhooks), answered by one indexed count instead of
  // reading and opening each webhook on the hot path.
  if ((await deps.store.countWebhooks(tenantId)) * events.length <= max) return;
  const hooks: Webhook[] = [];
  for (let cursor: string | null = null; ;) {
    const page: Page<Webhook> = await deps.store.listWebhooks(tenantId, { limit: 500, cursor });
    hooks.push(...page.items.filter((h) => h.active));
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  if (hooks.length * events.length <= max) return;
  let total = 0;
  for (const ev of events) {
    // Matching reads a snapshot's type, its application's status and service (its classes' data).
    const as = ev.classify ? SNAPSHOT_CLASSES.map((type) => ({ type, data: { application: ev.data.application } })) : [ev];
    total += hooks.filter((h) => as.some((e) => matches(h, e))).length;
  }
  if (total > max) {
    throw new QuotaError('events', `this batch would create ${total} deliveries; at most ${max} are allowed per batch (MESSO_MAX_DELIVERIES_PER_BATCH): send it in smaller batches`);
  }
}

/**
 * Appends the events for a tenant. `fieldOf(i)` names the i-th input in errors (`events.3.`
 * in a batch, nothing for a single event). `liveKey`: an API key to check in the write itself
 * (store.appendEvents).
 */
export async function ingestEvents(
  deps: IngestDeps, tenantId: string, inputs: IngestInput[], fieldOf: (i: number) => string, opts: { liveKey?: string } = {},
): Promise<AppendResult[]> {
  const events: NewEvent[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < inputs.length; i++) {
    refuseUnsafeKeys(unsafeKeyPaths(inputs[i].data), `${fieldOf(i)}data`);
    if (ids.has(inputs[i].event_id)) throw new InputError(`${fieldOf(i)}event_id`, 'appears twice in this batch');
    ids.add(inputs[i].event_id);
  }
  for (let i = 0; i < inputs.length; i++) events.push(toNewEvent(tenantId, inputs[i], fieldOf(i)));
  await checkFanOut(deps, tenantId, events);
  const results = await deps.store.appendEvents(events, opts);
  if (results.some((r) => r.created)) deps.work.notify();
  return results;
}

function toNewEvent(tenantId: string, input: IngestInput, field: string): NewEvent {
  const createdAt = input.event_created_at === undefined ? Date.now() : parseTime(input.event_created_at);
  if (createdAt === null) throw new InputError(`${field}event_created_at`, 'must be an ISO 8601 date-time or Unix seconds');
  const base = {
    event_id: input.event_id, tenant_id: tenantId, event_version: input.event_version ?? 1,
    event_created_at: createdAt, app_id: input.app_id ?? 'external',
  };
  const snapshot = input.data.application;
  if (snapshot === undefined || snapshot === null) {
    if (input.type === 'application.snapshot') throw new InputError(`${field}data.application`, 'is required for application.snapshot');
    return { ...base, type: input.type, subject: input.subject ?? null, data: input.data };
  }
  if (typeof snapshot !== 'object' || Array.isArray(snapshot)) throw new InputError(`${field}data.application`, 'must be an object');
  const raw = snapshot as Record<string, unknown>;
  if (typeof raw.id !== 'string' || raw.id === '') throw new InputError(`${field}data.application.id`, 'is required');
  if (typeof raw.service_id !== 'string' || raw.service_id === '') throw new InputError(`${field}data.application.service_id`, 'is required');
  if (!isStatusCode(raw.status)) throw new InputError(`${field}data.application.status`, 'must be an OpenCity status code');
  // A time that cannot be rendered would be dropped to null by normalizeApplication: refuse it instead.
  for (const name of [...TIME_PAIRS.flat(), 'flow_changed_at']) {
    const v = raw[name];
    if (v !== undefined && v !== null && parseTime(v) === null) {
      throw new InputError(`${field}data.application.${name}`, 'must be an ISO 8601 date-time or Unix seconds');
    }
  }
  const doc = normalizeApplication({ ...raw, tenant: tenantId });
  const event: NewEvent = {
    ...base, type: input.type, subject: doc.id, data: { ...input.data, application: doc }, projection: { kind: 'application', doc, mode: 'newer' },
  };
  if (input.type !== 'application.snapshot') return event;
  // Classified in the event's transaction, against the pratica as applied there (store/applied.ts).
  return {
    ...event,
    classify: (prior) => {
      const c = classifyAgainst(prior, doc, createdAt);
      // A late snapshot keeps what the sender put beside it; a classified one is the change itself.
      return c.type === OUTDATED_SNAPSHOT_TYPE ? { type: c.type, data: { ...input.data, ...c.data } } : c;
    },
  };
}
