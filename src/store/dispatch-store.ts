/**
 * The dispatcher's port: the nine store operations src/delivery/dispatcher.ts uses, and what
 * they exchange (the options of a claim, a claimed delivery with its webhook, the outcome of an
 * attempt). Store extends it; a dispatcher needs nothing else of the store's 50-odd members.
 */
import type { Delivery, Webhook } from './types.js';

export interface ClaimOptions {
  owner: string;
  limit: number;
  now: number;
  leaseMs: number;
  /** Lanes (`laneKey(tenant, origin)`) this dispatcher has enough of queued already. */
  skipLanes?: string[];
  /**
   * Size each lane's take by what it can send soon (limits.ts `claimRoom`): `rounds` of its
   * concurrency (the webhook's max_concurrency, else `defaultConcurrency`) less `held[lane]`,
   * what the dispatcher holds of it already. Without it, a claim takes what is due up to `limit`.
   * `limits` has the concurrency of the lanes the dispatcher serves already (the strictest of
   * their webhooks, which their queues are sized by): no more of such a lane's rows are read
   * than its queue can still take.
   */
  room?: { rounds: number; defaultConcurrency: number; held: ReadonlyMap<string, number>; limits?: ReadonlyMap<string, number> };
  /**
   * Most endpoints to take over in this claim besides those this owner serves already, so
   * that dispatchers woken together share the endpoints instead of the first taking them all.
   */
  newEndpoints?: number;
}

export interface ClaimedDelivery {
  delivery: Delivery;
  webhook: Webhook;
  /** Send no earlier than this (a rate-limit slot); usually `now`. */
  notBefore: number;
  /** The delivery's lane had slow-downs counted when it was claimed (endpoints.slowdowns > 0). */
  laneSlowed: boolean;
}

export interface AttemptOutcome {
  deliveryId: string;
  owner: string;
  webhookId: string;
  tenantId: string;
  endpointKey: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  url: string;
  /** success: 2xx; retry: failed, will try again at nextAttemptAt; failed: terminal. */
  result: 'success' | 'retry' | 'failed';
  nextAttemptAt: number | null;
  statusCode: number | null;
  responseHeaders: Record<string, string | string[]> | null;
  responseBody: string | null;
  truncated: boolean;
  errorClass: string | null;
  errorMessage: string | null;
  /** Slow the lane (this tenant at this origin) down until then (429/502/503/504). */
  laneBlockedUntil: number | null;
  /**
   * Whether the webhook may have a failing streak, and the lane slow-downs counted (as its claim
   * read them, or as this dispatcher wrote them since): a success clears only those.
   */
  webhookFailing: boolean;
  laneSlowed: boolean;
}

export interface DispatchStore {
  claimDeliveries(opts: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Records attempts and moves their deliveries on, in one transaction. */
  completeAttempts(outcomes: AttemptOutcome[]): Promise<void>;
  /** How many slow-downs in a row a lane (`laneKey(tenant, origin)`) has had (for its back-off). */
  laneSlowdowns(laneKey: string): Promise<number>;
  /**
   * Heartbeat: extends the leases of this owner's claims and its ownership of the endpoints it
   * still has work for; gives up ownership of the others.
   */
  renewLeases(owner: string, leaseUntil: number, activeEndpoints: string[]): Promise<void>;
  /** Gives claims back (shutdown): they become due again at once. */
  releaseClaims(owner: string, deliveryIds: string[], now: number): Promise<number>;
  /** Claims whose lease ran out (their worker died) become due again, or failed when out of attempts. */
  releaseExpiredLeases(now: number, maxAttempts: number): Promise<number>;
  /** When the next scheduled (not yet due) delivery comes due; null when none is. */
  nextDueAt(now: number): Promise<number | null>;
  /** Webhooks failing without a success since before `failingSince`, still active. */
  webhooksFailingSince(webhookIds: string[], failingSince: number): Promise<Webhook[]>;
  /** Enables or disables a webhook, recording webhook.enabled / webhook.disabled. */
  setWebhookActive(tenantId: string, id: string, active: boolean, reason: string): Promise<Webhook | null>;
}
