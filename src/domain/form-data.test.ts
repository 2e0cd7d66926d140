import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { flattenFormData, formDataV1, isUnsafeKeyPath, isUploadList, nestFormData, unsafeKeyPaths } from './form-data.js';
import { phpArrays, phpJsonEncode } from './php-json.js';

interface NestingCase {
  name: string;
  flattened: [string, unknown][];
  v1_pairs: [string, unknown][];
  v1: string;
  v2: string;
}

// The core's own answers (decorateDematerializedForms / …V2 run in PHP, see the README there).
const cases = JSON.parse(readFileSync(new URL('../../../test/fixtures/opencity-reference/v2-nesting-cases.json', import.meta.url), 'utf8')) as NestingCase[];
const PROTO_CASE = 'prototype-like segments are ordinary keys to the core';

const mapOf = (pairs: [string, unknown][]) => Object.fromEntries(pairs);

describe('version-2 nesting, case by case against the core', () => {
  for (const c of cases.filter((x) => x.name !== PROTO_CASE)) {
    it(c.name, () => {
      // messo starts where the producer leaves it: the version-1 map (uploads decorated, dates formatted).
      const v1 = flattenFormData(mapOf(c.v1_pairs));
      assert.equal(phpJsonEncode(formDataV1(v1)), c.v1, 'version 1');
      assert.equal(phpJsonEncode(nestFormData(v1, 2)), c.v2, 'version 2');
    });
  }

  it('has every edge the brief names: lists, gaps, mixed keys, data segments, uploads, dates', () => {
    assert.ok(cases.length >= 20);
    for (const word of ['gap', 'mixed', 'data segment', 'upload', 'date', 'lists of lists']) {
      assert.ok(cases.some((c) => c.name.includes(word)), word);
    }
  });

  it('ignores a path going on below a value, where the core fails (PHP 8 throws a TypeError)', () => {
    const v2 = nestFormData({ 'a.data.b': 5, 'a.b.c': 1, 's': 'text', 's.x': 2, 't': true, 't.y': 3 });
    assert.deepEqual(v2, { a: { b: 5 }, s: 'text', t: true });
  });

  it('makes a new level below null or false, as PHP 7.4 does', () => {
    assert.deepEqual(nestFormData({ 'a.b': null, 'a.b.c': 1, 'f': false, 'f.g': 2 }), { a: { b: { c: 1 } }, f: { g: 2 } });
  });

  it('goes on into a list value as into a level', () => {
    assert.deepEqual(nestFormData({ a: [{ x: 1 }], 'a.0.y': 2, 'a.1': 'z' }), { a: [{ x: 1, y: 2 }, 'z'] });
  });

  it('keeps key order where JavaScript objects would not, for the body writer', () => {
    const v2 = nestFormData({ 'p.email': true, 'p.0': false, 'q.2': 'b', 'q.1': 'a' });
    assert.equal(phpJsonEncode(v2), '{"p":{"email":true,"0":false},"q":{"2":"b","1":"a"}}');
    assert.equal(phpJsonEncode(phpArrays(v2)), '{"p":{"email":true,"0":false},"q":{"2":"b","1":"a"}}', 'phpArrays keeps the order');
  });
});

describe('flattenFormData', () => {
  it('keeps a flat version-1 map as it is, list values included', () => {
    const flat = { 'applicant.data.name': 'Mario', 'anni.0.x': 1, doc: [{ id: 'f' }], files: [], note: null };
    assert.deepEqual(flattenFormData(flat), flat);
  });

  it('descends plain objects and keeps anything else as the value at the path', () => {
    assert.deepEqual(flattenFormData({
      applicant: { data: { completename: { data: { name: 'Mario' } } } },
      'child.data': { name: 'Giulia' },
      anni: [{ annualita: 2024 }],
      empty: {},
      privacy: true,
    }), {
      'applicant.data.completename.data.name': 'Mario',
      'child.data.name': 'Giulia',
      anni: [{ annualita: 2024 }],
      privacy: true,
    });
  });

  it('reads the old nested documents back into the paths they came from', () => {
    // What messo stored before: nestData of the flat keys, numeric segments as object keys.
    const old = { applicant: { data: { name: 'Mario' } }, anni: { 0: { x: 1 }, 1: { x: 2 } } };
    assert.deepEqual(flattenFormData(old), { 'applicant.data.name': 'Mario', 'anni.0.x': 1, 'anni.1.x': 2 });
  });

  it('takes a list (a PHP array with keys 0..n-1) and treats anything else as no data', () => {
    assert.deepEqual(flattenFormData(['a', 'b']), { 0: 'a', 1: 'b' });
    for (const v of [null, undefined, 'x', 3, true]) assert.deepEqual(flattenFormData(v), {});
  });
});

describe('upload fields', () => {
  const file = (id: string, version = 1) => ({
    id, name: 'x.pdf', url: `https://c.example.it/lang/api/applications/a/attachments/${id}?version=${version}`,
    originalName: 'x.pdf', description: 'Allegato', protocol_required: true,
  });

  it('are the lists prepareFormioFile makes, and only those', () => {
    assert.ok(isUploadList([file('f1'), file('f2')]));
    assert.ok(!isUploadList([]), 'an empty list needs nothing');
    assert.ok(!isUploadList([{ ...file('f1'), size: 3 }]), 'another shape (a raw form.io file)');
    assert.ok(!isUploadList([{ ...file('f1'), url: 'https://c.example.it/lang/api/applications/a/attachments/other?version=1' }]), 'a url of another file');
    assert.ok(!isUploadList(['a']));
  });

  it('say the representation version in their urls', () => {
    const v2 = nestFormData({ 'x.data.doc': [file('f1')] }, 2) as { x: { doc: { url: string }[] } };
    assert.match(v2.x.doc[0].url, /\/attachments\/f1\?version=2$/);
    assert.match((formDataV1({ doc: [file('f1', 2)] }).doc as { url: string }[])[0].url, /\?version=1$/);
  });
});

describe('untrusted key paths', () => {
  it('names the unsafe segments', () => {
    for (const p of ['__proto__', '__proto__.x', 'a.constructor.prototype', 'a.prototype', 'a.b.__proto__']) assert.ok(isUnsafeKeyPath(p), p);
    for (const p of ['a', 'proto', '__proto', 'a.constructors', 'prototypes.x', 'a..b', '']) assert.ok(!isUnsafeKeyPath(p), p);
  });

  it('lists them with their full paths, flat or nested, for a 400 that names the field', () => {
    const input = JSON.parse('{"ok":1,"__proto__.hasOwnProperty":1,"a":{"constructor":{"x":1},"b":[{"__proto__":{"y":1}}]}}');
    assert.deepEqual(unsafeKeyPaths(input), ['__proto__.hasOwnProperty', 'a.constructor', 'a.b.0.__proto__']);
    assert.deepEqual(unsafeKeyPaths({ a: 1 }), []);
  });

  it('are dropped, and nothing reaches Object.prototype', () => {
    const attacks = [
      '{"__proto__.hasOwnProperty":1}',
      '{"__proto__.authorization":"Bearer x"}',
      '{"__proto__":{"authorization":"Bearer y"}}',
      '{"constructor.prototype.isAdmin":true}',
      '{"a.__proto__.polluted":1,"a":{"__proto__":{"polluted":2}}}',
      '{"x":[{"__proto__":{"polluted":3}}],"y.data.prototype":4}',
    ];
    for (const text of attacks) {
      const input = JSON.parse(text) as Record<string, unknown>;
      const flat = flattenFormData(input);
      const v2 = nestFormData({ ...flat, ...input }, 2);
      const v1 = formDataV1({ ...flat, ...input });
      for (const value of [flat, v2, v1, phpArrays(v2), { ...(v2 as object) }]) {
        assert.doesNotThrow(() => JSON.stringify(value));
        assert.ok(!JSON.stringify(value).includes('polluted') && !JSON.stringify(value).includes('Bearer'), `${text} → ${JSON.stringify(value)}`);
      }
      const probe: Record<string, unknown> = {};
      assert.equal(probe.authorization, undefined);
      assert.equal(probe.polluted, undefined);
      assert.equal(probe.isAdmin, undefined);
      assert.equal(typeof probe.hasOwnProperty, 'function');
      assert.equal(Object.getPrototypeOf(flat), Object.prototype);
    }
  });
});
