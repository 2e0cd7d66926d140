/**
 * What the delivery lists and the bulk actions share: the WHERE of a list filter (including the
 * search), and the pratica's subject and applicant shown on each row.
 */
import type { Dialect, SqlValue } from './db.js';
import { searchCondition } from './search.js';
import { STATUS } from './sql.js';
import type { DeliveryFilter } from './types.js';

/** The pratica's subject and applicant from its stored doc (null when the delivery has none). */
export function applicationSummary(raw: unknown): { subject: string | null; applicant: string | null } | null {
  if (raw === null || raw === undefined) return null;
  try {
    const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
    return { subject: typeof doc.subject === 'string' ? doc.subject : null, applicant: typeof doc.user_name === 'string' ? doc.user_name : null };
  } catch {
    return null;
  }
}

/** The WHERE of a delivery list filter (alias d), shared by the list and the bulk actions. */
export function deliveryWhere(dialect: Dialect, tenantId: string, filter: DeliveryFilter): { where: string[]; params: SqlValue[] } {
  const q = filter.q?.trim();
  const deliveryId = q !== undefined && /^msg_[A-Za-z0-9_-]+$/.test(q);
  const search = q && !deliveryId ? searchCondition(dialect, 'e.subject', tenantId, q) : null;
  // One event's deliveries, or one pratica's few (by its id, or a whole id in the search), are
  // found through the event (ofEvents); the tenant and the webhook are then checked on each row,
  // not walked by their indexes (`|| ''` keeps both planners off them). SQLite otherwise walked
  // the tenant's deliveries newest first, to spare itself a sort, until it met the few that
  // matched: all of them for an old pratica. Words may match many pratiche: there the walk,
  // which stops at a page of matches, is the planner's to choose.
  const byEvent = Boolean(filter.event_id || filter.subject || search?.byId);
  const checked = (column: string) => (byEvent ? `${column} || ''` : column);
  const where = [`${checked('d.tenant_id')} = ?`];
  const params: SqlValue[] = [tenantId];
  if (filter.webhook_id) { where.push(`${checked('d.webhook_id')} = ?`); params.push(filter.webhook_id); }
  if (filter.event_id) { where.push(ofEvents('e.event_id = ?')); params.push(tenantId, filter.event_id); }
  if (filter.subject) { where.push(ofEvents('e.subject = ?')); params.push(tenantId, filter.subject); }
  // A literal, as the partial indexes name it (deliveries_tenant_failed): a PostgreSQL generic
  // plan knows no bound value (SQLite prepares again for one). A status that is no delivery state
  // is an error, never SQL text.
  if (filter.status) {
    if (!Object.hasOwn(STATUS, filter.status)) throw new Error(`not a delivery status: ${JSON.stringify(filter.status)}`);
    where.push(`d.status = ${STATUS[filter.status]}`);
  }
  if (filter.since !== undefined) { where.push('d.created_at >= ?'); params.push(filter.since); }
  if (filter.until !== undefined) { where.push('d.created_at < ?'); params.push(filter.until); }
  if (deliveryId) {
    // A delivery id or its start, as the lists show it (within the tenant's rows).
    where.push('substr(d.id, 1, ?) = ?');
    params.push(q.length, q);
  } else if (search) {
    where.push(ofEvents(search.sql));
    params.push(tenantId, ...search.params);
  }
  return { where, params };
}

/**
 * The deliveries of the tenant's events that `condition` (on alias e) picks: by event_id, by
 * pratica (subject), by words. Through the event's seq, which a delivery keeps and an index
 * takes in the order events come; an index on a delivery's event_id or subject took a random
 * leaf for each new delivery (migration 220).
 */
const ofEvents = (condition: string): string => `d.event_seq IN (SELECT e.seq FROM events e WHERE e.tenant_id = ? AND ${condition})`;
