/**
 * What a send result means for the delivery, the endpoint and the webhook, as a pure function.
 * The request itself is prepared in prepare.ts; the dispatcher does the I/O around both.
 */
import { isSlowDown, slowDownMs } from '../domain/limits.js';
import { nextAttemptDelayMs, parseRetryAfter } from '../domain/retry-policy.js';
import type { SendResult } from '../outbound/sender.js';
import type { AttemptOutcome, ClaimedDelivery } from '../store/index.js';

export interface Decision {
  outcome: AttemptOutcome;
  /** Set when the webhook must be disabled at once (410 Gone). */
  disable: string | null;
}

export interface DecideContext {
  owner: string;
  schedule: readonly number[];
  startedAt: number;
  /** Slow-downs in a row the endpoint had before this one (doubles its pause). */
  endpointSlowdowns: number;
  random?: () => number;
}

export function decide(claim: ClaimedDelivery, result: SendResult, url: string, ctx: DecideContext): Decision {
  const d = claim.delivery;
  const end = ctx.startedAt + result.durationMs;
  const base = {
    deliveryId: d.id, owner: ctx.owner, webhookId: d.webhook_id, endpointKey: d.endpoint_key, attempt: d.attempts,
    startedAt: ctx.startedAt, durationMs: result.durationMs, url,
    statusCode: null, responseHeaders: null, responseBody: null, truncated: false, errorClass: null, errorMessage: null,
    endpointBlockedUntil: null,
  } satisfies Partial<AttemptOutcome>;

  if (result.kind === 'error') {
    const next = nextAttemptDelayMs(ctx.schedule, d.attempts, { random: ctx.random });
    return {
      outcome: { ...base, errorClass: result.errorClass, errorMessage: result.message.slice(0, 500),
        result: next === null ? 'failed' : 'retry', nextAttemptAt: next === null ? null : end + next },
      disable: null,
    };
  }
  const response = {
    ...base, statusCode: result.statusCode, responseHeaders: result.headers, responseBody: result.body, truncated: result.truncated,
  };
  if (result.ok) return { outcome: { ...response, result: 'success', nextAttemptAt: null }, disable: null };
  if (result.statusCode === 410) {
    return { outcome: { ...response, result: 'failed', nextAttemptAt: null }, disable: 'the endpoint answered 410 Gone' };
  }
  const header = result.headers['retry-after'];
  const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header, end);
  const next = nextAttemptDelayMs(ctx.schedule, d.attempts, { random: ctx.random, retryAfterMs });
  const slow = isSlowDown(result.statusCode);
  return {
    outcome: {
      ...response, result: next === null ? 'failed' : 'retry', nextAttemptAt: next === null ? null : end + next,
      endpointBlockedUntil: slow ? end + slowDownMs(retryAfterMs, ctx.endpointSlowdowns) : null,
    },
    disable: null,
  };
}
