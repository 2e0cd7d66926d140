/**
 * One catalogue of problem types (RFC 7807). Every error a client sees is one of these, as
 * application/problem+json. A 5xx tells the client nothing but the request id; the log has all.
 */
export const PROBLEMS = {
  validation: { status: 400, title: 'The request is not valid' },
  bad_cursor: { status: 400, title: 'The cursor is not valid' },
  malformed_json: { status: 400, title: 'The body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed with these credentials' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'The request did not arrive in time' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  illegal_transition: { status: 409, title: 'This status change is not allowed' },
  duplicate: { status: 409, title: 'Already exists' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  quota_exceeded: { status: 429, title: 'Quota exceeded' },
  rate_limited: { status: 429, title: 'Too many requests' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: { field?: string; errors?: FieldError[]; [k: string]: unknown } = {},
  ) {
    super(detail);
    this.status = PROBLEMS[code].status;
  }
}

export const notFound = (what: string): ApiError => new ApiError('not_found', `${what} not found`);

export const invalid = (field: string, message: string): ApiError =>
  new ApiError('validation', `${field}: ${message}`, { field, errors: [{ field, message }] });

export function problemBody(code: ProblemCode, detail: string, requestId: string, extra: Record<string, unknown> = {}) {
  return {
    type: `urn:messo:problem:${code}`,
    title: PROBLEMS[code].title,
    status: PROBLEMS[code].status,
    detail,
    ...extra,
    request_id: requestId,
  };
}
