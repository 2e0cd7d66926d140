/**
 * Prometheus metrics of delivery (prom-client). Queue gauges are read from the store when
 * scraped, so they are right across processes, not just for this one.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryStore } from '../store/index.js';

export interface DeliveryMetrics {
  registry: Registry;
  deliveries: Counter<'outcome'>;
  attemptDuration: Histogram<'outcome'>;
  webhookFailures: Counter<'webhook_id'>;
}

export function createDeliveryMetrics(store: Pick<DeliveryStore, 'queueStats'>): DeliveryMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'messo_process_' });
  const deliveries = new Counter({
    name: 'messo_attempts_total', help: 'Delivery attempts by outcome (success, retry, failed = terminal)',
    labelNames: ['outcome'] as const, registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'messo_attempt_duration_seconds', help: 'Duration of delivery attempts',
    labelNames: ['outcome'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30], registers: [registry],
  });
  const webhookFailures = new Counter({
    name: 'messo_webhook_failures_total', help: 'Failed attempts per webhook',
    labelNames: ['webhook_id'] as const, registers: [registry],
  });
  // Read once per scrape, shared by both gauges.
  let pending: Promise<void> | null = null;
  const refresh = () => {
    pending ??= store.queueStats(Date.now()).then((s) => {
      depth.set({ state: 'due' }, s.due);
      depth.set({ state: 'scheduled' }, s.scheduled);
      depth.set({ state: 'sending' }, s.sending);
      oldest.set(s.oldestDueAt === null ? 0 : Math.max(0, (Date.now() - s.oldestDueAt) / 1000));
    }).finally(() => { pending = null; });
    return pending;
  };
  const depth = new Gauge({
    name: 'messo_queue_depth', help: 'Deliveries waiting, by state (due now, scheduled later, sending)',
    labelNames: ['state'] as const, registers: [registry], collect: refresh,
  });
  const oldest = new Gauge({
    name: 'messo_oldest_due_delivery_age_seconds', help: 'Age of the oldest delivery that is due and not yet sent',
    registers: [registry], collect: refresh,
  });
  return { registry, deliveries, attemptDuration, webhookFailures };
}
