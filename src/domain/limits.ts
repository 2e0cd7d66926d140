/**
 * How hard messo may push a receiver: the concurrency, rate and slow-down decisions, as pure
 * functions, in one place. The dispatcher and the store's claim apply them; they decide here.
 *
 * - Concurrency: requests in flight to one endpoint (a receiver origin), the webhook's
 *   `max_concurrency` or the server default.
 * - Rate: a webhook with `rate_limit` (requests per second) gets evenly spaced send slots.
 * - Slow-down: 429/502/503/504 pause the endpoint, for its Retry-After or a back-off that
 *   doubles with each slow-down in a row (2 s … 5 min), at most an hour.
 */

/** Answers that mean "too much, slow down": they pause the endpoint, not just one delivery. */
export const SLOW_DOWN_CODES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export function isSlowDown(statusCode: number): boolean {
  return SLOW_DOWN_CODES.has(statusCode);
}

/** Pause of an endpoint after a slow-down answer: Retry-After when given, else 2 s doubling to 5 min. */
export function slowDownMs(retryAfterMs: number | null, slowdownsBefore: number): number {
  const backoff = Math.min(2000 * 2 ** Math.min(slowdownsBefore, 20), 300_000);
  return Math.min(Math.max(retryAfterMs ?? 0, backoff), 3_600_000);
}

/** Requests in flight at once to a webhook's endpoint. */
export function concurrencyOf(webhookMax: number | null, defaultConcurrency: number): number {
  return webhookMax ?? defaultConcurrency;
}

/**
 * The limit of an endpoint that several webhooks share: the strictest of them, so a receiver
 * that asked for one request at a time never gets two.
 */
export function sharedConcurrency(current: number | null, next: number): number {
  return current === null ? next : Math.min(current, next);
}

/** Deliveries one endpoint may hold queued in a dispatcher: a few rounds ahead of its limit. */
export function queueCap(limit: number, rounds: number): number {
  return limit * rounds;
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
