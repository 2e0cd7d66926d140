/**
 * The dispatcher: claims due deliveries in batches, sends them, records every attempt.
 *
 * States: idle → running → stopping → stopped. While running, the loop claims up to the free
 * capacity, launches each send without waiting for it, and sleeps when nothing is due; new
 * events (wake()), finished attempts and a poll timer end the sleep early. Attempt results are
 * buffered and written in one transaction per flush (a few ms), which is what keeps the store
 * from becoming the bottleneck. stop() is idempotent: it stops claiming, lets in-flight sends
 * finish for a grace period, aborts the rest and gives their claims back.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AttemptOutcome, ClaimedDelivery } from '../store/delivery-store.js';
import type { Store } from '../store/store.js';
import { buildRequest, decide } from './attempt.js';
import type { DeliveryClient } from './client.js';
import type { DeliveryMetrics } from './metrics.js';

export type DispatcherState = 'idle' | 'running' | 'stopping' | 'stopped';

export interface DispatcherOptions {
  store: Store;
  client: DeliveryClient;
  config: Config;
  log: Logger;
  metrics?: DeliveryMetrics;
  /** Sends in flight in this process at most. */
  maxInflight?: number;
  batchSize?: number;
  /** Longest sleep when idle: retries that come due are found at least this often. */
  pollMs?: number;
  random?: () => number;
}

export class Dispatcher {
  readonly owner = `wrk_${randomBytes(6).toString('hex')}`;
  state: DispatcherState = 'idle';
  private readonly inflight = new Map<string, AbortController>();
  private readonly buffer: AttemptOutcome[] = [];
  private readonly toRelease: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private lastReap = 0;
  private readonly maxInflight: number;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;

  constructor(private readonly o: DispatcherOptions) {
    this.maxInflight = o.maxInflight ?? 256;
    this.batchSize = o.batchSize ?? 100;
    this.pollMs = o.pollMs ?? 1000;
    // A lease outlives the longest attempt (connect + total timeout) twice over, so only a dead
    // worker lets it run out; then another worker takes the delivery over.
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

  private async loop(): Promise<void> {
    const { store, config, log } = this.o;
    while (this.state === 'running') {
      try {
        const now = Date.now();
        if (now - this.lastReap > Math.min(5000, this.leaseMs / 2)) {
          this.lastReap = now;
          const n = await store.releaseExpiredLeases(now, config.retrySchedule.length);
          if (n > 0) log.warn({ deliveries: n }, 'took over deliveries whose worker stopped mid-attempt');
        }
        const capacity = this.maxInflight - this.inflight.size;
        if (capacity <= 0) {
          await this.sleep(this.pollMs);
          continue;
        }
        const limit = Math.min(this.batchSize, capacity);
        const claims = await store.claimDeliveries({
          owner: this.owner, limit, now, leaseMs: this.leaseMs, defaultConcurrency: config.endpointConcurrency,
        });
        for (const c of claims) this.launch(c);
        if (claims.length < limit) {
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

  private launch(claim: ClaimedDelivery): void {
    const controller = new AbortController();
    const id = claim.delivery.id;
    this.inflight.set(id, controller);
    this.attempt(claim, controller.signal)
      .catch((err) => {
        this.o.log.error({ err, delivery: id }, 'attempt failed unexpectedly; releasing the delivery');
        this.toRelease.push(id);
        this.scheduleFlush();
      })
      .finally(() => {
        this.inflight.delete(id);
        this.wake();
      });
  }

  private async attempt(claim: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const wait = claim.notBefore - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (signal.aborted) {
      this.toRelease.push(claim.delivery.id);
      return this.scheduleFlush();
    }
    const startedAt = Date.now();
    const req = buildRequest(claim.delivery.id, claim.webhook, claim.delivery.body, claim.delivery.content_type, startedAt);
    const result = await this.o.client.send({ ...req, signal });
    if (result.kind === 'error' && result.errorClass === 'aborted' && this.state !== 'running') {
      this.toRelease.push(claim.delivery.id);
      return this.scheduleFlush();
    }
    const slowdowns = result.kind === 'response' && !result.ok && [429, 502, 503, 504].includes(result.statusCode)
      ? await this.o.store.endpointSlowdowns(claim.delivery.endpoint_key)
      : 0;
    const { outcome, disable } = decide(claim, result, req.url, {
      owner: this.owner, schedule: this.o.config.retrySchedule, startedAt, endpointSlowdowns: slowdowns, random: this.o.random,
    });
    const m = this.o.metrics;
    if (m) {
      m.deliveries.inc({ outcome: outcome.result });
      m.attemptDuration.observe({ outcome: outcome.result === 'success' ? 'success' : 'failure' }, outcome.durationMs / 1000);
      if (outcome.result !== 'success') m.webhookFailures.inc({ webhook_id: outcome.webhookId });
    }
    this.buffer.push(outcome);
    this.scheduleFlush();
    if (disable) {
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
    this.flushTimer ??= setTimeout(() => void this.flushNow(), 2);
  }

  /** Writes buffered outcomes (one transaction) and gives back released claims. */
  private flushNow(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    this.flushing = this.flushing.then(async () => {
      const outcomes = this.buffer.splice(0);
      const release = this.toRelease.splice(0);
      if (outcomes.length === 0 && release.length === 0) return;
      const { store, log, config } = this.o;
      for (let tries = 0; ; tries++) {
        try {
          await store.completeAttempts(outcomes);
          break;
        } catch (err) {
          // Never drop an outcome: the delivery would stay "sending" until its lease expires.
          if (tries >= 20 || this.state === 'stopped') throw err;
          log.error({ err, outcomes: outcomes.length }, 'could not record attempts; retrying');
          await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** tries, 2000)));
        }
      }
      if (release.length > 0) await store.releaseClaims(this.owner, release, Date.now());
      const failing = [...new Set(outcomes.filter((o) => o.result !== 'success').map((o) => o.webhookId))];
      if (failing.length > 0) {
        const window = config.autoDisableAfterSec * 1000;
        for (const w of await store.webhooksFailingSince(failing, Date.now() - window)) {
          const reason = `no successful delivery for ${Math.round(config.autoDisableAfterSec / 3600)} h`;
          await store.setWebhookActive(w.tenant_id, w.id, false, reason);
          log.warn({ webhook: w.id, reason }, 'webhook disabled after failing too long');
        }
      }
      this.wake();
    }).catch((err) => this.o.log.error({ err }, 'flush failed'));
    return this.flushing;
  }

  /** Stops claiming, waits up to graceMs for sends in flight, aborts and releases the rest. */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      if (this.state === 'idle') {
        this.state = 'stopped';
        return;
      }
      this.state = 'stopping';
      this.wake();
      await this.loopDone;
      const deadline = Date.now() + graceMs;
      while (this.inflight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of this.inflight.values()) c.abort();
      while (this.inflight.size > 0) await new Promise((r) => setTimeout(r, 10));
      await this.flushNow();
      this.state = 'stopped';
    })();
    return this.stopping;
  }
}
