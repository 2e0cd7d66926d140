/**
 * The transactional outbox: events are appended with their projection changes and, in the same
 * transaction, one delivery per matching webhook, its body rendered at that moment and frozen;
 * or, for an event whose fan-out does not fit in the transaction's MESSO_FANOUT_CHUNK, a fan-out
 * job that promises them (written after, in chunks: fanout.ts).
 * Webhooks of one event with the same format and version share one payload row, except
 * `opencity` ones, whose body holds the delivery's own event_id.
 */
import { matches } from '../domain/matching.js';
import { renderPayload } from '../domain/payload.js';
import { timeOrderedId, uuid } from '../domain/ids.js';
import type { EventRecord } from '../domain/events.js';
import type { Keyring } from '../domain/encryption.js';
import { UniqueViolation, type Db, type SqlValue } from './db.js';
import { toEvent, toWebhook } from './rows.js';
import { flushHeld, insertDeliveries, newHeldWrites, type HeldWrites } from './held-writes.js';
import { termsOf, writeTerms } from './search.js';
import { ConflictError, DuplicateError } from './store.js';
import { classifyInTx, noteApplied, type AppliedCache } from './applied.js';
import { applicationRow, insertEvent, insertStaged, stageable, UPSERT_SNAPSHOT, type Inserted, type Staged, type Upserted } from './event-rows.js';
import type { AppendResult, NewEvent, Webhook } from './types.js';

/** Origin of a URL: deliveries to one origin share the endpoint's concurrency limit. */
export function endpointKey(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** Deliveries written in one transaction at most, by default (MESSO_FANOUT_CHUNK). */
export const DEFAULT_FANOUT_CHUNK = 1000;

/** What appending needs beside the events. */
export interface AppendContext {
  /** Opens the webhooks' sealed secrets and headers. */
  ring: Keyring;
  /** Reverse-DNS prefix of CloudEvents types (MESSO_CLOUDEVENTS_TYPE_PREFIX). */
  typePrefix?: string;
  /** What the appends of one transaction share: a group commit passes one for the whole group. */
  shared?: AppendShared;
  /** Leave `shared.held` for the caller to flush (a group commit, once for the group); else flushed here. */
  holdWrites?: boolean;
}

/**
 * One transaction's view, read once: each tenant's webhooks (one SELECT per tenant and group,
 * not per post), whether the tenant has fan-outs queued, and the deliveries the transaction
 * may still write itself.
 */
export interface AppendShared {
  webhooksByTenant: Map<string, Webhook[]>;
  /** The seq of each tenant's newest webhook: a fan-out job covers the webhooks up to it. */
  newestWebhookByTenant: Map<string, number>;
  queuedByTenant: Map<string, boolean>;
  /** Starts at MESSO_FANOUT_CHUNK; an event whose fan-out does not fit becomes a fan-out job. */
  room: number;
  /** Payloads, deliveries and terms not written yet (held-writes.ts). */
  held: HeldWrites;
  /** The pratiche as they stand in the transaction, for classifying snapshots (applied.ts). */
  applied: AppliedCache;
  /** The API keys of the group's requests that are live in this transaction (appendEvents' liveKey). */
  liveKeys: Set<string>;
  /** Events whose rows insertAhead wrote for the whole group, staged as they went in. */
  ahead: Map<NewEvent, { staged: Staged; inserted: Inserted }>;
}

export function newAppendShared(chunk = DEFAULT_FANOUT_CHUNK): AppendShared {
  return {
    webhooksByTenant: new Map(), newestWebhookByTenant: new Map(), queuedByTenant: new Map(), room: chunk, held: newHeldWrites(),
    applied: new Map(), liveKeys: new Set(), ahead: new Map(),
  };
}

/** Appends events in transaction `t`, with their projections and deliveries. */
export async function appendInTx(t: Db, events: NewEvent[], ctx: AppendContext): Promise<AppendResult[]> {
  const { ring, typePrefix } = ctx;
  const shared = ctx.shared ?? newAppendShared();
  const results: AppendResult[] = [];
  for (const given of events) {
    const ahead = shared.ahead.get(given);
    const staged = ahead?.staged ?? await stage(t, shared, given);
    const { ev, now, terms } = staged;
    const p = ev.projection;
    const inserted = ahead ? ahead.inserted : await insertEvent(t, staged);
    if (inserted === null) {
      // An event_id belongs to its tenant: only this tenant's own earlier event can answer.
      const existing = (await t.query('SELECT * FROM events WHERE tenant_id = ? AND event_id = ?', [ev.tenant_id, ev.event_id]))
        .map(toEvent)[0];
      // Not found: the row that made the insert a no-op was removed meanwhile (retention).
      if (!existing) throw new ConflictError('the event changed meanwhile; send it again');
      results.push({ event: existing, created: false, projected: false, deliveries: 0 });
      continue;
    }
    const record: EventRecord = {
      seq: inserted.seq, event_id: ev.event_id, type: ev.type, tenant_id: ev.tenant_id,
      subject: ev.subject, event_version: ev.event_version, event_created_at: ev.event_created_at,
      app_id: ev.app_id, data: ev.data, recorded_at: now,
    };
    const projected = p ? await project(t, ev, inserted, now, terms, shared.held) : true;
    if (p && projected) noteApplied(shared.applied, ev);
    const hooks = await webhooksOf(t, shared, ev.tenant_id, ring);
    const deliveries = await fanOut(t, shared, record, hooks, now, typePrefix);
    results.push({ event: record, created: true, projected, deliveries });
  }
  if (!ctx.holdWrites) await flushHeld(t, shared.held);
  return results;
}

/** The event classified against the pratica as applied in `t` (a snapshot's), stamped, its search terms made. */
async function stage(t: Db, shared: AppendShared, given: NewEvent): Promise<Staged> {
  const ev = given.classify ? await classifyInTx(t, shared.applied, given) : given;
  const p = ev.projection;
  // A new row carries its search terms (search.ts); an update leaves them, and returns them for
  // writeTerms to compare: no read of the row just written.
  return { ev, now: Date.now(), terms: p?.kind === 'application' ? termsOf(p.doc.id, p.doc) : [] };
}

/**
 * PostgreSQL, once per group run together, after readAhead: the rows of its first events, while
 * they are snapshots of distinct pratiche (stageable), in one statement instead of one each. A
 * single post's snapshot was one of the API's ~3 round trips per event (its key's lookup another,
 * the group's own statements the third); with the key checked in the group too (sql-store.ts),
 * ~1.2 are left (BENCHMARKS.md, "The API's round trips per event"). Each is classified against
 * the pratica as it stood before the group, which is right: none of the events before it in the
 * group touched that pratica. appendInTx then takes each one's row from `shared.ahead`. Never
 * in a group run apart, where each request's rows must stay inside its savepoint.
 */
export async function insertAhead(t: Db, shared: AppendShared, events: NewEvent[]): Promise<void> {
  const n = stageable(t, events);
  if (n < 2) return;
  for (let from = 0; from < n; from += STAGED_PER_STATEMENT) {
    const part = events.slice(from, Math.min(n, from + STAGED_PER_STATEMENT));
    const staged: Staged[] = [];
    for (const given of part) staged.push(await stage(t, shared, given));
    const rows = await insertStaged(t, staged);
    staged.forEach((s, i) => shared.ahead.set(part[i], { staged: s, inserted: rows[i] }));
  }
}

/**
 * Snapshots per statement in insertAhead: more than a group of single posts holds, and a batch of
 * 1,000 in 32 statements, not 1,000. All of it in one statement was one JSON text of ~2.5 MB (each
 * document twice, escaped, as insertStaged sent them then), and the API's peak RSS in the bench's
 * batch phase rose from 290–298 to 373–411 MB; by 100, 308–335 MB; by 32, 274–308 MB, at the
 * same rate (BENCHMARKS.md).
 */
const STAGED_PER_STATEMENT = 32;

/**
 * The tenant's webhooks, disabled ones too (recordSkips), read once per transaction; with them,
 * whether the tenant has fan-out jobs queued (fanOut), asked in the same statement: it was a
 * round trip of its own in every group on PostgreSQL.
 */
async function webhooksOf(t: Db, shared: AppendShared, tenantId: string, ring: Keyring): Promise<Webhook[]> {
  let hooks = shared.webhooksByTenant.get(tenantId);
  if (!hooks) {
    const rows = await t.query(
      `SELECT w.*, CASE WHEN EXISTS (SELECT 1 FROM fanout_jobs f WHERE f.tenant_id = ?) THEN 1 ELSE 0 END AS fanout_queued
       FROM webhooks w WHERE w.tenant_id = ? AND w.deleted_at IS NULL ORDER BY w.seq`, [tenantId, tenantId],
    );
    hooks = rows.map((r) => toWebhook(r, ring));
    shared.webhooksByTenant.set(tenantId, hooks);
    shared.newestWebhookByTenant.set(tenantId, Number(rows.at(-1)?.seq ?? 0));
    // No webhooks, no deliveries: then the answer is never asked for.
    shared.queuedByTenant.set(tenantId, Number(rows[0]?.fanout_queued ?? 0) === 1);
  }
  return hooks;
}

/**
 * The event's deliveries, in this transaction while they fit in its room; otherwise a fan-out
 * job, committed with the event, that the engine writes in bounded transactions (fanout.ts):
 * one tenant's batch of 1,000 events to 300 webhooks held SQLite's write lock, and every other
 * tenant, for 18 s. A tenant with jobs queued queues every later event behind them, so that its
 * deliveries keep the events' order. Returns the deliveries made or promised.
 */
async function fanOut(t: Db, shared: AppendShared, ev: EventRecord, hooks: Webhook[], now: number, typePrefix?: string): Promise<number> {
  const matching = hooks.filter((h) => matches(h, ev));
  if (matching.length === 0 || (matching.length <= shared.room && !shared.queuedByTenant.get(ev.tenant_id))) {
    shared.room -= matching.length;
    await recordSkips(t, ev, hooks, now);
    return enqueue(t, ev, matching, now, typePrefix, shared.held);
  }
  shared.queuedByTenant.set(ev.tenant_id, true);
  await t.execute(
    'INSERT INTO fanout_jobs (tenant_id, event_seq, upto_webhook_seq, turn_at, created_at) VALUES (?, ?, ?, ?, ?)',
    [ev.tenant_id, ev.seq, shared.newestWebhookByTenant.get(ev.tenant_id) ?? 0, now, now],
  );
  return matching.length;
}

/** One deliveries row, in the column order of insertDeliveries; its id first. */
function deliveryRow(ev: EventRecord, hook: Webhook, payloadId: string, now: number): SqlValue[] {
  return [timeOrderedId('msg', now), ev.tenant_id, hook.id, ev.event_id, ev.seq, ev.type, ev.subject,
    hook.ordering === 'per_application' && ev.subject ? ev.subject : null, endpointKey(hook.endpoint), payloadId, now, now, now];
}

/**
 * A test that goes through the dispatcher and its retry schedule: the event is logged (type
 * webhook.test) and delivered to this one webhook only, with the body given (rendered as the
 * immediate test renders it). Returns the delivery's id.
 */
export async function appendTestDelivery(t: Db, hook: Webhook, ev: Omit<EventRecord, 'seq' | 'recorded_at'>, body: { body: string; contentType: string }, now: number): Promise<string> {
  const inserted = await t.query<{ seq: number }>(
    `INSERT INTO events (event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    [ev.event_id, ev.tenant_id, ev.type, ev.subject, ev.event_version, ev.event_created_at, ev.app_id, JSON.stringify(ev.data), now],
  );
  const payloadId = `${payloadPrefix({ tenant_id: ev.tenant_id, seq: Number(inserted[0].seq) })}:${hook.id}`;
  await t.execute('INSERT INTO payloads (id, body, content_type, created_at) VALUES (?, ?, ?, ?)', [payloadId, body.body, body.contentType, now]);
  const row = deliveryRow({ ...ev, seq: Number(inserted[0].seq), recorded_at: now }, hook, payloadId, now);
  await insertDeliveries(t, [row]);
  return String(row[0]);
}

/**
 * The start of an event's payload ids: its tenant (two tenants never share a body), then its seq,
 * zero-padded so that ids sort as the events came. Ids that grow keep the payloads' primary key
 * and deliveries_payload appended to, where the event's random event_id put each insert on a
 * random leaf: two of the ~17 pages each single-POST event wrote to the WAL.
 */
function payloadPrefix(ev: Pick<EventRecord, 'tenant_id' | 'seq'>): string {
  return `${ev.tenant_id}:${String(ev.seq).padStart(15, '0')}`;
}

/** Events a disabled webhook would have taken: counted on its page, recoverable on re-enabling. */
export async function recordSkips(t: Db, ev: EventRecord, hooks: Webhook[], now: number): Promise<void> {
  for (const hook of hooks) {
    if (hook.active || !matches({ ...hook, active: true }, ev)) continue;
    await t.execute(
      'INSERT INTO webhook_skips (webhook_id, tenant_id, event_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [hook.id, ev.tenant_id, ev.event_id, now],
    );
  }
}

/**
 * One delivery per webhook of `hooks` (those the event matches: the caller chose them), body
 * rendered now and frozen. The rows go in as multi-row INSERTs (held-writes.ts): a fan-out to
 * 1,000 webhooks is a few statements, not 1,000. With `held` they are left there for the caller
 * to write with the rest of its group; without, they are written before this returns.
 */
export async function enqueue(t: Db, ev: EventRecord, hooks: Webhook[], now: number, typePrefix?: string, held?: HeldWrites): Promise<number> {
  const out = held ?? newHeldWrites();
  const rendered = new Set<string>();
  for (const hook of hooks) {
    // An opencity body carries its delivery's own event_id (the core makes one per send job),
    // so it is rendered per delivery; the other formats share one body per format and version.
    const perDelivery = hook.format === 'opencity';
    // Both CloudEvents modes freeze the same structured body (binary is made from it when sent).
    const shared = hook.format === 'cloudevents-binary' ? 'cloudevents' : hook.format;
    const payloadId = `${payloadPrefix(ev)}:${perDelivery ? hook.id : `${shared}:${hook.version}`}`;
    if (!rendered.has(payloadId)) {
      const payload = renderPayload(ev, { format: hook.format, version: hook.version, typePrefix }, { eventId: perDelivery ? uuid() : ev.event_id });
      out.payloads.push([payloadId, payload.body, payload.contentType, now]);
      rendered.add(payloadId);
    }
    out.deliveries.push(deliveryRow(ev, hook, payloadId, now));
  }
  if (!held) await flushHeld(t, out);
  return hooks.length;
}

async function project(t: Db, ev: NewEvent, inserted: NonNullable<Inserted>, now: number, terms: string[], held: HeldWrites): Promise<boolean> {
  const { seq } = inserted;
  const p = ev.projection!;
  if (p.kind === 'service') {
    const s = p.service;
    try {
      await t.execute(
        `INSERT INTO services (id, tenant_id, slug, name, group_name, description, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, id) DO UPDATE SET slug = excluded.slug, name = excluded.name, group_name = excluded.group_name,
           description = excluded.description, status = excluded.status, updated_at = excluded.updated_at`,
        [s.id, s.tenant_id, s.slug, s.name, s.group_name, s.description, s.status, now, now],
      );
    } catch (err) {
      if (err instanceof UniqueViolation) throw new DuplicateError('a service with this slug already exists', 'slug');
      throw err;
    }
    return true;
  }
  const doc = p.doc;
  if (p.mode === 'strict' && (p.expectedVersion === null || p.expectedVersion === undefined)) {
    try {
      await t.execute(
        `INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at, terms, terms_seq)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`, applicationRow(ev, doc, now, terms, seq),
      );
    } catch (err) {
      if (err instanceof UniqueViolation) throw new ConflictError('an application with this id already exists');
      throw err;
    }
    await writeTerms(t, ev.tenant_id, doc.id, seq, terms, 'new', held.terms);
    return true;
  }
  if (p.mode === 'strict') {
    const [changed] = await t.query<{ terms: string | null; terms_seq: number | null }>(
      `UPDATE applications SET service_id = ?, status = ?, doc = ?, version = version + 1, updated_at = ?,
         last_event_seq = ?, last_event_at = ? WHERE tenant_id = ? AND id = ? AND version = ? RETURNING terms, terms_seq`,
      [doc.service_id, doc.status, JSON.stringify(doc), now, seq, ev.event_created_at, ev.tenant_id, doc.id, p.expectedVersion!],
    );
    if (!changed) throw new ConflictError('the application changed meanwhile; read it again');
    await writeTerms(t, ev.tenant_id, doc.id, seq, terms, changed, held.terms);
    return true;
  }
  const changed = inserted.upserted ?? await t.query<Upserted[number]>(UPSERT_SNAPSHOT, applicationRow(ev, doc, now, terms, seq));
  // None: a newer snapshot of this tenant's application is already applied.
  if (changed.length === 0) return false;
  // Version 1: a new pratica, its terms inserted with it.
  await writeTerms(t, ev.tenant_id, doc.id, seq, terms, Number(changed[0].version) === 1 ? 'new' : changed[0], held.terms);
  return true;
}
