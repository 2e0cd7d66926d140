/**
 * The phases of a bench run. Each returns a row: what it measured, the peak RSS of each process
 * of the system under test over the phase, and the load average before and after it.
 *
 *  plain    the ceiling: the same client, bodies and in-flight count POSTing to the receiver
 *  ingest   (a) ingest alone: the API without a dispatcher; events/s and the 2xx latency
 *  e2e      (b) end to end: first POST to last arrival, the dispatcher(s) running
 *  paced    (c) open loop at --rate: scheduled send time → arrival, no coordinated omission
 *  fanout   (d) one event to --fanout webhooks: POST to the last arrival
 *  backlog  (e) --backlog deliveries pending on a receiver that hangs: is RSS flat?
 */
import { randomUUID } from 'node:crypto';
import { deliveryBodies, ingestFeed, meanBytes, type Feed, type TenantTarget } from './bodies.js';
import type { Deployment } from './deploy.js';
import { closedLoop, openLoop, pct, plainDeliveryLoop, type ClosedLoopResult } from './loadgen.js';
import type { BenchOptions } from './options.js';
import { load, now, RssSampler, sleep, type Receiver, type RssReport } from './procs.js';

export interface Row {
  phase: 'plain' | 'ingest' | 'e2e' | 'paced' | 'fanout' | 'backlog';
  system: string;
  /** Numbers only, so that --runs can take the median of each. */
  metrics: Record<string, number | null>;
  /** What is not a median: answers by status, body size, RSS series. */
  detail: Record<string, unknown>;
  rss: Record<string, RssReport>;
  load_before: number[];
  load_after: number[];
}

export interface Ctx {
  o: BenchOptions;
  receiver: Receiver;
  /** events/s of the plain ingest-side loop in this run: the denominator of every ratio. */
  plainPerS: number;
}

const perS = (n: number, ms: number) => (ms > 0 ? Math.round(n / (ms / 1000)) : null);
const ratio = (ctx: Ctx, rate: number | null) => (rate === null || ctx.plainPerS === 0 ? null : Math.round((rate / ctx.plainPerS) * 1000) / 1000);
const warmupEvents = (o: BenchOptions) => Math.min(1000, Math.ceil(o.events / 10));

/**
 * Runs a phase's `fn` while sampling the RSS and CPU of the processes under test, and the CPU of
 * their database server when it runs on this machine (`server_cpu_s`: it shares the cores).
 */
async function measured(phase: Row['phase'], system: string, under: Pick<Deployment, 'watched' | 'serverCpu'>, fn: () => Promise<Pick<Row, 'metrics' | 'detail'>>, series = false): Promise<Row> {
  const load_before = load();
  process.stderr.write(`  ${phase}: ${system} (load ${load_before.join(' ')})\n`);
  const sampler = new RssSampler(under.watched, series);
  const serverBefore = under.serverCpu?.() ?? null;
  const { metrics, detail } = await fn();
  const serverAfter = under.serverCpu?.() ?? null;
  if (serverBefore !== null && serverAfter !== null) metrics.server_cpu_s = Math.round((serverAfter - serverBefore) * 100) / 100;
  for (const [status, body] of Object.entries((detail.non_2xx_body ?? {}) as Record<string, string>)) process.stderr.write(`    answered ${status}: ${body}\n`);
  return { phase, system, metrics, detail, rss: sampler.stop(), load_before, load_after: load() };
}

function closedMetrics(r: ClosedLoopResult) {
  const non2xx = Object.values(r.non_2xx).reduce((a, b) => a + b, 0);
  return {
    events_per_s: perS(r.ok_events, r.end - r.start),
    answer_p50_ms: pct(r.latencies, 0.5), answer_p99_ms: pct(r.latencies, 0.99), answer_max_ms: pct(r.latencies, 1),
    timeouts: r.timeouts, non_2xx: non2xx, errors: r.errors,
  };
}

interface Arrived {
  /** First arrival of each event. */
  first: Map<string, number>;
  /** Every arrival's time (fan-out sends one event many times). */
  times: number[];
  duplicates: number;
  last: number;
}

/**
 * Collects arrivals of `ids` until `done` holds, then, with `quietMs`, until none came for that
 * long (events whose POST timed out at the client may still have been committed, and arrive
 * late). Only this feed's ids count: a straggler from an earlier phase must not stand in for one.
 */
async function collect(receiver: Receiver, ids: Set<string>, done: (a: Arrived) => boolean, quietMs = 0, limitMs = 600_000): Promise<Arrived> {
  const a: Arrived = { first: new Map(), times: [], duplicates: 0, last: 0 };
  const t0 = now();
  let lastNew = now();
  for (;;) {
    const { arrivals } = await receiver.ask<{ arrivals: [string, number][] }>('arrivals');
    for (const [id, at] of arrivals) {
      if (!ids.has(id)) continue;
      a.times.push(at);
      if (a.first.has(id)) a.duplicates++;
      else a.first.set(id, at);
      a.last = Math.max(a.last, at);
      lastNew = now();
    }
    if (done(a) && now() - lastNew >= quietMs) return a;
    if (now() - t0 > limitMs) throw new Error(`only ${a.first.size} of ${ids.size} events arrived within ${Math.round(limitMs / 1000)} s`);
    await sleep(25);
  }
}

const idsOf = (feed: Feed) => new Set(feed.shots.flatMap((s) => s.ids));
/** `--connection close`: a connection per request (loadgen.ts closedLoop). */
const perRequest = (o: BenchOptions) => o.connection === 'close';

export async function plainLoops(o: BenchOptions, receiver: Receiver): Promise<Row[]> {
  const dummy: TenantTarget = { tenantId: randomUUID(), key: 'plain', ingestToken: 'plain', services: [randomUUID()] };
  await closedLoop(receiver.urls[0], ingestFeed(o.ingest, dummy, warmupEvents(o)), o.inflight, o.timeoutMs, perRequest(o));
  const feed = ingestFeed(o.ingest, dummy, o.events);
  const ingestRow = await measured('plain', `plain loop → receiver (${o.ingest} bodies, ${o.inflight} in flight${perRequest(o) ? ', a connection per request' : ''})`, { watched: [] }, async () => {
    const r = await closedLoop(receiver.urls[0], feed, o.inflight, o.timeoutMs, perRequest(o));
    return { metrics: closedMetrics(r), detail: { body_bytes: meanBytes(feed), non_2xx: r.non_2xx, non_2xx_body: r.non_2xx_body } };
  });
  const bodies = deliveryBodies(o.events);
  const urls = receiver.urls.slice(0, o.endpoints);
  await plainDeliveryLoop(urls, bodies.slice(0, warmupEvents(o)), o.concurrency);
  const deliveryRow = await measured('plain', `plain delivery loop (rendered bodies, ${o.concurrency} in flight per origin, ${urls.length} origin${urls.length > 1 ? 's' : ''})`, { watched: [] }, async () => {
    const rate = await plainDeliveryLoop(urls, bodies, o.concurrency);
    return { metrics: { deliveries_per_s: Math.round(rate) }, detail: { body_bytes: Math.round(bodies.reduce((s, b) => s + b.length, 0) / bodies.length) } };
  });
  await receiver.ask('reset');
  return [ingestRow, deliveryRow];
}

/** (a) Ingest alone: `d` has no dispatcher, so every event stays a pending delivery. */
export async function ingestAlone(ctx: Ctx, d: Deployment): Promise<Row> {
  const { o, receiver } = ctx;
  const t = await d.tenant(o.endpoints, receiver.urls.slice(0, o.endpoints).map((endpoint) => ({ endpoint })), o.ingest);
  await closedLoop(d.url, d.feed(o.ingest, t, warmupEvents(o)), o.inflight, o.timeoutMs, perRequest(o));
  const feed = d.feed(o.ingest, t, o.events);
  return measured('ingest', d.name, d, async () => {
    const r = await closedLoop(d.url, feed, o.inflight, o.timeoutMs, perRequest(o));
    const m = closedMetrics(r);
    return { metrics: { ...m, ratio_to_plain: ratio(ctx, m.events_per_s) }, detail: { body_bytes: meanBytes(feed), non_2xx: r.non_2xx, non_2xx_body: r.non_2xx_body } };
  });
}

/** The tenant the e2e and paced phases share, and a warm-up delivered before anything is measured. */
export async function e2eTenant(ctx: Ctx, d: Deployment): Promise<TenantTarget> {
  const { o, receiver } = ctx;
  const t = await d.tenant(o.endpoints, receiver.urls.slice(0, o.endpoints).map((endpoint) => ({ endpoint })), o.ingest);
  const warm = d.feed(o.ingest, t, warmupEvents(o));
  const r = await closedLoop(d.url, warm, o.inflight, o.timeoutMs, perRequest(o));
  await collect(receiver, idsOf(warm), (a) => a.first.size >= r.ok_events, r.timeouts + r.errors > 0 ? 1000 : 0);
  return t;
}

/** (b) End to end: deliveries/s from the first POST to the last arrival. */
export async function endToEnd(ctx: Ctx, d: Deployment, t: TenantTarget): Promise<Row> {
  const { o, receiver } = ctx;
  const feed = d.feed(o.ingest, t, o.events);
  return measured('e2e', d.name, d, async () => {
    const before = await d.claims();
    const r = await closedLoop(d.url, feed, o.inflight, o.timeoutMs, perRequest(o));
    const a = await collect(receiver, idsOf(feed), (x) => x.first.size >= r.ok_events, r.timeouts + r.errors > 0 ? 1000 : 0);
    const rate = perS(a.first.size, a.last - r.start);
    const ingest = closedMetrics(r);
    // Claim transactions of the API process (one-process topology only; a worker's are its own).
    const after = await d.claims();
    const claims = before && after ? { claims: after.some + after.none - before.some - before.none, empty_claims: after.none - before.none } : { claims: null, empty_claims: null };
    return {
      metrics: { deliveries_per_s: rate, ratio_to_plain: ratio(ctx, rate), sent: o.events, delivered: a.first.size, duplicates: a.duplicates, ...ingest, ...claims },
      detail: { body_bytes: meanBytes(feed), non_2xx: r.non_2xx, non_2xx_body: r.non_2xx_body },
    };
  });
}

/** (c) Open loop: events at a fixed rate, latency from each one's scheduled send time. */
export async function paced(ctx: Ctx, d: Deployment, t: TenantTarget): Promise<Row> {
  const { o, receiver } = ctx;
  // Batches (--ingest batch) go every 10 ms, as many events as the rate gives per tick.
  const feed = d.feed(o.ingest, t, o.rate * o.pacedSeconds, Math.max(1, Math.round(o.rate / 100)));
  return measured('paced', d.name, d, async () => {
    const r = await openLoop(d.url, feed, o.rate, o.openConnections, o.timeoutMs, perRequest(o));
    const a = await collect(receiver, idsOf(feed), (x) => x.first.size >= r.ok_events);
    const lat = [...a.first].map(([id, at]) => at - r.scheduled.get(id)!).sort((x, y) => x - y);
    return {
      metrics: {
        target_per_s: o.rate,
        accepted_per_s: perS(r.ok_events, r.last_answer - r.t0),
        delivered_per_s: perS(a.first.size, a.last - r.t0),
        arrival_p50_ms: pct(lat, 0.5), arrival_p99_ms: pct(lat, 0.99), arrival_max_ms: pct(lat, 1),
        answer_p50_ms: pct(r.answer_latencies, 0.5), answer_p99_ms: pct(r.answer_latencies, 0.99), answer_max_ms: pct(r.answer_latencies, 1),
        over_timeout: r.over_timeout, non_2xx: Object.values(r.non_2xx).reduce((x, y) => x + y, 0), errors: r.errors,
        client_lag_ms: Math.round(r.client_lag_ms * 10) / 10, duplicates: a.duplicates,
      },
      detail: { events: feed.shots.reduce((s, x) => s + x.ids.length, 0), non_2xx: r.non_2xx, non_2xx_body: r.non_2xx_body },
    };
  });
}

/** (d) Fan-out: one event to `--fanout` webhooks spread round-robin over `--fanout-origins` receiver origins. */
export async function fanout(ctx: Ctx, d: Deployment): Promise<Row> {
  const { o, receiver } = ctx;
  const origins = receiver.urls.slice(0, o.fanoutOrigins);
  const t = await d.tenant(1, Array.from({ length: o.fanout }, (_, i) => ({ endpoint: origins[i % origins.length] })), o.ingest);
  const feed = d.feed(o.ingest, t, 1);
  return measured('fanout', `${d.name}, ${o.fanout} webhooks on ${origins.length} origin${origins.length > 1 ? 's' : ''}`, d, async () => {
    const r = await closedLoop(d.url, feed, 1, 60_000);
    const a = await collect(receiver, idsOf(feed), (x) => x.times.length >= o.fanout);
    const times = a.times.map((at) => at - r.start).sort((x, y) => x - y);
    return {
      metrics: {
        webhooks: o.fanout, origins: origins.length, answer_ms: pct(r.latencies, 0.5),
        first_arrival_ms: pct(times, 0), p50_arrival_ms: pct(times, 0.5), all_arrived_ms: pct(times, 1), arrived: times.length,
      },
      detail: {},
    };
  });
}

/**
 * (e) Backlog: `--backlog` deliveries pending, then RSS watched for `--backlog-seconds`. The
 * deliveries go to 1,000 webhooks on one receiver origin that reads each request and never
 * answers, as when a municipality's receiver is down. messo limits concurrency per origin, so
 * the dispatcher holds `--concurrency` requests open and everything else waits in the store.
 * Inserted as batches of events, ~50,000 deliveries a batch (1M took 153 s on SQLite, load 9).
 */
export async function backlog(ctx: Ctx, d: Deployment): Promise<Row> {
  const { o, receiver } = ctx;
  const webhooks = Math.min(1000, o.backlog);
  const events = Math.ceil(o.backlog / webhooks);
  const t = await d.tenant(1, Array.from({ length: webhooks }, () => ({ endpoint: receiver.hangUrl })), 'batch');
  const feed = d.feed('batch', t, events, Math.max(1, Math.floor(50_000 / webhooks)));
  const insertSampler = new RssSampler(d.watched);
  const t0 = now();
  const r = await closedLoop(d.url, feed, 1, 3_600_000);
  const acceptMs = now() - t0;
  // Batches of 1,000 webhooks commit their events with fan-out jobs: pending once all are written.
  while ((await d.fanoutJobs()) > 0) await sleep(500);
  const insertMs = now() - t0;
  const insertRss = insertSampler.stop();
  if (r.ok_events !== events) throw new Error(`backlog: ${r.ok_events} of ${events} events accepted (${JSON.stringify(r.non_2xx)}, ${r.errors} errors)`);
  return measured('backlog', `${d.name}, ${(events * webhooks).toLocaleString('en')} pending deliveries`, d, async () => {
    await sleep(o.backlogSeconds * 1000);
    const { hanging } = await receiver.ask<{ hanging: number }>('count');
    return {
      metrics: {
        pending: events * webhooks, accept_s: Math.round(acceptMs / 100) / 10, insert_s: Math.round(insertMs / 100) / 10,
        inserted_per_s: perS(events * webhooks, insertMs), held_s: o.backlogSeconds, requests_open: hanging,
      },
      detail: { rss_during_insert: insertRss },
    };
  }, true);
}
