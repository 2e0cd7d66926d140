/**
 * Turning application snapshots from an external core into events: the first snapshot of an
 * id is a creation, a later one with another status, or the same status set again (its
 * latest_status_change_time moved forward), is a status change (from → to), anything else is
 * an update. Shared by the generic ingest API and the OpenCity-compatible ingest.
 */
import { EVENT_TYPES } from './events.js';
import type { ApplicationDoc } from './application.js';
import { formatRome } from './dates.js';

/**
 * A snapshot older than the one already applied: recorded, but it moves no projection and fires
 * no application webhook (delivering an old status as news would tell receivers the pratica
 * went backwards).
 */
export const OUTDATED_SNAPSHOT_TYPE = 'ingest.outdated_snapshot';

/**
 * A post from a core that could not be applied (unknown shape, invalid status, a tenant_id that
 * is not the token's…): answered 200 so the core goes on, and kept under this type with the
 * reason and the body, for an operator to see in the events list.
 */
export const INGEST_REJECTED_TYPE = 'ingest.rejected';

export interface SnapshotClassification {
  type: string;
  data: Record<string, unknown>;
}

/** Every type a snapshot may be classified as: a bound on the webhooks it can fire before it is. */
export const SNAPSHOT_CLASSES = [
  EVENT_TYPES.applicationCreated, EVENT_TYPES.applicationStatusChanged, EVENT_TYPES.applicationUpdated, OUTDATED_SNAPSHOT_TYPE,
] as const;

/** The state a snapshot is judged against: the document applied and when its event happened. */
export interface AppliedSnapshot {
  doc: ApplicationDoc;
  at: number;
}

/**
 * The core sets a status again (4000 → 4000) by moving `latest_status_change_time`; its webhooks
 * fire for that as for any status change, so a snapshot whose time moved forward is one.
 */
function statusSetAgain(previous: ApplicationDoc, next: ApplicationDoc): boolean {
  const before = Number(previous.latest_status_change_time);
  const after = Number(next.latest_status_change_time);
  return Number.isFinite(after) && after > 0 && (!Number.isFinite(before) || after > before);
}

export function classifySnapshot(previous: ApplicationDoc | null, next: ApplicationDoc): SnapshotClassification {
  if (previous === null) return { type: EVENT_TYPES.applicationCreated, data: { application: next } };
  if (previous.status !== next.status || statusSetAgain(previous, next)) {
    return { type: EVENT_TYPES.applicationStatusChanged, data: { application: next, from: previous.status, to: next.status, message: null } };
  }
  return { type: EVENT_TYPES.applicationUpdated, data: { application: next } };
}

/**
 * A snapshot against the pratica as applied before it (null: none yet). Late snapshot: the core
 * retried it after newer ones got through. Classified against the newer projection it would read
 * as a move back (e.g. 7000 → 2000) and fire the webhooks of the old status again. It is kept in
 * the log under its own type instead (OUTDATED_SNAPSHOT_TYPE), moves no projection and fires no
 * `trigger` webhook.
 */
export function classifyAgainst(prior: AppliedSnapshot | null, doc: ApplicationDoc, createdAt: number): SnapshotClassification {
  if (prior && createdAt < prior.at) {
    return { type: OUTDATED_SNAPSHOT_TYPE, data: { application: doc, applied_event_created_at: formatRome(prior.at) } };
  }
  return classifySnapshot(prior?.doc ?? null, doc);
}
