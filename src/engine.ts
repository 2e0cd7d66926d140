/**
 * What runs next to the API in `messo serve` (and alone in `messo worker`): the outbound
 * client, metrics and, unless disabled, the dispatcher.
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createDeliveryClient } from './delivery/client.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { createMetrics } from './delivery/metrics.js';
import type { AppContext } from './http/context.js';

export function engineFor(config: Config) {
  return async (ctx: AppContext, log: Logger): Promise<{ stop(): Promise<void> }> => {
    const client = createDeliveryClient(config);
    const metrics = createMetrics(ctx.store);
    ctx.client = client;
    ctx.metrics = metrics;
    const dispatcher = config.dispatcher
      ? new Dispatcher({ store: ctx.store, client, config, log: log.child({ component: 'dispatcher' }), metrics })
      : null;
    if (dispatcher) {
      ctx.onEventsAppended = () => dispatcher.wake();
      dispatcher.start();
    }
    return {
      async stop() {
        await dispatcher?.stop();
        await client.close();
      },
    };
  };
}
