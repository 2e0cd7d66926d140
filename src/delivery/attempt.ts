/**
 * What a send result means for the delivery, the endpoint and the webhook, as a pure function.
 * The request itself is prepared in prepare.ts; the dispatcher does the I/O around both.
 */
import type { Logger } from 'pino';
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
  /** Slow-downs in a row the lane had before this one (doubles its pause). */
  laneSlowdowns: number;
  random?: () => number;
}

export function decide(claim: ClaimedDelivery, result: SendResult, url: string, ctx: DecideContext): Decision {
  const d = claim.delivery;
  const end = ctx.startedAt + result.durationMs;
  const base = {
    deliveryId: d.id, owner: ctx.owner, webhookId: d.webhook_id, tenantId: d.tenant_id, endpointKey: d.endpoint_key, attempt: d.attempt_offset + d.attempts,
    startedAt: ctx.startedAt, durationMs: result.durationMs, url,
    statusCode: null, responseHeaders: null, responseBody: null, truncated: false, errorClass: null, errorMessage: null,
    laneBlockedUntil: null, webhookFailing: claim.webhook.failing_since !== null, laneSlowed: claim.laneSlowed,
  } satisfies Partial<AttemptOutcome>;

  if (result.kind === 'error') {
    // The SSRF guard refused the address: the same name will be refused tomorrow, so retrying
    // for days only hides it. Failed at once, with the guard's reason in the attempt.
    if (result.errorClass === 'refused_target') {
      return {
        outcome: { ...base, errorClass: result.errorClass, errorMessage: result.message.slice(0, 500), result: 'failed', nextAttemptAt: null },
        disable: null,
      };
    }
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
      laneBlockedUntil: slow ? end + slowDownMs(retryAfterMs, ctx.laneSlowdowns) : null,
    },
    disable: null,
  };
}

/**
 * One log line per attempt, with what an operator searches by: debug for a success (one per
 * delivery, too chatty at info), warn for a failure that will be retried and for the last one.
 */
export function logAttempt(log: Logger, claim: ClaimedDelivery, o: AttemptOutcome): void {
  const d = claim.delivery;
  const fields = {
    tenant_id: d.tenant_id, webhook_id: d.webhook_id, delivery_id: d.id, event_id: d.event_id, event_type: d.event_type,
    attempt: o.attempt, status_code: o.statusCode, duration_ms: o.durationMs, error_class: o.errorClass, result: o.result,
  };
  if (o.result === 'success') log.debug(fields, 'delivery attempt succeeded');
  else if (o.result === 'retry') log.warn({ ...fields, next_attempt_at: o.nextAttemptAt === null ? null : new Date(o.nextAttemptAt).toISOString() }, 'delivery attempt failed; will retry');
  else log.warn(fields, 'delivery failed for good: no attempts left');
}
