/**
 * The load generator: one undici client shape for messo, the BullMQ peer and the plain loop, so
 * that the three differ only in what answers.
 *
 * - Closed loop: `inflight` requests at all times, each with the OpenCity core's 2-second
 *   timeout; a request starts when one ends. Measures what a server can take.
 * - Open loop: each shot has a scheduled send time (t0 + i / rate) and is sent then, whatever is
 *   still outstanding. Latency is counted from the scheduled time, so a server (or a client)
 *   that falls behind pays for all the requests that wait behind it: no coordinated omission.
 */
import { Pool } from 'undici';
import type { Feed } from './bodies.js';
import { now, sleep } from './procs.js';

export interface ClosedLoopResult {
  requests: number;
  /** Events in requests answered 2xx. */
  ok_events: number;
  /** Answers other than 2xx, by status. */
  non_2xx: Record<string, number>;
  /** The first body answered with each such status, cut to 300 characters: what went wrong. */
  non_2xx_body: Record<string, string>;
  timeouts: number;
  errors: number;
  start: number;
  end: number;
  /** Response times of the 2xx answers, ms, sorted. */
  latencies: number[];
}

const isAbort = (err: unknown) => (err as { name?: string }).name === 'AbortError' || (err as { code?: string }).code === 'UND_ERR_ABORTED';

/**
 * `close`: every request on a connection of its own, closed after the answer (`Connection:
 * close`), as an OpenCity core's PHP workers send them; otherwise connections are kept alive.
 */
export async function closedLoop(origin: string, feed: Feed, inflight: number, timeoutMs: number, close = false): Promise<ClosedLoopResult> {
  const pool = new Pool(origin, { connections: inflight, pipelining: 1 });
  const r: ClosedLoopResult = { requests: feed.shots.length, ok_events: 0, non_2xx: {}, non_2xx_body: {}, timeouts: 0, errors: 0, start: now(), end: 0, latencies: [] };
  let next = 0;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < feed.shots.length) {
      const shot = feed.shots[next++];
      // One timer per request: AbortSignal.timeout costs more than the requests we measure.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      const t = now();
      try {
        const res = await pool.request({ path: feed.path, method: 'POST', headers: feed.headers, body: shot.body, signal: abort.signal, reset: close });
        if (res.statusCode >= 200 && res.statusCode < 300) {
          await res.body.dump();
          r.ok_events += shot.ids.length;
          r.latencies.push(now() - t);
        } else {
          const text = await res.body.text();
          r.non_2xx[res.statusCode] = (r.non_2xx[res.statusCode] ?? 0) + 1;
          r.non_2xx_body[res.statusCode] ??= text.slice(0, 300);
        }
      } catch (err) {
        if (isAbort(err)) r.timeouts++;
        else r.errors++;
      } finally {
        clearTimeout(timer);
      }
    }
  }));
  r.end = now();
  r.latencies.sort((a, b) => a - b);
  await pool.close();
  return r;
}

export interface OpenLoopResult {
  t0: number;
  /** Scheduled send time of each event, by event id. */
  scheduled: Map<string, number>;
  /** Answer time − scheduled time of each 2xx, ms, sorted. */
  answer_latencies: number[];
  ok_events: number;
  non_2xx: Record<string, number>;
  non_2xx_body: Record<string, string>;
  errors: number;
  /** Answers (of any kind) that came more than the client timeout after their scheduled time. */
  over_timeout: number;
  /** Largest delay between a scheduled time and the moment the client sent: the generator's own lag. */
  client_lag_ms: number;
  last_answer: number;
}

/**
 * Opens `n` connections before the clock starts: `n` GET /healthz at once (the BullMQ peer
 * answers them 404, which opens its connections just the same). Without it the schedule's first
 * second opened them all against a server already at work: undici queued requests behind
 * connections still opening, and those of the first 0.75–1.75 s waited 3–8 s while every later
 * one took 50–700 ms. A plain Node server spending 1.2 ms of CPU per request at 750/s showed the
 * same with 256 connections (3–4 s) and nothing with 32. That measured the generator's start,
 * not messo: open-loop generators (wrk2) connect first.
 */
async function warmConnections(pool: Pool, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, async () => {
    const res = await pool.request({ path: '/healthz', method: 'GET' });
    await res.body.dump();
  }));
}

/**
 * Sends `feed` at `rate` events per second. Up to `connections` are open at once; a shot beyond
 * them waits in the client, as a core whose workers are all busy would make its users wait.
 * No request is aborted (a slow answer is measured, not cut off); answers later than
 * `timeoutMs` after their scheduled time are counted as the timeouts a core would have had.
 */
export async function openLoop(origin: string, feed: Feed, rate: number, connections: number, timeoutMs: number, close = false): Promise<OpenLoopResult> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  // With `close` (see closedLoop) every request opens its connection anyway: nothing to warm.
  if (!close) await warmConnections(pool, connections);
  const t0 = now() + 20;
  const r: OpenLoopResult = { t0, scheduled: new Map(), answer_latencies: [], ok_events: 0, non_2xx: {}, non_2xx_body: {}, errors: 0, over_timeout: 0, client_lag_ms: 0, last_answer: t0 };
  const pending: Promise<void>[] = [];
  let events = 0;
  for (const shot of feed.shots) {
    const due = t0 + (events / rate) * 1000;
    events += shot.ids.length;
    const wait = due - now();
    if (wait > 0.5) await sleep(wait);
    r.client_lag_ms = Math.max(r.client_lag_ms, now() - due);
    for (const id of shot.ids) r.scheduled.set(id, due);
    pending.push(pool.request({ path: feed.path, method: 'POST', headers: feed.headers, body: shot.body, reset: close }).then(async (res) => {
      const text = await res.body.text();
      const at = now();
      r.last_answer = Math.max(r.last_answer, at);
      if (at - due > timeoutMs) r.over_timeout++;
      if (res.statusCode >= 200 && res.statusCode < 300) {
        r.ok_events += shot.ids.length;
        r.answer_latencies.push(at - due);
      } else {
        r.non_2xx[res.statusCode] = (r.non_2xx[res.statusCode] ?? 0) + 1;
        r.non_2xx_body[res.statusCode] ??= text.slice(0, 300);
      }
    }, () => {
      r.errors++;
    }));
  }
  await Promise.all(pending);
  r.answer_latencies.sort((a, b) => a - b);
  await pool.close();
  return r;
}

/** The plain delivery loop: `bodies` POSTed with `concurrency` in flight per origin, like messo's per-endpoint limit. */
export async function plainDeliveryLoop(urls: string[], bodies: string[], concurrency: number): Promise<number> {
  const pools = urls.map((u) => new Pool(u, { connections: concurrency, pipelining: 1 }));
  let next = 0;
  const t0 = now();
  await Promise.all(pools.flatMap((pool) => Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await pool.request({ path: '/plain', method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.body.dump();
    }
  })));
  const rate = bodies.length / ((now() - t0) / 1000);
  await Promise.all(pools.map((p) => p.close()));
  return rate;
}

/** The value at fraction `p` of a sorted list (nearest rank); null when empty. */
export const pct = (sorted: number[], p: number): number | null =>
  sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10;
