/**
 * What runs next to the API in `messo serve` (and alone in `messo worker`): the outbound
 * client, metrics and, unless disabled, the dispatcher.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createDeliveryClient } from './outbound/client.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { createMetrics } from './delivery/metrics.js';
import type { AppContext } from './http/context.js';

export function engineFor(config: Config) {
  return async (ctx: AppContext, log: Logger): Promise<{ stop(): Promise<void>; dispatcherId: string | null }> => {
    const client = createDeliveryClient(config);
    const metrics = createMetrics(ctx.store);
    ctx.client = client;
    ctx.metrics = metrics;
    const dispatcher = config.dispatcher
      ? new Dispatcher({ store: ctx.store, client, config, log: log.child({ component: 'dispatcher' }), metrics })
      : null;
    let listener: { close(): Promise<void> } | null = null;
    if (dispatcher) {
      ctx.onEventsAppended = () => dispatcher.wake();
      // Other processes' new work wakes this one at once (PostgreSQL); the poll stays as a net.
      listener = ctx.store.subscribeWake(() => dispatcher.wake(), (err) => log.warn({ err: err.message }, 'wake-up channel lost; reconnecting'));
      dispatcher.start();
    }
    // Retention, in small batches, every ten minutes (first a minute after start).
    const retention = async () => {
      try {
        const cutoff = Date.now() - config.retentionDays * 86_400_000;
        const r = await ctx.store.purgeOlderThan(cutoff);
        if (r.events + r.attempts + r.deliveries + r.payloads > 0) log.info({ ...r, older_than_days: config.retentionDays }, 'retention: removed old rows');
      } catch (err) {
        log.warn({ err }, 'retention pass failed; trying again later');
      }
    };
    const first = setTimeout(() => void retention(), 60_000);
    const every = setInterval(() => void retention(), 600_000);
    first.unref();
    every.unref();
    return {
      dispatcherId: dispatcher?.owner ?? null,
      async stop() {
        clearTimeout(first);
        clearInterval(every);
        await listener?.close();
        await dispatcher?.stop();
        await client.close();
      },
    };
  };
}
