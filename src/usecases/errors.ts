/**
 * Errors a use case raises about its input. They carry no HTTP: the API's error handler
 * (http-common/errors.ts) answers them as problem+json, and the CLI prints them as a line.
 */

/** The input is not acceptable; `field` is its dotted path (400 validation). */
export class InputError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
  }
}

/** A quota of the tenant (or the sender) is used up (429 quota_exceeded); `field` names what. */
export class QuotaError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** The thing the input names does not exist for this tenant (404). */
export class MissingError extends Error {
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

/**
 * Refuses key paths with a segment `__proto__`, `constructor` or `prototype` anywhere in `value`
 * (issue 12): they have no use in messo's data and are how prototype pollution is attempted.
 * `field` is the path of `value` in the request; the error names the first bad key path.
 */
export function refuseUnsafeKeys(paths: string[], field: string): void {
  if (paths.length === 0) return;
  const at = field ? `${field}.${paths[0]}` : paths[0];
  throw new InputError(at, 'a key path may not name __proto__, constructor or prototype');
}
