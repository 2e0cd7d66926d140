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

export function createDeliveryClient(config: Config): DeliveryClient {
  const opts = { connectTimeoutMs: config.connectTimeoutMs, timeoutMs: config.requestTimeoutMs, maxResponseBytes: 16 * 1024 };
  const guarded = createSender({ ...opts, policy: createAddressPolicy(config.allowedTargets) });
  let own: Sender | null = null;
  let publicUrl = '';
  let ownOrigin = '';
  return {
    send(req) {
      let url: URL | null = null;
      try {
        url = new URL(req.url);
      } catch {
        /* the sender reports it */
      }
      // Read each time: with port 0 the public URL is known only once the server listens.
      if (config.publicUrl !== publicUrl) {
        publicUrl = config.publicUrl;
        ownOrigin = new URL(publicUrl).origin;
      }
      if (url && url.origin === ownOrigin && url.pathname.startsWith('/in/')) {
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
