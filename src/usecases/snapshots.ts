/**
 * What an application snapshot from an external core is, against what messo applied before:
 * a creation, a status change, an update — or a late snapshot. One rule for both ingests
 * (`POST /api/events` and the OpenCity-compatible ingest).
 *
 * Late snapshot: the core retried it after newer ones got through. Classified against the
 * newer projection it would read as a move back (e.g. 7000 → 2000) and fire the webhooks of
 * the old status again. It is kept in the log under its own type instead
 * (OUTDATED_SNAPSHOT_TYPE), moves no projection and fires no `trigger` webhook.
 */
import type { ApplicationDoc } from '../domain/application.js';
import { formatRome } from '../domain/dates.js';
import { classifySnapshot, OUTDATED_SNAPSHOT_TYPE, type SnapshotClassification } from '../domain/snapshot.js';
import type { Store } from '../store/index.js';

/** The state a snapshot is judged against: the document applied and when its event happened. */
export interface AppliedSnapshot {
  doc: ApplicationDoc;
  at: number;
}

/**
 * Snapshots already classified in the same request (a batch may hold several of one pratica),
 * newest per id; the store is read only for ids the request has not seen.
 */
export class SnapshotContext {
  private readonly seen = new Map<string, AppliedSnapshot>();
  constructor(private readonly store: Pick<Store, 'getApplication'>, private readonly tenantId: string) {}

  async classify(doc: ApplicationDoc, createdAt: number): Promise<SnapshotClassification> {
    const result = classifyAgainst(this.seen.get(doc.id) ?? (await this.applied(doc.id)), doc, createdAt);
    this.record(doc, createdAt);
    return result;
  }

  /** An event of this request that carries the document (classified or typed by the sender). */
  record(doc: ApplicationDoc, createdAt: number): void {
    const prior = this.seen.get(doc.id);
    if (!prior || createdAt >= prior.at) this.seen.set(doc.id, { doc, at: createdAt });
  }

  private async applied(id: string): Promise<AppliedSnapshot | null> {
    const row = await this.store.getApplication(this.tenantId, id);
    return row ? { doc: row.doc, at: row.last_event_at } : null;
  }
}

export function classifyAgainst(prior: AppliedSnapshot | null, doc: ApplicationDoc, createdAt: number): SnapshotClassification {
  if (prior && createdAt < prior.at) {
    return { type: OUTDATED_SNAPSHOT_TYPE, data: { application: doc, applied_event_created_at: formatRome(prior.at) } };
  }
  return classifySnapshot(prior?.doc ?? null, doc);
}
