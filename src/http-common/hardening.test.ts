import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundIntegers, jsonDepth, MAX_JSON_DEPTH, nulInUrl, tooDeep } from './hardening.js';

test('jsonDepth counts nesting without recursion, ignoring brackets in strings', () => {
  assert.equal(jsonDepth('1'), 0);
  assert.equal(jsonDepth('{"a":[1,{"b":2}]}'), 3);
  assert.equal(jsonDepth('{"a":"[[[[{{{{\\"]]]"}'), 1);
  assert.equal(jsonDepth('['.repeat(1_000_000)), 1_000_000);
  assert.equal(tooDeep(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`), null);
  assert.equal(tooDeep(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)?.extra.field, 'body');
  // Past the bracket count, the nesting decides: many brackets side by side, or in strings, pass.
  assert.equal(tooDeep(`[${'[],'.repeat(500)}{}]`), null);
  assert.equal(tooDeep(JSON.stringify({ s: '{'.repeat(500) })), null);
  const mixed = `${'{"a":['.repeat(MAX_JSON_DEPTH / 2)}1${']}'.repeat(MAX_JSON_DEPTH / 2)}`;
  assert.equal(tooDeep(mixed), null);
  assert.equal(tooDeep(`[${mixed}]`)?.extra.field, 'body', 'one level more, through objects and arrays both');
});

test('boundIntegers bounds integers without bounds, and leaves the rest alone', () => {
  const schema = { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer', minimum: 1, maximum: 5 }, c: { type: 'integer', enum: [1, 2] }, d: { type: 'string' } } };
  const q = boundIntegers(schema, 'querystring') as { properties: Record<string, Record<string, unknown>> };
  assert.deepEqual(q.properties.a, { type: 'integer', minimum: -2_147_483_647, maximum: 2_147_483_647 });
  assert.deepEqual(q.properties.b, { type: 'integer', minimum: 1, maximum: 5 });
  assert.deepEqual(q.properties.c, { type: 'integer', enum: [1, 2] });
  assert.deepEqual(q.properties.d, { type: 'string' });
  const b = boundIntegers(schema, 'body') as { properties: Record<string, Record<string, unknown>> };
  assert.equal(b.properties.a.maximum, Number.MAX_SAFE_INTEGER);
  assert.equal((schema.properties.a as Record<string, unknown>).maximum, undefined, 'the given schema is not changed');
});

test('nulInUrl names the parameter holding U+0000', () => {
  assert.equal(nulInUrl({ id: 'a\u0000' }, {})?.extra.field, 'id');
  assert.equal(nulInUrl({}, { status: ['1', 'x\u0000'] })?.extra.field, 'status');
  assert.equal(nulInUrl({ '*': 'x/\u0000' }, {})?.extra.field, 'path');
  assert.equal(nulInUrl({ id: 'a' }, { q: 'b' }), null);
});
