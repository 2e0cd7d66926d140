/** Schemas shared by several route plugins; each plugin keeps its own body schemas. */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { parseTime } from '../domain/dates.js';
import { ApiError } from './errors.js';

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'page size' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
};

export const AnyObject = Type.Object({}, { additionalProperties: true });

/** Representation version: `?version=N` or `X-Accept-Version: N`; default 1. */
export function requestedVersion(request: FastifyRequest): 1 | 2 {
  const q = (request.query as { version?: unknown } | undefined)?.version;
  const h = request.headers['x-accept-version'];
  const raw = q ?? (Array.isArray(h) ? h[0] : h);
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (n !== 1 && n !== 2) {
    throw new ApiError('validation', 'version must be 1 or 2', {
      field: q !== undefined ? 'version' : 'X-Accept-Version',
      errors: [{ field: q !== undefined ? 'version' : 'X-Accept-Version', message: 'must be 1 or 2' }],
    });
  }
  return n;
}

export const VersionQuery = { version: Type.Optional(Type.Integer({ enum: [1, 2], description: 'representation version (default 1)' })) };

/** Times leave the API as ISO 8601 strings. */
export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** Parses an ISO date-time or Unix-seconds query value, naming the field when it is neither. */
export function timeParam(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTime(/^\d+$/.test(value) ? Number(value) : value);
  if (ms === null) {
    throw new ApiError('validation', `${field} must be an ISO 8601 date-time or Unix seconds`, {
      field, errors: [{ field, message: 'must be an ISO 8601 date-time or Unix seconds' }],
    });
  }
  return ms;
}
