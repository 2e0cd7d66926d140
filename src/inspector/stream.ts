/**
 * Live view of a bin over Server-Sent Events.
 *
 * Each event is one capture: `id` is its seq, so a client that reconnects with Last-Event-ID
 * gets exactly what it missed (still kept in the bin), in order, without repeats. The stream
 * opens with a `ready` event whose id is the cursor it starts from, so even a client that has
 * seen no capture yet resumes from the right place.
 *
 * States: open (pumping or idle) → closed. The pump is the only writer: it reads the store from
 * the cursor and advances it; the in-process bus and a 1 s poll only wake it (the poll is what
 * brings captures received by another process). A slow reader is waited for (backpressure)
 * rather than buffered. A comment every 15 s keeps proxies from closing an idle stream, and
 * also notices a bin that was deleted or expired meanwhile (`gone`, then the stream ends).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Bin, Store } from '../store/index.js';
import { busFor } from './bus.js';
import { captureOut, PREVIEW_CHARS } from './views.js';

export const POLL_MS = 1_000;
export const HEARTBEAT_MS = 15_000;
const BATCH = 50;
/** Each open stream polls the store once a second: bound them per bin (a browser tab each). */
export const MAX_STREAMS_PER_BIN = 20;

/** The open streams of one plugin instance, by bin: to bound them and to end them at shutdown. */
export class OpenStreams {
  private readonly byBin = new Map<string, Set<() => void>>();

  count(binId: string): number {
    return this.byBin.get(binId)?.size ?? 0;
  }

  add(binId: string, close: () => void): void {
    let set = this.byBin.get(binId);
    if (!set) this.byBin.set(binId, (set = new Set()));
    set.add(close);
  }

  delete(binId: string, close: () => void): void {
    const set = this.byBin.get(binId);
    set?.delete(close);
    if (set?.size === 0) this.byBin.delete(binId);
  }

  closeAll(): void {
    for (const set of [...this.byBin.values()]) for (const close of [...set]) close();
  }
}

export interface StreamOptions {
  store: Store;
  bin: Bin;
  publicUrl: string;
  /** Send captures with seq greater than this. */
  afterSeq: number;
  open: OpenStreams;
}

export function streamCaptures(request: FastifyRequest, reply: FastifyReply, o: StreamOptions): void {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });

  let cursor = o.afterSeq;
  let closed = false;
  let pumping = false;
  let again = false;
  const bus = busFor(o.store);

  /** Resolves when the chunk is flushed or the client is gone; never buffers without bound. */
  const write = (chunk: string): Promise<void> => new Promise((resolve) => {
    if (closed) return resolve();
    if (res.write(chunk)) return resolve();
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });

  async function pump(): Promise<void> {
    if (closed) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const batch = await o.store.inspector.capturesAfter(o.bin.id, cursor, BATCH, PREVIEW_CHARS);
          // The bin as it is now: a secret set a moment ago must judge these captures.
          if (batch.length > 0) o.bin = (await o.store.inspector.findLiveBin(o.bin.id)) ?? o.bin;
          for (const c of batch) {
            if (closed) return;
            await write(`id: ${c.seq}\nevent: request\ndata: ${JSON.stringify(captureOut(c, o.bin, o.publicUrl))}\n\n`);
            cursor = c.seq;
          }
          if (batch.length < BATCH) break;
        }
      } while (again && !closed);
    } catch (err) {
      request.log.warn({ err, bin: `${o.bin.id.slice(0, 8)}…` }, 'inspector stream: reading captures failed; closing the stream');
      close();
    } finally {
      pumping = false;
    }
  }

  async function heartbeat(): Promise<void> {
    try {
      const live = await o.store.inspector.findLiveBin(o.bin.id);
      if (!live) {
        await write('event: gone\ndata: {"reason":"the bin was deleted or expired"}\n\n');
        close();
        return;
      }
      // Secret or rules may have changed: verdicts follow the bin as it is now.
      o.bin = live;
      await write(': keep-alive\n\n');
    } catch {
      close();
    }
  }

  const wake = () => void pump();
  const poll = setInterval(wake, POLL_MS);
  const beat = setInterval(() => void heartbeat(), HEARTBEAT_MS);

  function close(): void {
    if (closed) return;
    closed = true;
    clearInterval(poll);
    clearInterval(beat);
    bus.off(o.bin.id, wake);
    o.open.delete(o.bin.id, close);
    if (!res.writableEnded) res.end();
  }

  o.open.add(o.bin.id, close);
  res.on('close', close);
  bus.on(o.bin.id, wake);
  // `retry` asks EventSource clients to come back after 1 s instead of its default 3 s.
  void write(`retry: 1000\nid: ${cursor}\nevent: ready\ndata: ${JSON.stringify({ bin_id: o.bin.id, last_event_id: cursor })}\n\n`)
    .then(wake);
}
