/**
 * The transactional outbox: events are appended with their projection changes and, in the same
 * transaction, one delivery per matching webhook, its body rendered at that moment and frozen.
 * Webhooks of one event with the same format and version share one payload row, except
 * `opencity` ones, whose body holds the delivery's own event_id.
 */
import { matches } from '../domain/matching.js';
import { renderPayload } from '../domain/payload.js';
import { prefixedId, uuid } from '../domain/ids.js';
import type { EventRecord } from '../domain/events.js';
import { UniqueViolation, type Db, type SqlValue } from './db.js';
import { toEvent, toWebhook } from './rows.js';
import { STATUS } from './sql.js';
import { ConflictError, DuplicateError } from './store.js';
import type { AppendResult, NewEvent, Webhook } from './types.js';

/** Origin of a URL: deliveries to one origin share the endpoint's concurrency limit. */
export function endpointKey(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export async function appendInTx(t: Db, events: NewEvent[]): Promise<AppendResult[]> {
{
    const webhooksByTenant = new Map<string, Webhook[]>();
    const results: AppendResult[] = [];
    for (const ev of events) {
      const now = Date.now();
      const inserted = await t.query<{ seq: number }>(
        `INSERT INTO events (event_id, tenant_id, type, subject, event_version, event_created_at, app_id, data, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING seq`,
        [ev.event_id, ev.tenant_id, ev.type, ev.subject, ev.event_version, ev.event_created_at, ev.app_id,
          JSON.stringify(ev.data), now],
      );
      if (inserted.length === 0) {
        const existing = (await t.query('SELECT * FROM events WHERE event_id = ?', [ev.event_id])).map(toEvent)[0];
        // An event_id is global: another tenant's id must not be revealed, nor overwritten.
        if (!existing || existing.tenant_id !== ev.tenant_id) {
          throw new DuplicateError('event_id is already used', 'event_id');
        }
        results.push({ event: existing, created: false, projected: false, deliveries: 0 });
        continue;
      }
      const record: EventRecord = {
        seq: Number(inserted[0].seq), event_id: ev.event_id, type: ev.type, tenant_id: ev.tenant_id,
        subject: ev.subject, event_version: ev.event_version, event_created_at: ev.event_created_at,
        app_id: ev.app_id, data: ev.data, recorded_at: now,
      };
      const projected = ev.projection ? await project(t, ev, record.seq, now) : true;
      let hooks = webhooksByTenant.get(ev.tenant_id);
      if (!hooks) {
        hooks = (await t.query(
          'SELECT * FROM webhooks WHERE tenant_id = ? AND active = 1 AND deleted_at IS NULL ORDER BY seq', [ev.tenant_id],
        )).map(toWebhook);
        webhooksByTenant.set(ev.tenant_id, hooks);
      }
      const deliveries = await enqueue(t, record, hooks, now);
      results.push({ event: record, created: true, projected, deliveries });
    }
    return results;
  }
}

/** One delivery per matching webhook, body rendered now and frozen. */
async function enqueue(t: Db, ev: EventRecord, hooks: Webhook[], now: number): Promise<number> {
  let n = 0;
  const rendered = new Set<string>();
  for (const hook of hooks) {
    if (!matches(hook, ev)) continue;
    // An opencity body carries its delivery's own event_id (the core makes one per send job),
    // so it is rendered per delivery; the other formats share one body per format and version.
    const perDelivery = hook.format === 'opencity';
    const payloadId = perDelivery ? `${ev.event_id}:${hook.id}` : `${ev.event_id}:${hook.format}:${hook.version}`;
    if (!rendered.has(payloadId)) {
      const payload = renderPayload(ev, { format: hook.format, version: hook.version }, { eventId: perDelivery ? uuid() : ev.event_id });
      await t.execute(
        'INSERT INTO payloads (id, body, content_type, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
        [payloadId, payload.body, payload.contentType, now],
      );
      rendered.add(payloadId);
    }
    await t.execute(
      `INSERT INTO deliveries (id, tenant_id, webhook_id, event_id, event_type, subject, order_key, endpoint_key,
         status, payload_id, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${STATUS.pending}, ?, 0, ?, ?, ?)`,
      [prefixedId('msg'), ev.tenant_id, hook.id, ev.event_id, ev.type, ev.subject,
        hook.ordering === 'per_application' && ev.subject ? ev.subject : null, endpointKey(hook.endpoint),
        payloadId, now, now, now],
    );
    n++;
  }
  return n;
}

async function project(t: Db, ev: NewEvent, seq: number, now: number): Promise<boolean> {
  const p = ev.projection!;
  if (p.kind === 'service') {
    const s = p.service;
    try {
      const changed = await t.execute(
        `INSERT INTO services (id, tenant_id, slug, name, group_name, description, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name, group_name = excluded.group_name,
           description = excluded.description, status = excluded.status, updated_at = excluded.updated_at
         WHERE services.tenant_id = excluded.tenant_id`,
        [s.id, s.tenant_id, s.slug, s.name, s.group_name, s.description, s.status, now, now],
      );
      if (changed === 0) throw new DuplicateError('service id is already used', 'id');
    } catch (err) {
      if (err instanceof UniqueViolation) throw new DuplicateError('a service with this slug already exists', 'slug');
      throw err;
    }
    return true;
  }
  const doc = p.doc;
  const values: SqlValue[] = [doc.id, ev.tenant_id, doc.service_id, doc.status, JSON.stringify(doc), now, now, seq, ev.event_created_at];
  if (p.mode === 'strict' && (p.expectedVersion === null || p.expectedVersion === undefined)) {
    try {
      await t.execute(
        `INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`, values,
      );
    } catch (err) {
      if (err instanceof UniqueViolation) throw new ConflictError('an application with this id already exists');
      throw err;
    }
    return true;
  }
  if (p.mode === 'strict') {
    const changed = await t.execute(
      `UPDATE applications SET service_id = ?, status = ?, doc = ?, version = version + 1, updated_at = ?,
         last_event_seq = ?, last_event_at = ? WHERE tenant_id = ? AND id = ? AND version = ?`,
      [doc.service_id, doc.status, JSON.stringify(doc), now, seq, ev.event_created_at, ev.tenant_id, doc.id, p.expectedVersion!],
    );
    if (changed === 0) throw new ConflictError('the application changed meanwhile; read it again');
    return true;
  }
  const changed = await t.execute(
    `INSERT INTO applications (id, tenant_id, service_id, status, doc, version, created_at, updated_at, last_event_seq, last_event_at)
     VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET service_id = excluded.service_id, status = excluded.status, doc = excluded.doc,
       version = applications.version + 1, updated_at = excluded.updated_at,
       last_event_seq = excluded.last_event_seq, last_event_at = excluded.last_event_at
     WHERE applications.tenant_id = excluded.tenant_id AND applications.last_event_at <= excluded.last_event_at`,
    values,
  );
  if (changed === 0) {
    const owner = await t.query<{ tenant_id: string }>('SELECT tenant_id FROM applications WHERE id = ?', [doc.id]);
    if (owner[0] && owner[0].tenant_id !== ev.tenant_id) throw new DuplicateError('application id is already used', 'id');
    return false;
  }
  return true;
}
