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

/** The thing the input names does not exist for this tenant (404). */
export class MissingError extends Error {
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}
