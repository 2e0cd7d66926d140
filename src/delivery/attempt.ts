/**
 * One attempt, as pure functions: the signed request a claimed delivery becomes, and what a
 * send result means for the delivery, the endpoint and the webhook. The dispatcher does the
 * I/O around them.
 */
import { nextAttemptDelayMs, parseRetryAfter } from '../domain/retry-policy.js';
import { signatureHeader } from '../domain/signing.js';
import type { AttemptOutcome, ClaimedDelivery } from '../store/delivery-store.js';
import type { Webhook } from '../store/types.js';
import type { SendRequest, SendResult } from '../outbound/sender.js';

export const USER_AGENT = 'messo-webhooks/0.1 (+https://standardwebhooks.com)';

/** Answers that mean "too much, slow down": they pause the whole endpoint, not one delivery. */
export const SLOW_DOWN_CODES = new Set([429, 502, 503, 504]);

/** Secrets that sign now: the current one, plus the previous one during its overlap window. */
export function signingSecrets(w: Webhook, now: number): string[] {
  const secrets = [w.secret];
  if (w.previous_secret && w.previous_secret_expires_at && w.previous_secret_expires_at > now) secrets.push(w.previous_secret);
  return secrets;
}

/** The request for a delivery: frozen body, current endpoint and headers, signed now. */
export function buildRequest(msgId: string, w: Webhook, body: string, contentType: string, now: number): Omit<SendRequest, 'signal'> {
  const timestamp = Math.floor(now / 1000);
  return {
    url: w.endpoint,
    method: w.method,
    headers: {
      'content-type': contentType,
      'user-agent': USER_AGENT,
      // Custom headers are merged over Content-Type, as the platform does; reserved ones were refused at creation.
      ...lowerKeys(w.headers),
      'webhook-id': msgId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signingSecrets(w, now), msgId, timestamp, body),
    },
    body,
  };
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

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

/** Pause of an endpoint after a slow-down answer: Retry-After when given, else 2 s doubling to 5 min. */
export function slowDownMs(retryAfterMs: number | null, slowdownsBefore: number): number {
  const backoff = Math.min(2000 * 2 ** Math.min(slowdownsBefore, 20), 300_000);
  return Math.min(Math.max(retryAfterMs ?? 0, backoff), 3_600_000);
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
  const slow = SLOW_DOWN_CODES.has(result.statusCode);
  return {
    outcome: {
      ...response, result: next === null ? 'failed' : 'retry', nextAttemptAt: next === null ? null : end + next,
      endpointBlockedUntil: slow ? end + slowDownMs(retryAfterMs, ctx.endpointSlowdowns) : null,
    },
    disable: null,
  };
}
