/**
 * Is this error the store being out of reach (not the request being wrong)? Such a failure is
 * the server's condition, not the client's: the API answers 503 with Retry-After, never 500.
 *
 * PostgreSQL: the connection refused, reset or timed out; the pool's "Connection terminated";
 * SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown,
 * cannot connect now), 53300 (too many connections), 3D000 (database gone). SQLite: the file
 * busy or locked past the busy timeout, the handle closed (shutdown in progress).
 */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '3D000']);
const SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL']);
const MESSAGES = [
  /^Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Cannot use a pool after calling end/i,
  /Client has encountered a connection error/i,
  /The database connection is not open/i,
];

export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08') && code.length === 5 || SQLITE_CODES.has(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && MESSAGES.some((m) => m.test(message))) return true;
    // AggregateError (several addresses refused) carries its causes in `errors`.
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some((x) => isStoreUnavailable(x))) return true;
  }
  return false;
}
