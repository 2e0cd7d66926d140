/**
 * Prometheus metrics of a messo process (prom-client), named so stock dashboards read them:
 *
 * - prom-client's defaults without a prefix (`process_cpu_seconds_total`, `nodejs_*`), as the
 *   standard Node.js dashboards expect, less the three gauges promtool refuses (below);
 * - `http_request_duration_seconds{method,route,status_code}` (route = the template, never the
 *   raw path, so ids do not make new series), the name fastify-metrics and Grafana's use;
 * - `messo_build_info{version,node}` = 1;
 * - `messo_ingest_events_total{source,result}`, `messo_attempts_total{outcome}`,
 *   `messo_attempt_duration_seconds{outcome}`;
 * - `messo_webhook_failures_total{webhook_id}` only with MESSO_METRICS_WEBHOOK_LABELS=true (one
 *   series per webhook); a deleted webhook's series is dropped at the next scrape.
 * - Queue gauges, read from the shared store when scraped: every process reports the same
 *   numbers, so aggregate them over instances with max(), never sum().
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryStore } from '../store/index.js';
import { VERSION } from '../version.js';

export interface DeliveryMetrics {
  registry: Registry;
  /** One finished attempt: counted by outcome, timed, and per webhook when that is on. */
  recordAttempt(result: 'success' | 'retry' | 'failed', durationMs: number, webhookId: string): void;
  /** One claim transaction, by whether it found anything: an empty one is wasted store time. */
  recordClaim(found: boolean): void;
  /** One ingested event: `source` api | opencity; `result` created | duplicate | outdated | skipped. */
  recordIngest(source: string, result: string, n?: number): void;
  /** One answered HTTP request; `route` is the route's template ('unmatched' for none). */
  recordRequest(method: string, route: string, statusCode: number, seconds: number): void;
  /** Drops a deleted webhook's series at once (other processes drop it at their next scrape). */
  forgetWebhook(webhookId: string): void;
}

export interface MetricsOptions {
  webhookLabels?: boolean;
}

/**
 * Distinct webhook_id values one process exports when per-webhook series are on: every label
 * value is a series a Prometheus server keeps, and webhooks are created by tenants, so their
 * number must not be theirs to grow. The rest count as webhook_id="other".
 */
export const MAX_WEBHOOK_SERIES = 200;

export function createDeliveryMetrics(store: Pick<DeliveryStore, 'queueStats' | 'liveWebhookIds'>, opts: MetricsOptions = {}): DeliveryMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Three of the defaults are gauges named *_total, which promtool refuses (3 failures); their
  // by-type siblings (nodejs_active_handles{type} …) stay, and sum() of those is the same number.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  const registers = [registry];
  new Gauge({
    name: 'messo_build_info', help: 'Always 1; the labels say which messo and which Node.js this process runs',
    labelNames: ['version', 'node'] as const, registers,
  }).set({ version: VERSION, node: process.version }, 1);
  const attempts = new Counter({
    name: 'messo_attempts_total', help: 'Delivery attempts by outcome (success, retry, failed = terminal)',
    labelNames: ['outcome'] as const, registers,
  });
  const attemptDuration = new Histogram({
    name: 'messo_attempt_duration_seconds', help: 'Duration of delivery attempts',
    labelNames: ['outcome'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30], registers,
  });
  const claims = new Counter({
    name: 'messo_claims_total', help: 'Claim transactions of this process, by whether they found deliveries (found="none" or "some")',
    labelNames: ['found'] as const, registers,
  });
  const ingest = new Counter({
    name: 'messo_ingest_events_total', help: 'Events received by the ingest, by source (api, opencity, opencity-webhook) and result',
    labelNames: ['source', 'result'] as const, registers,
  });
  const http = new Histogram({
    name: 'http_request_duration_seconds', help: 'Duration of HTTP requests served, by route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
  });

  // Per webhook only when asked: ids seen here (at most MAX_WEBHOOK_SERIES), and the check at
  // scrape that they still exist.
  let webhookFailures: Counter<'webhook_id'> | null = null;
  const labelled = new Set<string>();
  if (opts.webhookLabels) {
    webhookFailures = new Counter({
      name: 'messo_webhook_failures_total',
      help: `Failed delivery attempts per webhook (MESSO_METRICS_WEBHOOK_LABELS; the first ${MAX_WEBHOOK_SERIES} webhooks, the rest as webhook_id="other")`,
      labelNames: ['webhook_id'] as const, registers,
      async collect() {
        const ids = [...labelled];
        if (ids.length === 0) return;
        const live = new Set(await store.liveWebhookIds(ids));
        for (const id of ids) if (!live.has(id)) forget(id);
      },
    });
  }
  const forget = (id: string) => {
    if (labelled.delete(id)) webhookFailures?.remove({ webhook_id: id });
  };
  // Read once per scrape, shared by both gauges.
  let pending: Promise<void> | null = null;
  const refresh = () => {
    pending ??= store.queueStats(Date.now()).then((s) => {
      depth.set({ state: 'due' }, s.due);
      depth.set({ state: 'scheduled' }, s.scheduled);
      depth.set({ state: 'sending' }, s.sending);
      oldest.set(s.oldestDueAt === null ? 0 : Math.max(0, (Date.now() - s.oldestDueAt) / 1000));
      fanoutJobs.set(s.fanoutJobs);
    }).finally(() => { pending = null; });
    return pending;
  };
  const depth = new Gauge({
    name: 'messo_queue_depth', help: 'Deliveries waiting, by state (due now, scheduled later, sending); read from the shared store: use max() over instances',
    labelNames: ['state'] as const, registers, collect: refresh,
  });
  const oldest = new Gauge({
    name: 'messo_oldest_due_delivery_age_seconds', help: 'Age of the oldest delivery that is due and not yet sent; read from the shared store: use max() over instances',
    registers, collect: refresh,
  });
  const fanoutJobs = new Gauge({
    name: 'messo_fanout_jobs', help: 'Events whose fan-out (past MESSO_FANOUT_CHUNK deliveries) is not all written yet; read from the shared store: use max() over instances',
    registers, collect: refresh,
  });

  return {
    registry,
    recordAttempt(result, durationMs, webhookId) {
      attempts.inc({ outcome: result });
      attemptDuration.observe({ outcome: result === 'success' ? 'success' : 'failure' }, durationMs / 1000);
      if (webhookFailures && result !== 'success') {
        if (!labelled.has(webhookId) && labelled.size < MAX_WEBHOOK_SERIES) labelled.add(webhookId);
        webhookFailures.inc({ webhook_id: labelled.has(webhookId) ? webhookId : 'other' });
      }
    },
    recordClaim(found) {
      claims.inc({ found: found ? 'some' : 'none' });
    },
    recordIngest(source, result, n = 1) {
      ingest.inc({ source, result }, n);
    },
    recordRequest(method, route, statusCode, seconds) {
      http.observe({ method, route, status_code: String(statusCode) }, seconds);
    },
    forgetWebhook: forget,
  };
}
