/**
 * Turning application snapshots from an external core into events: the first snapshot of an
 * id is a creation, a later one with another status, or the same status set again (its
 * latest_status_change_time moved forward), is a status change (from → to), anything else is
 * an update. Shared by the generic ingest API and the OpenCity-compatible ingest.
 */
import { EVENT_TYPES } from './events.js';
import type { ApplicationDoc } from './application.js';

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
