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
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { eventServer, signedPost, webhookBody, type PeerEvent } from './peer-http.js';

const name = process.env.PEER_QUEUE ?? 'bench-peer';
const target = new URL(process.env.PEER_TARGET ?? 'http://127.0.0.1:1/hook');
const concurrency = Number(process.env.PEER_CONCURRENCY ?? 10);
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

const queue = new Queue(name, {
  connection,
  defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, attempts: 10, backoff: { type: 'exponential', delay: 1000 } },
});

// jobId = event_id: a repeated POST is the same job (BullMQ ignores the second add).
const server = eventServer((event, res) => {
  queue.add('event', event, { jobId: event.event_id }).then(
    () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ event_id: event.event_id })),
    () => res.writeHead(503).end(),
  );
});

const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
const worker = process.env.PEER_WORKER === '0' ? null : new Worker(name, async (job) => {
  const event = job.data as PeerEvent;
  const status = await signedPost(pool, target, event.event_id, webhookBody(event));
  if (status >= 300) throw new Error(`receiver answered ${status}`);
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
