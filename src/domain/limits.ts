/**
 * How hard messo may push a receiver: the concurrency, rate and slow-down decisions, as pure
 * functions, in one place. The dispatcher and the store's claim apply them; they decide here.
 *
 * Limits belong to a *lane*: one tenant's deliveries to one receiver origin. One tenant's
 * settings or one tenant's slow receiver never throttle another tenant on the same origin.
 *
 * - Concurrency: requests in flight in one lane, the strictest `max_concurrency` of the
 *   tenant's webhooks on that origin, or the server default (MESSO_ENDPOINT_CONCURRENCY, 10).
 * - Origin ceiling: all lanes of an origin together stay under MESSO_ORIGIN_CONCURRENCY (20);
 *   when several tenants have work there, each may hold at most its fair share of it, and
 *   free slots go to the lanes in turn.
 * - Rate: a webhook with `rate_limit` (requests per second) gets evenly spaced send slots.
 * - Slow-down: 429/502/503/504 pause the lane, for its Retry-After or a back-off that
 *   doubles with each slow-down in a row (2 s … 5 min), at most an hour.
 */

/** Answers that mean "too much, slow down": they pause the lane, not just one delivery. */
export const SLOW_DOWN_CODES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export function isSlowDown(statusCode: number): boolean {
  return SLOW_DOWN_CODES.has(statusCode);
}

/** Pause of a lane after a slow-down answer: Retry-After when given, else 2 s doubling to 5 min. */
export function slowDownMs(retryAfterMs: number | null, slowdownsBefore: number): number {
  const backoff = Math.min(2000 * 2 ** Math.min(slowdownsBefore, 20), 300_000);
  return Math.min(Math.max(retryAfterMs ?? 0, backoff), 3_600_000);
}

/** Requests in flight at once for a webhook (its lane takes the strictest of its webhooks). */
export function concurrencyOf(webhookMax: number | null, defaultConcurrency: number): number {
  return webhookMax ?? defaultConcurrency;
}

/**
 * The limit of a lane that several webhooks of one tenant share: the strictest of them, so a
 * receiver that asked for one request at a time never gets two from that tenant.
 */
export function sharedConcurrency(current: number | null, next: number): number {
  return current === null ? next : Math.min(current, next);
}

/** Deliveries one lane may hold queued in a dispatcher: a few rounds ahead of its limit. */
export function queueCap(limit: number, rounds: number): number {
  return limit * rounds;
}

/**
 * The lane of a delivery: its tenant and its receiver origin. A space never occurs in an origin
 * nor in a tenant id, so the key splits back unambiguously.
 */
export function laneKey(tenantId: string, origin: string): string {
  return `${tenantId} ${origin}`;
}

/**
 * Deliveries a claim may still take for a lane: what its queue may hold (`queueCap`) less what
 * the dispatcher holds already. Sized by what the lane can send now, not by the server default:
 * a webhook with max_concurrency 1 gets 10, not 100.
 */
export function claimRoom(limit: number, rounds: number, held: number): number {
  return Math.max(0, queueCap(limit, rounds) - held);
}

/**
 * The most requests one lane may have in flight to an origin while `lanesWithWork` lanes (this
 * one included) want to send there: an equal share of the origin's ceiling, rounded up, and at
 * least one, so every tenant always moves.
 */
export function fairShare(ceiling: number, lanesWithWork: number): number {
  return Math.max(1, Math.ceil(ceiling / Math.max(1, lanesWithWork)));
}

/** May a lane start one more request now? Its own limit, the origin's ceiling, its fair share. */
export function mayStart(lane: { active: number; limit: number }, origin: { active: number; ceiling: number; lanesWithWork: number }): boolean {
  return lane.active < lane.limit
    && origin.active < origin.ceiling
    && lane.active < fairShare(origin.ceiling, origin.lanesWithWork);
}

/**
 * How long a rate-limited webhook's next request must still wait, given when its last one
 * actually left: slots are handed out evenly at claim time, but timers fire late on a busy
 * machine and late sends would bunch (12 in one second at 10/s was seen at load 15). 0: go.
 */
export function rateGap(lastSentAt: number | undefined, ratePerSec: number | null, now: number): number {
  if (!ratePerSec || lastSentAt === undefined) return 0;
  return Math.max(0, lastSentAt + 1000 / ratePerSec - now);
}

/**
 * The send slot for the next delivery of a rate-limited webhook: no earlier than now nor than
 * the webhook's next free slot. Slots further than `horizonMs` ahead are not given out (the
 * delivery waits for a later claim rather than holding a lease while it sleeps). Returns the
 * slot and the next free one, or null.
 */
export function takeRateSlot(nextFree: number | null, ratePerSec: number, now: number, horizonMs = 1000): { notBefore: number; nextFree: number } | null {
  const slot = Math.max(now, nextFree ?? 0);
  if (slot > now + horizonMs) return null;
  return { notBefore: slot, nextFree: slot + 1000 / ratePerSec };
}
