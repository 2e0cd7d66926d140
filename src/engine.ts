/**
 * What runs next to the API in `messo serve` (and alone in `messo worker`): the dispatcher and
 * the fan-out writer beside it, unless the configuration turns them off, retention, and on
 * PostgreSQL the statistics autovacuum does not keep.
 */
import { Dispatcher } from './delivery/dispatcher.js';
import { FanOutWriter } from './delivery/fan-out.js';
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
  // The process that sends also writes the fan-outs too large for their event's transaction.
  const fanOut = dispatcher
    ? new FanOutWriter({ store, log: log.child({ component: 'fan-out' }), onWritten: () => dispatcher.wake(), pollMs: config.pollIntervalMs })
    : null;
  let listener: { close(): Promise<void> } | null = null;
  let unsubscribe = (): void => undefined;
  if (dispatcher && fanOut) {
    // Events appended in this process wake them at once; other processes' through the store
    // (PostgreSQL NOTIFY); the poll stays as a net.
    const wake = () => {
      fanOut.wake();
      dispatcher.wake();
    };
    unsubscribe = runtime.work.subscribe(wake);
    listener = store.subscribeWake(wake, (err) => log.warn({ err: err.message }, 'wake-up channel lost; reconnecting'));
    fanOut.start();
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
  // PostgreSQL's statistics where autovacuum does not keep them, each minute (store.ts).
  const statistics = setInterval(() => {
    store.keepStatistics().then(
      (tables) => { if (tables.length > 0) log.info({ tables }, 'statistics: analysed the tables autovacuum leaves alone'); },
      (err) => log.warn({ err }, 'statistics pass failed; trying again later'),
    );
  }, 60_000);
  statistics.unref();
  let stopping: Promise<void> | null = null;
  return {
    dispatcherId: dispatcher?.owner ?? null,
    stop() {
      stopping ??= (async () => {
        clearTimeout(first);
        clearInterval(every);
        clearInterval(statistics);
        unsubscribe();
        await listener?.close();
        await fanOut?.stop();
        await dispatcher?.stop();
      })();
      return stopping;
    },
  };
}
