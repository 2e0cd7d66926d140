/**
 * The outbound client of a messo process: the guarded sender for every target, and one
 * exception — messo's own request inspector (`<public URL>/in/…`), which must work out of the
 * box even when the public URL is a loopback address the guard refuses.
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

export function createDeliveryClient(config: Pick<Config, 'connectTimeoutMs' | 'requestTimeoutMs' | 'allowedTargets' | 'publicUrl'>): DeliveryClient {
  const opts = { connectTimeoutMs: config.connectTimeoutMs, timeoutMs: config.requestTimeoutMs, maxResponseBytes: 16 * 1024 };
  const guarded = createSender({ ...opts, policy: createAddressPolicy(config.allowedTargets) });
  let own: Sender | null = null;
  return {
    send(req) {
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
    },
    async close() {
      await Promise.all([guarded.close(), own?.close()]);
    },
  };
}
