/**
 * Request validation. Bodies are checked strictly: no type coercion (`"2000"` is not a status
 * code) and unknown fields are refused rather than silently dropped, so a typo in a field name
 * is an error the client sees. Query strings, params and headers are text by nature and are
 * coerced to the declared types.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from './errors.js';
import { boundIntegers } from './hardening.js';

function makeAjv(coerce: boolean) {
  const ajv = new Ajv.default({
    allErrors: true,
    coerceTypes: coerce ? 'array' : false,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  // Integers without bounds get the ones the stores can hold: never a 500 from a huge number.
  return ajv.compile(boundIntegers(schema, httpPart) as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

/** What Ajv (and Fastify, passing them on) says about one failed check. */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Turns Ajv errors into `{ field, message }` with the field as a dotted path. */
export function fieldErrors(errors: readonly ValidationIssue[], part: string): FieldError[] {
  return errors.map((e) => {
    const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let field = base;
    let message = e.message ?? 'is not valid';
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      field = base ? `${base}.${extra}` : extra;
      message = 'is not a known field';
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      field = base ? `${base}.${missing}` : missing;
      message = 'is required';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    return { field: field || part, message };
  });
}
