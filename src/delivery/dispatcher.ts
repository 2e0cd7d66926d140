/**
 * The dispatcher: claims due deliveries in batches, sends them, records every attempt.
 *
 * States: idle → running → stopping → stopped. While running, the loop claims work into
 * per-endpoint local queues and sleeps when nothing is due; new events (wake()), endpoints whose
 * queue runs low, flushed results and a poll timer end the sleep early. Each endpoint (receiver
 * origin) is owned by one dispatcher at a time (see delivery-store.ts), so its queue can hold a
 * few rounds of deliveries ahead while at most `limit` requests are in flight: the connection
 * never waits for the database. Results are buffered and written in one transaction per flush.
 * A heartbeat renews leases and endpoint ownership. stop() is idempotent: it gives back what is
 * queued, lets sends in flight finish for a grace period, aborts and releases the rest.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { concurrencyOf, isSlowDown, queueCap, sharedConcurrency } from '../domain/limits.js';
import type { DeliveryClient } from '../outbound/client.js';
import type { AttemptOutcome, ClaimedDelivery, DispatchStore } from '../store/index.js';
import { decide } from './attempt.js';
import type { DeliveryMetrics } from './metrics.js';
import { prepareAttempt } from './prepare.js';

export type DispatcherState = 'idle' | 'running' | 'stopping' | 'stopped';

/** Result transactions in flight at once: more lets PostgreSQL group commits; SQLite serialises anyway. */
const MAX_WRITES = 3;

export interface DispatcherOptions {
  /** Only what dispatching needs: claims, outcomes, leases, slow-downs, disabling. */
  store: DispatchStore;
  client: DeliveryClient;
  config: Config;
  log: Logger;
  metrics?: DeliveryMetrics;
  /** Deliveries held by this process (queued + in flight) at most. */
  maxLocal?: number;
  batchSize?: number;
  /** Rounds of `limit` requests an endpoint's queue may hold ahead. */
  prefetchRounds?: number;
  /** Longest sleep when idle: retries that come due are found at least this often. */
  pollMs?: number;
  random?: () => number;
}

interface EndpointQueue {
  key: string;
  queue: ClaimedDelivery[];
  active: number;
  /** Answered, but the outcome is not yet committed: would be sent again after a crash. */
  unrecorded: number;
  limit: number;
}

export class Dispatcher {
  readonly owner = `wrk_${randomBytes(6).toString('hex')}`;
  state: DispatcherState = 'idle';
  private readonly endpoints = new Map<string, EndpointQueue>();
  private readonly controllers = new Map<string, AbortController>();
  private local = 0;
  private readonly buffer: AttemptOutcome[] = [];
  private readonly toRelease: string[] = [];
  /** Result writes in progress; up to MAX_WRITES at once (PostgreSQL commits them in parallel). */
  private readonly writes = new Set<Promise<void>>();
  private writeSlots = MAX_WRITES;
  private waitingWrite: Promise<void> | null = null;
  private readonly slotWaiters: (() => void)[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private lastReap = 0;
  private lastBeat = 0;
  /** A finished attempt may have unblocked more work (a retry, an ordered chain, a release). */
  private unblocked = false;
  private readonly maxLocal: number;
  private readonly batchSize: number;
  private readonly prefetchRounds: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;

  constructor(private readonly o: DispatcherOptions) {
    this.maxLocal = o.maxLocal ?? 2000;
    this.batchSize = o.batchSize ?? 200;
    this.prefetchRounds = o.prefetchRounds ?? 10;
    this.pollMs = o.pollMs ?? o.config.pollIntervalMs;
    // Renewed by heartbeat while this process lives; runs out only when it died.
    this.leaseMs = 2 * (o.config.requestTimeoutMs + o.config.connectTimeoutMs) + 2000;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    this.loopDone = this.loop().catch((err) => this.o.log.fatal({ err }, 'dispatcher loop crashed'));
  }

  /** Something may be due now (a new event, a finished attempt): end the sleep. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wakeUp = () => {
        this.woken = false;
        finish();
      };
    });
  }

  private cap(ep: EndpointQueue): number {
    return queueCap(ep.limit, this.prefetchRounds);
  }

  private async loop(): Promise<void> {
    const { store, config, log } = this.o;
    while (this.state === 'running') {
      try {
        const now = Date.now();
        if (now - this.lastBeat > this.leaseMs / 4) {
          this.lastBeat = now;
          const active = [...this.endpoints.values()].filter((e) => e.queue.length + e.active > 0).map((e) => e.key);
          await store.renewLeases(this.owner, now + this.leaseMs, active);
        }
        if (now - this.lastReap > Math.min(5000, this.leaseMs / 2)) {
          this.lastReap = now;
          const n = await store.releaseExpiredLeases(now, config.retrySchedule.length);
          if (n > 0) log.warn({ deliveries: n }, 'took over deliveries whose worker stopped mid-attempt');
        }
        const room = this.maxLocal - this.local;
        if (room <= 0) {
          await this.sleep(this.pollMs);
          continue;
        }
        const limit = Math.min(this.batchSize, room);
        const full = [...this.endpoints.values()].filter((e) => e.queue.length + e.active >= this.cap(e)).map((e) => e.key);
        const claims = await store.claimDeliveries({
          owner: this.owner, limit, now, leaseMs: this.leaseMs, skipEndpoints: full,
          perEndpoint: queueCap(config.endpointConcurrency, this.prefetchRounds), newEndpoints: 1,
        });
        // One new endpoint per claim (so woken dispatchers share them); having taken one,
        // look again at once for the next.
        const tookNew = claims.some((c) => !this.endpoints.has(c.delivery.endpoint_key));
        for (const c of claims) this.enqueue(c);
        if (claims.length < limit && !tookNew) {
          // Sleep until the next retry comes due (or a wake-up), so short schedules stay exact.
          const next = await store.nextDueAt(Date.now());
          await this.sleep(next === null ? this.pollMs : Math.max(5, Math.min(this.pollMs, next - Date.now())));
        }
      } catch (err) {
        // The store is unreachable (restart, network): keep trying, slowly.
        log.error({ err }, 'dispatcher could not claim deliveries; retrying');
        await this.sleep(Math.min(this.pollMs * 2, 2000));
      }
    }
  }

  private enqueue(claim: ClaimedDelivery): void {
    const key = claim.delivery.endpoint_key;
    const limit = concurrencyOf(claim.webhook.max_concurrency, this.o.config.endpointConcurrency);
    let ep = this.endpoints.get(key);
    if (!ep) {
      ep = { key, queue: [], active: 0, unrecorded: 0, limit };
      this.endpoints.set(key, ep);
    }
    ep.limit = sharedConcurrency(ep.limit, limit);
    ep.queue.push(claim);
    this.local++;
    this.pump(ep);
  }

  /** Starts queued sends while the endpoint has free slots. */
  private pump(ep: EndpointQueue): void {
    // At most `limit` in flight, and at most `limit` more answered but not yet recorded: what a
    // crash can make us send twice stays within twice the endpoint's concurrency.
    while (ep.active < ep.limit && ep.active + ep.unrecorded < 2 * ep.limit && ep.queue.length > 0 && this.state !== 'stopped') {
      const claim = ep.queue.shift()!;
      ep.active++;
      const controller = new AbortController();
      this.controllers.set(claim.delivery.id, controller);
      this.attempt(claim, ep, controller.signal)
        .catch((err) => {
          this.o.log.error({ err, delivery: claim.delivery.id }, 'attempt failed unexpectedly; releasing the delivery');
          this.release([claim.delivery.id]);
        })
        .finally(() => {
          this.controllers.delete(claim.delivery.id);
          ep.active--;
          this.local--;
          if (ep.queue.length === 0 && ep.active === 0 && ep.unrecorded === 0) {
            this.endpoints.delete(ep.key);
          } else {
            this.pump(ep);
          }
          // Refill before the queue runs dry, so the endpoint never idles waiting for a claim.
          if (ep.queue.length <= this.cap(ep) / 2) this.wake();
        });
    }
  }

  private release(ids: string[]): void {
    this.toRelease.push(...ids);
    this.scheduleFlush();
  }

  /** Gives back what is queued (not started) for an endpoint, or for one webhook of it. */
  private dropQueued(ep: EndpointQueue, webhookId?: string): void {
    const keep: ClaimedDelivery[] = [];
    const drop: string[] = [];
    for (const c of ep.queue) {
      if (webhookId && c.webhook.id !== webhookId) keep.push(c);
      else drop.push(c.delivery.id);
    }
    ep.queue = keep;
    this.local -= drop.length;
    this.release(drop);
  }

  private async attempt(claim: ClaimedDelivery, ep: EndpointQueue, signal: AbortSignal): Promise<void> {
    const wait = claim.notBefore - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (signal.aborted || this.state === 'stopped') return this.release([claim.delivery.id]);
    const startedAt = Date.now();
    const req = await prepareAttempt(claim.webhook, claim.delivery, startedAt);
    const result = await this.o.client.send({ ...req, signal });
    if (result.kind === 'error' && result.errorClass === 'aborted' && this.state !== 'running') {
      return this.release([claim.delivery.id]);
    }
    if (claim.delivery.order_key !== null) this.unblocked = true;
    const slow = result.kind === 'response' && isSlowDown(result.statusCode);
    const slowdowns = slow ? await this.o.store.endpointSlowdowns(claim.delivery.endpoint_key) : 0;
    const { outcome, disable } = decide(claim, result, req.url, {
      owner: this.owner, schedule: this.o.config.retrySchedule, startedAt, endpointSlowdowns: slowdowns, random: this.o.random,
    });
    const m = this.o.metrics;
    if (m) {
      m.deliveries.inc({ outcome: outcome.result });
      m.attemptDuration.observe({ outcome: outcome.result === 'success' ? 'success' : 'failure' }, outcome.durationMs / 1000);
      if (outcome.result !== 'success') m.webhookFailures.inc({ webhook_id: outcome.webhookId });
    }
    // The endpoint asked us to slow down: what is queued for it goes back until it recovers.
    if (outcome.endpointBlockedUntil !== null) this.dropQueued(ep);
    this.buffer.push(outcome);
    ep.unrecorded++;
    // The endpoint is about to wait on the record: write now rather than at the timer.
    if (ep.unrecorded >= ep.limit) void this.flushNow();
    else this.scheduleFlush();
    if (disable) {
      this.dropQueued(ep, claim.webhook.id);
      await this.flushNow();
      await this.o.store.setWebhookActive(claim.webhook.tenant_id, claim.webhook.id, false, disable);
      this.o.log.warn({ webhook: claim.webhook.id, reason: disable }, 'webhook disabled');
    }
  }

  private scheduleFlush(): void {
    if (this.buffer.length >= 200) {
      void this.flushNow();
      return;
    }
    this.flushTimer ??= setTimeout(() => void this.flushNow(), 5);
  }

  /** Writes buffered outcomes (one transaction) and gives back released claims. */
  private flushNow(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.buffer.length === 0 && this.toRelease.length === 0) return Promise.all(this.writes).then(() => undefined);
    // One write waits for a slot at a time and takes everything buffered when it starts, so
    // outcomes that arrive meanwhile join it instead of each starting a transaction of one.
    if (this.waitingWrite) return this.waitingWrite;
    const p: Promise<void> = this.takeSlot()
      .then(() => {
        this.waitingWrite = null;
        return this.write(this.buffer.splice(0), this.toRelease.splice(0));
      })
      .catch((err) => this.o.log.error({ err }, 'flush failed'))
      .finally(() => {
        this.writes.delete(p);
        this.writeSlots++;
        this.slotWaiters.shift()?.();
      });
    this.waitingWrite = p;
    this.writes.add(p);
    return p;
  }

  private takeSlot(): Promise<void> {
    if (this.writeSlots > 0) {
      this.writeSlots--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.slotWaiters.push(() => {
      this.writeSlots--;
      resolve();
    }));
  }

  private async write(outcomes: AttemptOutcome[], release: string[]): Promise<void> {
    if (outcomes.length === 0 && release.length === 0) return;
    {
      // Whatever happens below, these outcomes stop counting as unrecorded once it is over.
      const settle = () => {
        for (const o of outcomes) {
          const ep = this.endpoints.get(o.endpointKey);
          if (!ep) continue;
          ep.unrecorded--;
          if (ep.queue.length === 0 && ep.active === 0 && ep.unrecorded === 0) this.endpoints.delete(ep.key);
          else this.pump(ep);
        }
      };
      const { store, log, config } = this.o;
      try {
        for (let tries = 0; ; tries++) {
          try {
            await store.completeAttempts(outcomes);
            break;
          } catch (err) {
            // Never drop an outcome silently: retry while the store comes back; after that the
            // lease runs out and the delivery is attempted again (at least once, never zero).
            if (tries >= 20) throw err;
            log.error({ err, outcomes: outcomes.length }, 'could not record attempts; retrying');
            await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** tries, 2000)));
          }
        }
      } finally {
        settle();
      }
      if (release.length > 0) await store.releaseClaims(this.owner, release, Date.now());
      // Plain successes change nothing another claim could use; anything else may have (a retry
      // to schedule, an ordered chain moving on, claims given back): only then look again.
      const unblocked = this.unblocked || release.length > 0 || outcomes.some((o) => o.result !== 'success');
      this.unblocked = false;
      const failing = [...new Set(outcomes.filter((o) => o.result !== 'success').map((o) => o.webhookId))];
      if (failing.length > 0) {
        const window = config.autoDisableAfterSec * 1000;
        for (const w of await store.webhooksFailingSince(failing, Date.now() - window)) {
          const reason = `no successful delivery for ${formatWindow(config.autoDisableAfterSec)}`;
          for (const ep of this.endpoints.values()) this.dropQueued(ep, w.id);
          await store.setWebhookActive(w.tenant_id, w.id, false, reason);
          log.warn({ webhook: w.id, reason }, 'webhook disabled after failing too long');
        }
      }
      if (unblocked) this.wake();
    }
  }

  /** Stops claiming, gives back what is queued, waits up to graceMs for sends in flight, aborts the rest. */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      if (this.state === 'idle') {
        this.state = 'stopped';
        return;
      }
      this.state = 'stopping';
      this.wake();
      await this.loopDone;
      for (const ep of this.endpoints.values()) this.dropQueued(ep);
      const deadline = Date.now() + graceMs;
      while (this.controllers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of this.controllers.values()) c.abort();
      while (this.controllers.size > 0) await new Promise((r) => setTimeout(r, 10));
      await this.flushNow();
      await Promise.all(this.writes);
      await this.o.store.renewLeases(this.owner, 0, []).catch(() => undefined);
      this.state = 'stopped';
    })();
    return this.stopping;
  }
}

function formatWindow(sec: number): string {
  if (sec % 86400 === 0) return `${sec / 86400} d`;
  if (sec % 3600 === 0) return `${sec / 3600} h`;
  return `${sec} s`;
}
