/**
 * Prepare: the request an attempt sends — frozen body, the webhook's current endpoint and
 * headers, signed now. The one asynchronous step before sending, shared by the dispatcher and
 * the test-send path, so whatever a request needs beyond its body (an OAuth2 client-credentials
 * token, a PDND voucher, a header to compute) plugs in here once, for both.
 */
import { toBinaryMode } from '../domain/cloudevents.js';
import { signatureHeader } from '../domain/signing.js';
import type { Webhook } from '../store/index.js';

export const USER_AGENT = 'messo-webhooks/0.1 (+https://standardwebhooks.com)';

/** What to send: the sender adds the signal and the guard. */
export interface PreparedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** Redirect hops the client may follow: MAX_REDIRECTS when the webhook opted in, else 0. */
  maxRedirects: number;
}

/** At most this many hops when a webhook follows redirects (the core follows Guzzle's 5). */
export const MAX_REDIRECTS = 5;

/** The part of a delivery an attempt sends; `id` is the Standard Webhooks `webhook-id`. */
export interface DeliveryToSend {
  id: string;
  body: string;
  content_type: string;
}

/** Secrets that sign now: the current one, plus the previous one during its overlap window. */
export function signingSecrets(w: Webhook, now: number): string[] {
  const secrets = [w.secret];
  if (w.previous_secret && w.previous_secret_expires_at && w.previous_secret_expires_at > now) secrets.push(w.previous_secret);
  return secrets;
}

export async function prepareAttempt(w: Webhook, delivery: DeliveryToSend, now = Date.now()): Promise<PreparedRequest> {
  const timestamp = Math.floor(now / 1000);
  // CloudEvents binary mode: the frozen structured event becomes ce-* headers and its data,
  // decided when sending, so a switch between the two CloudEvents modes applies to pending ones too.
  const binary = w.format === 'cloudevents-binary' && delivery.content_type.startsWith('application/cloudevents+json')
    ? toBinaryMode(delivery.body) : null;
  const body = binary ? binary.body : delivery.body;
  return {
    url: w.endpoint,
    method: w.method,
    headers: {
      'content-type': binary ? binary.contentType : delivery.content_type,
      'user-agent': USER_AGENT,
      // Custom headers are merged over Content-Type, as the platform does; reserved ones were refused at creation.
      ...lowerKeys(w.headers),
      ...binary?.headers,
      'webhook-id': delivery.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signingSecrets(w, now), delivery.id, timestamp, body),
    },
    body,
    maxRedirects: w.follow_redirects ? MAX_REDIRECTS : 0,
  };
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}
