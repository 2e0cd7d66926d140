/**
 * What runs next to the API in `messo serve` (and alone in `messo worker`): the dispatcher,
 * unless the configuration turns it off, and retention.
 */
import { Dispatcher } from './delivery/dispatcher.js';
import type { Runtime } from './runtime.js';

export interface Engine {
  /** The dispatcher's lease owner in the store (what an operator greps for); null without one. */
  readonly dispatcherId: string | null;
  stop(): Promise<void>;
}

export function startEngine(runtime: Runtime): Engine {
  const { config, store, log } = runtime;
  const dispatcher = config.dispatcher
    ? new Dispatcher({ store, client: runtime.client, config, log: log.child({ component: 'dispatcher' }), metrics: runtime.metrics })
    : null;
  let listener: { close(): Promise<void> } | null = null;
  let unsubscribe = (): void => undefined;
  if (dispatcher) {
    // Events appended in this process wake it at once; other processes' through the store
    // (PostgreSQL NOTIFY); the poll stays as a net.
    unsubscribe = runtime.work.subscribe(() => dispatcher.wake());
    listener = store.subscribeWake(() => dispatcher.wake(), (err) => log.warn({ err: err.message }, 'wake-up channel lost; reconnecting'));
    dispatcher.start();
  }
  // Retention, in small batches, every ten minutes (first a minute after start).
  const retention = async () => {
    try {
      const cutoff = Date.now() - config.retentionDays * 86_400_000;
      const r = await store.purgeOlderThan(cutoff);
      if (r.events + r.attempts + r.deliveries + r.payloads > 0) log.info({ ...r, older_than_days: config.retentionDays }, 'retention: removed old rows');
    } catch (err) {
      log.warn({ err }, 'retention pass failed; trying again later');
    }
  };
  const first = setTimeout(() => void retention(), 60_000);
  const every = setInterval(() => void retention(), 600_000);
  first.unref();
  every.unref();
  let stopping: Promise<void> | null = null;
  return {
    dispatcherId: dispatcher?.owner ?? null,
    stop() {
      stopping ??= (async () => {
        clearTimeout(first);
        clearInterval(every);
        unsubscribe();
        await listener?.close();
        await dispatcher?.stop();
      })();
      return stopping;
    },
  };
}
