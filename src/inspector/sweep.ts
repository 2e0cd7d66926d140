/**
 * The sweep that removes expired and deleted bins. Every minute it deletes in small batches
 * (500 captures per bin per statement) and yields between them, so a purge of many large bins
 * never holds the database or the event loop for long. Several processes may sweep at once:
 * every step is an idempotent DELETE.
 *
 * States: idle ⇄ sweeping → stopped. `stop()` is idempotent and waits for a sweep in progress.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { InspectorStore } from '../store/index.js';

export const SWEEP_INTERVAL_MS = 60_000;
/** Upper bound of one sweep, so a huge backlog is spread over several ticks. */
const MAX_STEPS_PER_SWEEP = 200;

export class BinSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly store: InspectorStore, private readonly log: FastifyBaseLogger, private readonly intervalMs = SWEEP_INTERVAL_MS) {}

  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  /** One sweep now; returns when done (or joins the one in progress). */
  sweep(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    let bins = 0;
    let captures = 0;
    try {
      for (let step = 0; step < MAX_STEPS_PER_SWEEP && !this.stopped; step++) {
        const done = await this.store.purgeExpired(Date.now());
        bins += done.bins;
        captures += done.captures;
        if (done.bins === 0 && done.captures === 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (bins > 0 || captures > 0) this.log.info({ bins, captures }, 'inspector: removed expired bins');
    } catch (err) {
      this.log.warn({ err }, 'inspector: sweeping expired bins failed; will retry');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
