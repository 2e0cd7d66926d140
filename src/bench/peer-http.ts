/**
 * What the bench's peers (peer-bullmq.ts, peer-floor.ts) share: the endpoint that takes the
 * bench's single-POST events, and the signed POST of one event to the receiver.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Pool } from 'undici';

export interface PeerEvent {
  event_id: string;
  data: { application?: Record<string, unknown> } & Record<string, unknown>;
}

/** POST /api/events: a JSON event with a string `event_id` and an object `data` goes to `take`; anything else is a 400 (404 off the path). */
export function eventServer(take: (event: PeerEvent, res: ServerResponse) => void): Server {
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/api/events') return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let event: { event_id?: unknown; data?: unknown };
      try {
        event = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        return void res.writeHead(400).end();
      }
      if (typeof event.event_id !== 'string' || typeof event.data !== 'object' || event.data === null) return void res.writeHead(400).end();
      take(event as PeerEvent, res);
    });
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

const secret = randomBytes(24);

/** The webhook body of an event: its pratica (or its data) with the event's id. */
export const webhookBody = (event: PeerEvent): string => JSON.stringify({ ...(event.data.application ?? event.data), event_id: event.event_id });

/** POSTs `body` to `target` through `pool`, signed the Standard Webhooks way; the receiver's status. */
export async function signedPost(pool: Pool, target: URL, eventId: string, body: string): Promise<number> {
  const ts = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', secret).update(`${eventId}.${ts}.${body}`).digest('base64');
  const res = await pool.request({
    path: target.pathname, method: 'POST', body, headersTimeout: 15_000, bodyTimeout: 15_000,
    headers: { 'content-type': 'application/json', 'webhook-id': eventId, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signature}` },
  });
  await res.body.dump();
  return res.statusCode;
}
