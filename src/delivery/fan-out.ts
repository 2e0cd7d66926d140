/**
 * The fan-out writer: in a process that sends, writes the deliveries of fan-outs too large for
 * their event's transaction (the store's fan-out jobs), one bounded transaction at a time. It
 * yields to the event loop between two transactions, so this process's API and dispatcher go
 * on, and on SQLite other writers (another tenant's ingest) take the write lock in turn.
 *
 * Woken with the dispatcher (new events here, a wake-up from another process) and by a poll;
 * a wake-up while it runs makes it look once more when it is done. Nothing waiting costs one
 * read outside any transaction.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';

export interface FanOutWriterDeps {
  store: Pick<Store, 'expandFanOut'>;
  log: Logger;
  /** Deliveries were written: the dispatcher may claim them. */
  onWritten: () => void;
  pollMs: number;
}

export class FanOutWriter {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private poll: NodeJS.Timeout | null = null;

  constructor(private readonly deps: FanOutWriterDeps) {}

  /** Starts the poll and looks at once (jobs a stopped process left). */
  start(): void {
    this.poll = setInterval(() => this.wake(), this.deps.pollMs);
    this.poll.unref();
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Waits for the transaction in progress; nothing is left half-written (each chunk is one). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.running;
  }

  /** Chunks until no job is waiting (or the writer stops). */
  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        const pass = await this.deps.store.expandFanOut();
        if (pass.deliveries > 0) this.deps.onWritten();
        if (!pass.job) return;
        await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'fan-out pass failed; trying again at the next poll');
    }
  }
}
