/**
 * The afternoon peer of issue 13: what a TypeScript team would write in an afternoon instead of
 * messo. One process: node:http answers POST /api/events with 201 once BullMQ has the job in
 * Redis (127.0.0.1:6379), and a BullMQ worker POSTs each job to one URL with undici, signed the
 * Standard Webhooks way. No tenants, no webhooks table, no fan-out, no attempt log, no ordering:
 * it is a yardstick for the bench, not a design to copy. Each run uses a queue of its own and
 * removes it at exit; Redis keeps nothing on disk on the bench machine.
 *
 * Env: PEER_QUEUE (queue name), PEER_TARGET (URL), PEER_CONCURRENCY (jobs at once), PEER_WORKER
 * ("0" = answer ingest only, for the ingest-alone phase).
 */
import { Queue, Worker } from 'bullmq';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const name = process.env.PEER_QUEUE ?? 'bench-peer';
const target = new URL(process.env.PEER_TARGET ?? 'http://127.0.0.1:1/hook');
const concurrency = Number(process.env.PEER_CONCURRENCY ?? 10);
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const secret = randomBytes(24);

const queue = new Queue(name, {
  connection,
  defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, attempts: 10, backoff: { type: 'exponential', delay: 1000 } },
});

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
    // jobId = event_id: a repeated POST is the same job (BullMQ ignores the second add).
    queue.add('event', event, { jobId: event.event_id }).then(
      () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ event_id: event.event_id })),
      () => res.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 60_000;

const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
const worker = process.env.PEER_WORKER === '0' ? null : new Worker(name, async (job) => {
  const { event_id, data } = job.data as { event_id: string; data: { application?: Record<string, unknown> } };
  const body = JSON.stringify({ ...(data.application ?? data), event_id });
  const ts = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', secret).update(`${event_id}.${ts}.${body}`).digest('base64');
  const res = await pool.request({
    path: target.pathname, method: 'POST', body, headersTimeout: 15_000, bodyTimeout: 15_000,
    headers: { 'content-type': 'application/json', 'webhook-id': event_id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signature}` },
  });
  await res.body.dump();
  if (res.statusCode >= 300) throw new Error(`receiver answered ${res.statusCode}`);
}, { connection, concurrency });

server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));

process.on('SIGTERM', async () => {
  server.close();
  await worker?.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await pool.close();
  process.exit(0);
});
