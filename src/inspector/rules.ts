/**
 * Response rules of a bin: what `/in/<id>` answers. A bin holds a list of steps, each a status
 * with optional headers, body and delay, and optionally `times`:
 *
 *   [{ status: 500, times: 3 }, { status: 200 }]   → 500, 500, 500, then 200 for ever
 *   [{ status: 410 }]                              → always 410
 *   [{ status: 503, times: 2 }]                    → 503 twice, then the default answer
 *
 * A step without `times` answers every request from then on, so a step after it could never
 * be reached: that is refused rather than silently ignored. Pure: no I/O.
 */
import type { ResponseStep } from '../store/index.js';

export const MAX_DELAY_MS = 30_000;
export const MAX_STEPS = 20;
export const MAX_RULE_BODY_CHARS = 256 * 1024;

/**
 * Headers a rule may not set: they belong to HTTP framing, or to the sandbox that keeps a
 * scripted HTML answer from running with the messo origin's privileges.
 */
export const RESERVED_RESPONSE_HEADERS = new Set([
  'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'proxy-connection', 'content-security-policy', 'x-content-type-options', 'x-request-id',
  // The bin answers on messo's own origin: these would act on the dashboard's cookies, storage,
  // navigation or transport for every user of this server.
  'set-cookie', 'set-cookie2', 'clear-site-data', 'refresh', 'strict-transport-security',
  'service-worker-allowed', 'access-control-allow-credentials',
]);

/** A Location that stays on this origin: a path, never `//host` or `/\\host` (which browsers read as a host). */
export function sameSiteLocation(value: string): boolean {
  // Browsers drop tabs (and line breaks, refused anyway) from URLs: "/\t/host" is "//host".
  const v = value.replace(/\t/g, '').trim();
  return /^\/(?![/\\])/.test(v) || /^[?#]/.test(v);
}

/** May a rule send this header? Checked when rules are set and again when they answer. */
export function allowedResponseHeader(name: string, value: string): boolean {
  const lower = name.toLowerCase();
  if (!HEADER_NAME.test(name) || RESERVED_RESPONSE_HEADERS.has(lower) || !HEADER_VALUE.test(value)) return false;
  return lower !== 'location' || sameSiteLocation(value);
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// Visible ASCII, space, tab and obs-text; never CR, LF or NUL (header injection).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export interface RuleProblem {
  field: string;
  message: string;
}

/** Checks what a JSON schema cannot express; `prefix` is the field path, e.g. `responses`. */
export function checkResponses(steps: ResponseStep[], prefix = 'responses'): RuleProblem[] {
  const problems: RuleProblem[] = [];
  steps.forEach((step, i) => {
    const at = `${prefix}.${i}`;
    if (step.times === undefined && i < steps.length - 1) {
      problems.push({ field: `${at}.times`, message: 'is required on every step but the last: a step without times answers every later request, so the steps after it would never be used' });
    }
    for (const [name, value] of Object.entries(step.headers ?? {})) {
      if (!HEADER_NAME.test(name)) problems.push({ field: `${at}.headers.${name}`, message: 'is not a valid header name' });
      else if (RESERVED_RESPONSE_HEADERS.has(name.toLowerCase())) problems.push({ field: `${at}.headers.${name}`, message: 'is set by messo and cannot be overridden' });
      if (!HEADER_VALUE.test(value)) problems.push({ field: `${at}.headers.${name}`, message: 'must not contain line breaks or control characters' });
      else if (name.toLowerCase() === 'location' && !sameSiteLocation(value)) problems.push({ field: `${at}.headers.${name}`, message: 'must be a path on this server (such as /in/<bin>/next): a bin must not send browsers off-site from messo\'s origin' });
    }
  });
  return problems;
}

/**
 * The step answering the `hit`-th request (1-based) since the rules were set, or null for the
 * default answer (no rules, or every counted step used up).
 */
export function stepFor(steps: ResponseStep[] | null, hit: number): { step: ResponseStep; index: number } | null {
  if (!steps || steps.length === 0) return null;
  let used = 0;
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index];
    if (step.times === undefined) return { step, index };
    used += step.times;
    if (hit <= used) return { step, index };
  }
  return null;
}
