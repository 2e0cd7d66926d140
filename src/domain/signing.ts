/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/).
 *
 * A signature is `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with
 * the bytes of the secret after its `whsec_` prefix. The `webhook-signature` header is a
 * space-separated list, so during secret rotation we sign with the old and the new secret and a
 * receiver holding either one accepts the message.
 *
 * Why node:crypto and not the `standardwebhooks` package: its `Webhook` class takes a `Date`
 * (we think in Unix seconds), reads the clock itself (we need an injectable `now` for the
 * inspector and for tests), and reports every verification failure as one error type with a
 * message string, while we need a stable failure reason. The package is still used in the tests
 * as an independent implementation to check our output against.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** The spec allows 24–64 random bytes; we generate 32 (256 bits, the HMAC-SHA256 block-size sweet spot). */
const SECRET_BYTES = 32;
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** Receivers following the spec accept five minutes of clock skew either way. */
export const DEFAULT_TOLERANCE_SEC = 300;

export type VerifyFailureReason =
  | 'missing_headers'
  | 'timestamp_out_of_tolerance'
  | 'invalid_timestamp'
  | 'no_matching_signature'
  | 'invalid_secret';

export type VerifyResult =
  | { valid: true }
  | { valid: false; reason: VerifyFailureReason; detail: string };

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Allowed distance between `webhook-timestamp` and now, in seconds (default 300). */
  toleranceSec?: number;
  /** The current time in Unix seconds; defaults to the clock. */
  nowSec?: number;
}

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * Decodes a `whsec_` secret to its key bytes, or returns why it cannot.
 * Strict on purpose: `Buffer.from(x, 'base64')` silently skips characters that are not base64,
 * so a mistyped secret would otherwise sign with a different key and fail far from the typo.
 */
function decodeSecret(secret: string): { key: Buffer } | { error: string } {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    return { error: `secret must start with "${SECRET_PREFIX}"` };
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  const unpadded = (s: string) => s.replace(/=+$/, '');
  if (encoded.length === 0 || unpadded(key.toString('base64')) !== unpadded(encoded)) {
    return { error: 'secret is not valid base64 after the prefix' };
  }
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    return { error: `secret key must be ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} bytes, got ${key.length}` };
  }
  return { key };
}

function hmacBase64(key: Buffer, msgId: string, timestampSec: number, body: string): string {
  return createHmac('sha256', key).update(`${msgId}.${timestampSec}.${body}`, 'utf8').digest('base64');
}

function assertTimestamp(timestampSec: number): void {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new Error(`timestamp must be a non-negative integer of Unix seconds, got ${timestampSec}`);
  }
}

/** One `v1,<base64>` signature. Throws on an invalid secret: signing with one is a config bug. */
export function sign(secret: string, msgId: string, timestampSec: number, body: string): string {
  const decoded = decodeSecret(secret);
  if ('error' in decoded) throw new Error(`invalid webhook secret: ${decoded.error}`);
  assertTimestamp(timestampSec);
  return `v1,${hmacBase64(decoded.key, msgId, timestampSec, body)}`;
}

/** The `webhook-signature` value: one signature per active secret (more than one while rotating). */
export function signatureHeader(secrets: string[], msgId: string, timestampSec: number, body: string): string {
  if (secrets.length === 0) throw new Error('at least one secret is needed to sign');
  return secrets.map((secret) => sign(secret, msgId, timestampSec, body)).join(' ');
}

/** Case-insensitive header read. Repeated headers arrive as arrays from node:http. */
function readHeader(headers: HeaderBag, name: string): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v.trim() !== '') values.push(v.trim());
    }
  }
  return values;
}

function fail(reason: VerifyFailureReason, detail: string): VerifyResult {
  return { valid: false, reason, detail };
}

/**
 * Checks a received message against one secret. Returns a reason instead of throwing, because
 * the inspector shows the reason to the user and a receiver logs it.
 */
export function verify(secret: string, headers: HeaderBag, body: string, opts: VerifyOptions = {}): VerifyResult {
  const decoded = decodeSecret(secret);
  if ('error' in decoded) return fail('invalid_secret', decoded.error);

  const ids = readHeader(headers, 'webhook-id');
  const timestamps = readHeader(headers, 'webhook-timestamp');
  // Several signature header lines are equivalent to one space-separated list.
  const signatures = readHeader(headers, 'webhook-signature').join(' ').split(/\s+/).filter(Boolean);
  const missing = [
    ids.length === 0 ? 'webhook-id' : null,
    timestamps.length === 0 ? 'webhook-timestamp' : null,
    signatures.length === 0 ? 'webhook-signature' : null,
  ].filter((h): h is string => h !== null);
  if (missing.length > 0) return fail('missing_headers', `missing ${missing.join(', ')}`);
  // Two different ids or timestamps mean we cannot know which one was signed.
  if (new Set(ids).size > 1) return fail('missing_headers', 'webhook-id is repeated with different values');
  if (new Set(timestamps).size > 1) return fail('invalid_timestamp', 'webhook-timestamp is repeated with different values');

  const timestampText = timestamps[0];
  if (!/^\d{1,15}$/.test(timestampText)) {
    return fail('invalid_timestamp', `webhook-timestamp "${timestampText}" is not an integer of Unix seconds`);
  }
  const timestamp = Number(timestampText);
  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  const tolerance = opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const skew = now - timestamp;
  if (Math.abs(skew) > tolerance) {
    const direction = skew > 0 ? 'old' : 'in the future';
    return fail('timestamp_out_of_tolerance', `timestamp is ${Math.abs(skew)}s ${direction}, tolerance is ${tolerance}s`);
  }

  const expected = Buffer.from(hmacBase64(decoded.key, ids[0], timestamp, body), 'utf8');
  let matched = false;
  let v1Count = 0;
  for (const entry of signatures) {
    const comma = entry.indexOf(',');
    // Unknown versions (e.g. the asymmetric `v1a`) are skipped, as the spec requires.
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    v1Count++;
    const candidate = Buffer.from(entry.slice(comma + 1), 'utf8');
    // The length of a signature is public; only the content comparison needs constant time.
    // No early exit, so the time does not reveal which entry matched.
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  if (matched) return { valid: true };
  return fail(
    'no_matching_signature',
    v1Count === 0 ? 'no v1 signature in webhook-signature' : `none of ${v1Count} v1 signature(s) matches this secret`,
  );
}
