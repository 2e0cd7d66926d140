/** What the HTTP layer is given: configuration, the store, and hooks into the running engine. */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import type { DeliveryClient } from '../outbound/client.js';
import type { DeliveryMetrics } from '../delivery/metrics.js';

export interface AppContext {
  config: Config;
  store: Store;
  /** sha256 (hex) of the admin token; the token itself is never kept. */
  adminTokenHash: string;
  /** Called after events were appended, so an idle dispatcher in this process starts at once. */
  onEventsAppended?: () => void;
  /** Outbound HTTP through the SSRF guard (webhook tests, replays). */
  client?: DeliveryClient;
  /** Prometheus registry served at /metrics. */
  metrics?: DeliveryMetrics;
  /** Extra plugins mounted at the root (inspector, dashboard…), registered after the API. */
  plugins?: FastifyPluginAsync[];
  /** Extra plugins mounted under /api, behind authentication. */
  apiPlugins?: FastifyPluginAsync[];
}
