/**
 * Configuration: defaults, then MESSO_* environment variables, validated once at start. Every
 * bad value gives one clear line; start-up stops with all of them at once.
 */
import { isIP } from 'node:net';
import { DEFAULT_CLOUDEVENTS_TYPE_PREFIX } from './domain/cloudevents.js';
import { DEFAULT_RETRY_SCHEDULE_SEC, parseRetrySchedule } from './domain/retry-policy.js';
import { parseCidrList } from './domain/cidr.js';
import { EncryptionError, parseKeyring } from './domain/encryption.js';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  adminToken: string | null;
  /** MESSO_ENCRYPTION_KEY as given (validated): `kid1:key1,kid2:key2`; null: a key file in dataDir. */
  encryptionKey: string | null;
  /** Where a generated encryption key is kept: MESSO_DATA_DIR, else the SQLite file's folder, else ./data. */
  dataDir: string;
  publicUrl: string;
  /** False when publicUrl was derived from host and port (see withPort). */
  publicUrlSet: boolean;
  logLevel: string;
  bodyLimit: number;
  retrySchedule: readonly number[];
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  endpointConcurrency: number;
  /** Requests in flight to one receiver origin from all tenants together; shared fairly between them. */
  originConcurrency: number;
  allowedTargets: readonly string[];
  secretOverlapSec: number;
  autoDisableAfterSec: number;
  dispatcher: boolean;
  inspectorPublic: boolean;
  inspectorBodyLimit: number;
  inspectorMaxRequests: number;
  inspectorBinTtlSec: number;
  retentionDays: number;
  /** Longest sleep of an idle dispatcher: retries that come due are found at least this often. */
  pollIntervalMs: number;
  /** Incoming requests: whole request (headers and body) within this, else 408 and closed. */
  serverRequestTimeoutMs: number;
  /** Incoming requests: headers within this; never more than serverRequestTimeoutMs. */
  serverHeadersTimeoutMs: number;
  serverKeepAliveTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Quotas (see src/http-common/quotas.ts); 0 turns a rate limit off. */
  apiRequestsPerMinute: number;
  authFailuresPerMinute: number;
  anonymousBinsPerHour: number;
  maxWebhooksPerTenant: number;
  maxDeliveriesPerBatch: number;
  /** Deliveries written per transaction at most; a larger fan-out is written in chunks (fanout.ts). */
  fanoutChunk: number;
  maxBinsPerTenant: number;
  maxCapturedBytesPerTenant: number;
  /** Serve /metrics on this port only (0: on the main port, behind the admin token). */
  metricsPort: number | null;
  /** `messo_webhook_failures_total{webhook_id}`: one series per webhook, so off unless asked for. */
  metricsWebhookLabels: boolean;
  /** Reverse-DNS prefix of CloudEvents `type` (`it.opencity` → `it.opencity.application.created`). */
  cloudEventsTypePrefix: string;
  /** `messo worker`: serve /healthz and /metrics on this port (null: none). */
  workerPort: number | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `1048576`, `512kb`, `10MiB`, `1mb` → bytes. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Math.floor(Number(m[1]) * mult);
}

/** How this server is reached when MESSO_PUBLIC_URL is not set: its own host and port. */
export function defaultPublicUrl(host: string, port: number): string {
  return `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The configuration once the port is known for sure (port 0 picks a free one at start): a
 * derived public URL names the real port. A new object; the given one is left as it was.
 */
export function withPort(config: Config, port: number): Config {
  return { ...config, port, publicUrl: config.publicUrlSet ? config.publicUrl : defaultPublicUrl(config.host, port) };
}

/** The folder of a SQLite file (the key sits beside the data it opens), else ./data. */
export function defaultDataDir(databaseUrl: string): string {
  if (!databaseUrl.startsWith('sqlite:')) return './data';
  const path = databaseUrl.slice('sqlite:'.length);
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return slash < 0 ? '.' : slash === 0 ? '/' : path.slice(0, slash);
}

/**
 * MESSO_MAX_WEBHOOKS_PER_TENANT at most, whatever it was when a tenant's webhooks were made: no
 * tenant ever holds more, so ingest skips counting them when even this many stays under
 * MESSO_MAX_DELIVERIES_PER_BATCH (every single POST, with the defaults).
 */
export const WEBHOOKS_PER_TENANT_CEILING = 1_000_000;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    // Digits only: Number() would also take 1e3, 0x50 or 3000.0 for a port.
    const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${raw}: must be a whole number from ${min} to ${max}`);
      return def;
    }
    return n;
  };
  const size = (name: string, def: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    const n = parseSize(raw);
    if (n === null || n < 1024) {
      problems.push(`${name}=${raw}: must be a size of at least 1kb, such as 1048576, 512kb or 10mb`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return def;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}=${raw}: must be true or false`);
    return def;
  };

  const port = int('MESSO_PORT', 3000, 0, 65535);
  const host = get('MESSO_HOST') ?? '127.0.0.1';
  // Caught here, a typo is one clear line instead of a getaddrinfo error at listen time.
  if (isIP(host) === 0 && !/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host)) {
    problems.push(`MESSO_HOST=${host}: must be an IP address or a host name, such as 127.0.0.1, 0.0.0.0 or localhost`);
  }

  const databaseUrl = get('MESSO_DATABASE_URL') ?? 'sqlite:./data/messo.db';
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
    problems.push(`MESSO_DATABASE_URL=${databaseUrl.split(':')[0]}:…: must be sqlite:<path> or postgres://user@host/db`);
  }

  const adminToken = get('MESSO_ADMIN_TOKEN') ?? null;
  if (adminToken !== null && adminToken.length < 16) {
    problems.push('MESSO_ADMIN_TOKEN: must be at least 16 characters (the value is not shown)');
  }

  const encryptionKey = get('MESSO_ENCRYPTION_KEY') ?? null;
  if (encryptionKey !== null) {
    try {
      parseKeyring(encryptionKey);
    } catch (err) {
      // The message names the entry at fault, never the key.
      if (!(err instanceof EncryptionError)) throw err;
      problems.push(`MESSO_ENCRYPTION_KEY: ${err.message} (the value is not shown)`);
    }
  }
  const dataDir = get('MESSO_DATA_DIR') ?? defaultDataDir(databaseUrl);

  let publicUrl = get('MESSO_PUBLIC_URL') ?? defaultPublicUrl(host, port);
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    publicUrl = publicUrl.replace(/\/+$/, '');
  } catch {
    problems.push(`MESSO_PUBLIC_URL=${publicUrl}: must be an http(s) URL such as https://webhooks.comune.example.it`);
  }

  const logLevel = (get('MESSO_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`MESSO_LOG_LEVEL=${logLevel}: must be one of ${LOG_LEVELS.join(', ')}`);

  let retrySchedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_SEC;
  const rawSchedule = get('MESSO_RETRY_SCHEDULE');
  if (rawSchedule !== undefined) {
    try {
      retrySchedule = parseRetrySchedule(rawSchedule);
    } catch (err) {
      problems.push(`MESSO_RETRY_SCHEDULE=${rawSchedule}: ${(err as Error).message}`);
    }
  }

  let allowedTargets: string[] = [];
  const rawTargets = get('MESSO_ALLOWED_TARGETS');
  if (rawTargets !== undefined) {
    try {
      allowedTargets = parseCidrList(rawTargets);
    } catch (err) {
      problems.push(`MESSO_ALLOWED_TARGETS: ${(err as Error).message}`);
    }
  }

  // Node checks these timeouts on a timer (every 30 s by default; see src/server.ts): a minute at most.
  const serverRequestTimeoutMs = int('MESSO_SERVER_REQUEST_TIMEOUT_MS', 30_000, 100, 60_000);
  const cloudEventsTypePrefix = (get('MESSO_CLOUDEVENTS_TYPE_PREFIX') ?? DEFAULT_CLOUDEVENTS_TYPE_PREFIX).replace(/\.+$/, '');
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(cloudEventsTypePrefix) || cloudEventsTypePrefix.length > 100) {
    problems.push(`MESSO_CLOUDEVENTS_TYPE_PREFIX=${cloudEventsTypePrefix}: must be a reverse-DNS name such as it.comune.bugliano (letters, digits, - and .)`);
  }
  const workerPort = get('MESSO_WORKER_PORT') === undefined ? null : int('MESSO_WORKER_PORT', 0, 0, 65535);

  const config: Config = {
    port,
    host,
    databaseUrl,
    adminToken,
    encryptionKey,
    dataDir,
    publicUrl,
    publicUrlSet: get('MESSO_PUBLIC_URL') !== undefined,
    logLevel,
    bodyLimit: size('MESSO_BODY_LIMIT', 5 * 1024 * 1024),
    retrySchedule,
    connectTimeoutMs: int('MESSO_CONNECT_TIMEOUT_MS', 5000, 1, 120_000),
    requestTimeoutMs: int('MESSO_REQUEST_TIMEOUT_MS', 15_000, 1, 300_000),
    endpointConcurrency: int('MESSO_ENDPOINT_CONCURRENCY', 10, 1, 1000),
    originConcurrency: int('MESSO_ORIGIN_CONCURRENCY', 20, 1, 10_000),
    allowedTargets,
    secretOverlapSec: int('MESSO_SECRET_OVERLAP_SEC', 24 * 3600, 0, 30 * 24 * 3600),
    autoDisableAfterSec: int('MESSO_AUTO_DISABLE_AFTER_SEC', 5 * 24 * 3600, 1, 365 * 24 * 3600),
    dispatcher: bool('MESSO_DISPATCHER', true),
    inspectorPublic: bool('MESSO_INSPECTOR_PUBLIC', false),
    inspectorBodyLimit: size('MESSO_INSPECTOR_BODY_LIMIT', 10 * 1024 * 1024),
    inspectorMaxRequests: int('MESSO_INSPECTOR_MAX_REQUESTS', 500, 1, 100_000),
    inspectorBinTtlSec: int('MESSO_INSPECTOR_BIN_TTL_SEC', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    retentionDays: int('MESSO_RETENTION_DAYS', 30, 1, 3650),
    pollIntervalMs: int('MESSO_POLL_INTERVAL_MS', 1000, 10, 60_000),
    serverRequestTimeoutMs,
    // Node lets a larger headers timeout win over the request timeout: never larger.
    serverHeadersTimeoutMs: Math.min(int('MESSO_SERVER_HEADERS_TIMEOUT_MS', 10_000, 100, 60_000), serverRequestTimeoutMs),
    serverKeepAliveTimeoutMs: int('MESSO_SERVER_KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
    maxConnections: int('MESSO_MAX_CONNECTIONS', 2000, 1, 1_000_000),
    maxConnectionsPerAddress: int('MESSO_MAX_CONNECTIONS_PER_ADDRESS', 100, 1, 1_000_000),
    apiRequestsPerMinute: int('MESSO_API_REQUESTS_PER_MINUTE', 1200, 0, 10_000_000),
    authFailuresPerMinute: int('MESSO_AUTH_FAILURES_PER_MINUTE', 20, 0, 1_000_000),
    anonymousBinsPerHour: int('MESSO_ANONYMOUS_BINS_PER_HOUR', 20, 0, 1_000_000),
    maxWebhooksPerTenant: int('MESSO_MAX_WEBHOOKS_PER_TENANT', 100, 1, WEBHOOKS_PER_TENANT_CEILING),
    maxDeliveriesPerBatch: int('MESSO_MAX_DELIVERIES_PER_BATCH', 1_000_000, 1, 100_000_000),
    // The store's DEFAULT_FANOUT_CHUNK (the store cannot be imported here: it imports this file).
    fanoutChunk: int('MESSO_FANOUT_CHUNK', 1000, 1, 1_000_000),
    maxBinsPerTenant: int('MESSO_MAX_BINS_PER_TENANT', 100, 1, 1_000_000),
    maxCapturedBytesPerTenant: size('MESSO_MAX_CAPTURED_BYTES_PER_TENANT', 512 * 1024 * 1024),
    metricsPort: int('MESSO_METRICS_PORT', 0, 0, 65535) || null,
    metricsWebhookLabels: bool('MESSO_METRICS_WEBHOOK_LABELS', false),
    cloudEventsTypePrefix,
    workerPort,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
