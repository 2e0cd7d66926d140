/**
 * The outbound client of a messo process: the guarded sender for every target, and one
 * exception — messo's own request inspector (`<public URL>/in/…`), which must work out of the
 * box even when the public URL is a loopback address the guard refuses.
 *
 * Redirects: never followed unless the request allows hops (`maxRedirects`, a webhook's
 * `follow_redirects`). Then 301, 302, 307 and 308 are followed with the same method and body
 * (a receiver behind an http → https redirect gets the POST it expects; 303 is an answer), at
 * most `maxRedirects` hops, each one through the guarded sender, so the address guard judges
 * every hop's address as it connects. A hop to another origin drops the webhook's
 * custom headers (they are credentials for the configured receiver), keeping content-type,
 * user-agent and the webhook-* signature headers.
 */
import type { Config } from '../config.js';
import { createAddressPolicy } from './address-guard.js';
import { createSender, type SendRequest, type SendResult, type Sender } from './sender.js';

export interface DeliveryClient {
  send(req: SendRequest): Promise<SendResult>;
  close(): Promise<void>;
}

/** A URL of this server's own inspector (`<public URL>/in/…`): the one target the guard lets pass. */
export function isOwnInspectorUrl(url: URL, publicUrl: string): boolean {
  return url.origin === new URL(publicUrl).origin && url.pathname.startsWith('/in/');
}

const FOLLOWED = new Set([301, 302, 307, 308]);
const KEPT_ACROSS_ORIGINS = new Set(['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);

/** The next hop of a redirect answer, or null when it is not one to follow. */
export function nextHop(result: SendResult, req: SendRequest): SendRequest | null {
  if (result.kind !== 'response' || !FOLLOWED.has(result.statusCode)) return null;
  const raw = result.headers.location;
  const location = Array.isArray(raw) ? raw[0] : raw;
  if (!location) return null;
  let from: URL;
  let to: URL;
  try {
    from = new URL(req.url);
    to = new URL(location, from);
  } catch {
    return null;
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return null;
  const headers = to.origin === from.origin
    ? req.headers
    : Object.fromEntries(Object.entries(req.headers).filter(([k]) => KEPT_ACROSS_ORIGINS.has(k.toLowerCase())));
  return { ...req, url: to.href, headers, maxRedirects: (req.maxRedirects ?? 0) - 1 };
}

export function createDeliveryClient(config: Pick<Config, 'connectTimeoutMs' | 'requestTimeoutMs' | 'allowedTargets' | 'publicUrl'>): DeliveryClient {
  const opts = { connectTimeoutMs: config.connectTimeoutMs, timeoutMs: config.requestTimeoutMs, maxResponseBytes: 16 * 1024 };
  const guarded = createSender({ ...opts, policy: createAddressPolicy(config.allowedTargets) });
  let own: Sender | null = null;
  const sendOne = (req: SendRequest): Promise<SendResult> => {
    let url: URL | null = null;
    try {
      url = new URL(req.url);
    } catch {
      /* the sender reports it */
    }
    if (url && isOwnInspectorUrl(url, config.publicUrl)) {
      own ??= createSender({ ...opts, policy: createAddressPolicy(['0.0.0.0/0', '::/0']) });
      return own.send(req);
    }
    return guarded.send(req);
  };
  return {
    async send(req) {
      let result = await sendOne(req);
      let durationMs = result.durationMs;
      for (let hop = req; (hop.maxRedirects ?? 0) > 0;) {
        const next = nextHop(result, hop);
        if (!next || next.signal?.aborted) break;
        hop = next;
        // A hop is always judged by the guard: the inspector exception is for a configured URL only.
        result = await guarded.send(hop);
        durationMs += result.durationMs;
      }
      return { ...result, durationMs };
    },
    async close() {
      await Promise.all([guarded.close(), own?.close()]);
    },
  };
}
