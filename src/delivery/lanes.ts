/**
 * A dispatcher's local queues for one receiver origin that it owns: one lane per tenant, each
 * with its own limit, and the origin's ceiling shared between them (the rules are in
 * domain/limits.ts). Free slots go to the lanes in turn, so a tenant with 300,000 deliveries
 * queued and a tenant with one both move: at 20 slots and two tenants, 10 each.
 */
import { concurrencyOf, laneKey, mayStart, sharedConcurrency } from '../domain/limits.js';
import type { ClaimedDelivery } from '../store/index.js';

export interface Lane {
  key: string;
  origin: OriginQueue;
  queue: ClaimedDelivery[];
  active: number;
  /** Answered, but the outcome is not yet committed: would be sent again after a crash. */
  unrecorded: number;
  limit: number;
  /** The last claim filled this lane's room: the store may hold more, so refill it early. */
  more: boolean;
}

export class OriginQueue {
  readonly lanes = new Map<string, Lane>();
  /** Requests in flight to this origin, all lanes together. */
  active = 0;
  private turn = 0;

  constructor(readonly key: string, private readonly ceiling: number) {}

  /** The lane of a claimed delivery, made on first use; its limit is the strictest of its webhooks. */
  laneOf(claim: ClaimedDelivery, defaultConcurrency: number): Lane {
    const key = laneKey(claim.delivery.tenant_id, this.key);
    const limit = concurrencyOf(claim.webhook.max_concurrency, defaultConcurrency);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key, origin: this, queue: [], active: 0, unrecorded: 0, limit, more: false };
      this.lanes.set(key, lane);
    }
    lane.limit = sharedConcurrency(lane.limit, limit);
    return lane;
  }

  /**
   * The next lane that may start a request, taking turns; null when none may. A lane starts
   * while it is under its limit, its fair share and the origin's ceiling, and while it has at
   * most `limit` answers not yet recorded: what a crash can make us send twice stays within
   * twice its concurrency.
   */
  nextToStart(): Lane | null {
    const lanes = [...this.lanes.values()];
    let withWork = 0;
    for (const l of lanes) if (l.queue.length > 0 || l.active > 0) withWork++;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[(this.turn + i) % lanes.length];
      if (lane.queue.length === 0 || lane.active + lane.unrecorded >= 2 * lane.limit) continue;
      if (!mayStart(lane, { active: this.active, ceiling: this.ceiling, lanesWithWork: withWork })) continue;
      this.turn = (this.turn + i + 1) % lanes.length;
      return lane;
    }
    return null;
  }

  /** Forgets a lane with nothing queued, in flight or unrecorded; true when the whole origin is idle. */
  prune(lane: Lane): boolean {
    if (lane.queue.length === 0 && lane.active === 0 && lane.unrecorded === 0) this.lanes.delete(lane.key);
    return this.lanes.size === 0;
  }

  /** Deliveries queued or in flight (what renewLeases keeps the origin for). */
  busy(): boolean {
    for (const l of this.lanes.values()) if (l.queue.length + l.active > 0) return true;
    return false;
  }
}
