/**
 * The dispatcher's two small synchronisation helpers.
 *
 * Alarm, its sleep: a timer that a wake-up ends early. A wake-up while awake is kept, so the
 * next sleep returns at once; any number of wake-ups before it count as one.
 */
export class Alarm {
  private ring: (() => void) | null = null;
  private pending = false;

  /** Something may be due now: end the sleep (or the next one). */
  wake(): void {
    this.pending = true;
    this.ring?.();
  }

  /** A wake-up came and no sleep has consumed it yet. */
  get woken(): boolean {
    return this.pending;
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ring = null;
        resolve();
      }, ms);
      this.ring = () => {
        clearTimeout(timer);
        this.ring = null;
        this.pending = false;
        resolve();
      };
    });
  }
}

/** Slots, a counting semaphore: at most `n` holders at once, the others wait in order. */
export class Slots {
  private readonly waiters: (() => void)[] = [];

  constructor(private free: number) {}

  take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Gives a slot back: to the first waiter, else to the pool. */
  give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}
