/**
 * The one way the dashboard talks to messo: the public HTTP API, with the session's bearer
 * token and, for the admin, the chosen tenant in X-Tenant-Id. Every failure becomes an
 * ApiProblem (RFC 7807 fields, plus `field` when the server names the input at fault). A 401
 * ends the session: the app goes back to sign-in.
 */
import { clearSession, loadSession, touchSession } from './session.js';

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly field: string | null = null,
    readonly errors: FieldProblem[] = [],
    readonly requestId: string | null = null,
    /** The catalogue code, from `type` (urn:messo:problem:<code>). */
    readonly code: string | null = null,
  ) {
    super(detail || title);
  }
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

let unauthorized: () => void = () => undefined;

/** Called on any 401: the app clears its state and shows sign-in. */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** Send X-Tenant-Id for the admin (default true); false for calls about tenants themselves. */
  tenant?: boolean;
  signal?: AbortSignal;
  /** What to read from a successful answer. */
  as?: 'json' | 'text' | 'blob' | 'response';
  /** Use this token instead of the session's (sign-in checks a token before keeping it). */
  token?: string;
  headers?: Record<string, string>;
}

export function authHeaders(opts: Pick<CallOptions, 'tenant' | 'token'> = {}): Record<string, string> {
  const s = loadSession();
  const token = opts.token ?? s?.token;
  const h: Record<string, string> = {};
  if (token) h.authorization = `Bearer ${token}`;
  if (!opts.token && opts.tenant !== false && s?.kind === 'admin' && s.tenantId) h['x-tenant-id'] = s.tenantId;
  return h;
}

export async function call<T = unknown>(path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...authHeaders(opts), ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, { method: opts.method ?? 'GET', headers, body, signal: opts.signal, credentials: 'omit' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiProblem(0, 'network', (err as Error).message);
  }
  if (!res.ok) throw await problemOf(res, !opts.token);
  if (!opts.token) touchSession();
  if (opts.as === 'response') return res as T;
  if (opts.as === 'text') return (await res.text()) as T;
  if (opts.as === 'blob') return (await res.blob()) as T;
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Reads a failed answer; a 401 on the session's own token also ends the session. */
export async function problemOf(res: Response, sessionToken = true): Promise<ApiProblem> {
  let p: Record<string, unknown> = {};
  try {
    p = JSON.parse(await res.text()) as Record<string, unknown>;
  } catch {
    /* not problem+json (a proxy's page): status alone */
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const errors = Array.isArray(p.errors) ? (p.errors as FieldProblem[]).filter((e) => e && typeof e.field === 'string') : [];
  const code = /^urn:messo:problem:(\w+)$/.exec(str(p.type) ?? '')?.[1] ?? null;
  const problem = new ApiProblem(res.status, str(p.title) ?? res.statusText, str(p.detail) ?? '', str(p.field), errors, str(p.request_id), code);
  if (res.status === 401 && sessionToken) {
    clearSession();
    unauthorized();
  }
  return problem;
}

/** The message for one form field, when the problem names it (or a field inside it). */
export function fieldMessage(problem: unknown, field: string): string | null {
  if (!(problem instanceof ApiProblem)) return null;
  const hit = (f: string | null) => f !== null && (f === field || f.startsWith(`${field}.`));
  const e = problem.errors.find((x) => hit(x.field));
  if (e) return e.message;
  if (hit(problem.field)) return problem.detail.replace(new RegExp(`^${escapeRe(problem.field!)}: `), '');
  return null;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Query string from the non-empty values. */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
