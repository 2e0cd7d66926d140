/**
 * Turning application snapshots from an external core into events: the first snapshot of an
 * id is a creation, a later one with another status is a status change (from → to), anything
 * else is an update. Shared by the generic ingest API and the OpenCity-compatible ingest.
 */
import { EVENT_TYPES } from './events.js';
import type { ApplicationDoc } from './application.js';

/**
 * A snapshot older than the one already applied: recorded, but it moves no projection and fires
 * no application webhook (delivering an old status as news would tell receivers the pratica
 * went backwards).
 */
export const OUTDATED_SNAPSHOT_TYPE = 'ingest.outdated_snapshot';

export interface SnapshotClassification {
  type: string;
  data: Record<string, unknown>;
}

export function classifySnapshot(previous: ApplicationDoc | null, next: ApplicationDoc): SnapshotClassification {
  if (previous === null) return { type: EVENT_TYPES.applicationCreated, data: { application: next } };
  if (previous.status !== next.status) {
    return { type: EVENT_TYPES.applicationStatusChanged, data: { application: next, from: previous.status, to: next.status, message: null } };
  }
  return { type: EVENT_TYPES.applicationUpdated, data: { application: next } };
}
