/**
 * The runtime of a messo process: what every part shares, built once from the configuration
 * and the store, and frozen. The HTTP app, the engine (dispatcher, retention) and the worker
 * all receive the same object; none of them adds to it or changes it afterwards.
 *
 * Its one moving part is `work`, the signal that new deliveries may be due. Whoever appends
 * events (an API route, the ingest) calls `work.notify()`; whoever sends (the dispatcher, when
 * this process runs one) has subscribed to it. A process without a dispatcher simply has no
 * subscriber: notifying is then free, and other processes learn of the work through the store
 * (PostgreSQL NOTIFY, SQLite's data_version poll).
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createDeliveryMetrics, type DeliveryMetrics } from './delivery/metrics.js';
import { createDeliveryClient, type DeliveryClient } from './outbound/client.js';
import type { Store } from './store/index.js';

/** "Deliveries may be due now": from those who append events to those who send them. */
export interface WorkSignal {
  notify(): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void;
}

export function createWorkSignal(): WorkSignal {
  const listeners = new Set<() => void>();
  return {
    notify() {
      for (const l of listeners) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export interface Runtime {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly log: Logger;
  /** Outbound HTTP through the SSRF guard: deliveries, webhook tests, inspector replays. */
  readonly client: DeliveryClient;
  /** This process's Prometheus registry (/metrics). */
  readonly metrics: DeliveryMetrics;
  readonly work: WorkSignal;
  /** Releases what the runtime opened (the outbound connection pools); the store is the caller's. */
  close(): Promise<void>;
}

export function createRuntime(deps: { config: Config; store: Store; log: Logger }): Runtime {
  const config = Object.freeze({ ...deps.config, retrySchedule: Object.freeze([...deps.config.retrySchedule]), allowedTargets: Object.freeze([...deps.config.allowedTargets]) }) as Readonly<Config>;
  const client = createDeliveryClient(config);
  return Object.freeze({
    config,
    store: deps.store,
    log: deps.log,
    client,
    metrics: createDeliveryMetrics(deps.store, { webhookLabels: config.metricsWebhookLabels }),
    work: createWorkSignal(),
    close: () => client.close(),
  });
}
