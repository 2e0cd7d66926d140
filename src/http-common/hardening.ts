/**
 * What keeps bad input from ever becoming a 5xx, whichever store is behind: JSON nested too
 * deep, NUL in a path or query value (PostgreSQL text cannot hold U+0000), integers no column
 * can hold, and the answers Node's HTTP parser gives on its own (431, 408, 400), which would
 * otherwise be plain JSON rather than problem+json.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, problemBody, PROBLEMS, type ProblemCode } from './errors.js';

/** Deepest nesting of arrays and objects a JSON body may have; deeper answers 400. */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting in a JSON text, counted without parsing (iteratively: no recursion that
 * a hostile body could exhaust). Brackets inside strings do not count.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Whether `text` holds more than `limit` opening brackets, `{` and `[` (inside strings too).
 * indexOf finds each in native code; a 1.9 KB pratica holds 9 of them.
 */
function bracketsOver(text: string, limit: number): boolean {
  let n = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) if (++n > limit) return true;
  }
  return false;
}

export function tooDeep(text: string): ApiError | null {
  // No text nests deeper than it has opening brackets: most bodies are settled by counting them,
  // without jsonDepth's scan of every character. On the bench's single-POST body (1.9 KB): 0.3–1
  // µs against 5–16 µs, timed in turn (2,000 bodies, five rounds), where JSON.parse takes 5–7:
  // the body parser, 2.4–2.6 % of the API's busy time, spent about half of it on the scan.
  if (!bracketsOver(text, MAX_JSON_DEPTH)) return null;
  const depth = jsonDepth(text);
  if (depth <= MAX_JSON_DEPTH) return null;
  return new ApiError('validation', `body: nested ${depth} levels deep; at most ${MAX_JSON_DEPTH} are allowed`, {
    field: 'body', errors: [{ field: 'body', message: `must not be nested deeper than ${MAX_JSON_DEPTH} levels` }],
  });
}

/** A 400 naming the first path parameter or query value that holds U+0000, or null. */
export function nulInUrl(params: unknown, query: unknown): ApiError | null {
  for (const [part, values] of [['params', params], ['query', query]] as const) {
    if (!values || typeof values !== 'object') continue;
    for (const [k, v] of Object.entries(values)) {
      const texts = Array.isArray(v) ? v : [v];
      if (k.includes('\u0000') || texts.some((t) => typeof t === 'string' && t.includes('\u0000'))) {
        const field = part === 'params' && k === '*' ? 'path' : k.split('\u0000').join('\\u0000');
        return new ApiError('validation', `${field}: must not contain the NUL character (%00)`, { field, errors: [{ field, message: 'must not contain the NUL character' }] });
      }
    }
  }
  return null;
}

/** Largest integer any integer column holds (PostgreSQL `integer`); query integers stay within it. */
const INT4_MAX = 2_147_483_647;

/**
 * A copy of a schema in which every integer without bounds of its own gets them: ±INT4 in query
 * strings, params and headers (statuses, limits), ±2^53-1 in bodies (millisecond times are
 * larger than INT4). `?status=99999999999999999999` is then a 400 on every store.
 */
export function boundIntegers(schema: unknown, httpPart: string | undefined): unknown {
  const limit = httpPart === 'body' ? Number.MAX_SAFE_INTEGER : INT4_MAX;
  const walk = (node: unknown, depth: number): unknown => {
    if (depth > 32 || node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((n) => walk(n, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === 'enum' || k === 'const' || k === 'default' || k === 'examples' ? v : walk(v, depth + 1);
    if (out.type === 'integer' && out.enum === undefined) {
      if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = limit;
      if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = -limit;
    }
    return out;
  };
  return walk(schema, 0);
}

/** A client's X-Request-Id is kept only when it looks like an id: short, plain characters. */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function requestIdOf(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
}

const CLIENT_ERRORS: Record<string, [ProblemCode, string]> = {
  HPE_HEADER_OVERFLOW: ['headers_too_large', 'the request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: ['request_timeout', 'the request did not arrive completely in time'],
  ERR_HTTP_HEADERS_TIMEOUT: ['request_timeout', 'the request headers did not arrive in time'],
};

/**
 * Fastify's clientErrorHandler: the errors Node's parser raises before any route runs, answered
 * as problem+json (the same shape as every other problem), then the socket is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail] = CLIENT_ERRORS[err.code ?? ''] ?? ['validation', 'the request is not valid HTTP'];
  const { status } = PROBLEMS[code];
  const body = JSON.stringify(problemBody(code, detail, randomUUID()));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
