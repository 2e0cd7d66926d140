/**
 * Configuration: defaults, then MESSO_* environment variables, validated once at start. Every
 * bad value gives one clear line; start-up stops with all of them at once.
 */
import { isIP } from 'node:net';
import { DEFAULT_RETRY_SCHEDULE_SEC, parseRetrySchedule } from './domain/retry-policy.js';
import { parseCidrList } from './domain/cidr.js';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  adminToken: string | null;
  publicUrl: string;
  /** False when publicUrl was derived from host and port (see withPort). */
  publicUrlSet: boolean;
  logLevel: string;
  bodyLimit: number;
  retrySchedule: readonly number[];
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  endpointConcurrency: number;
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

  const config: Config = {
    port,
    host,
    databaseUrl,
    adminToken,
    publicUrl,
    publicUrlSet: get('MESSO_PUBLIC_URL') !== undefined,
    logLevel,
    bodyLimit: size('MESSO_BODY_LIMIT', 5 * 1024 * 1024),
    retrySchedule,
    connectTimeoutMs: int('MESSO_CONNECT_TIMEOUT_MS', 5000, 1, 120_000),
    requestTimeoutMs: int('MESSO_REQUEST_TIMEOUT_MS', 15_000, 1, 300_000),
    endpointConcurrency: int('MESSO_ENDPOINT_CONCURRENCY', 10, 1, 1000),
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
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
