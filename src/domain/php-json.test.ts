import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { phpArrays, phpJsonEncode, phpNumber, withKeyOrder } from './php-json.js';

// Expected strings are what PHP 8.2 printed for json_encode(json_decode(<the JSON of the value>)):
// the core decodes before it encodes, so -0 arrives as the int 0 and 1e20 as a double.
describe('phpJsonEncode', () => {
  it('escapes slashes and everything outside ASCII, astral characters as surrogate pairs', () => {
    assert.equal(phpJsonEncode('https://a.it/x'), '"https:\\/\\/a.it\\/x"');
    assert.equal(phpJsonEncode('carta identità'), '"carta identit\\u00e0"');
    assert.equal(phpJsonEncode('18 🙂 — ok'), '"18 \\ud83d\\ude42 \\u2014 ok"');
    assert.equal(phpJsonEncode('a"b\\c\n\t\u0001'), '"a\\"b\\\\c\\n\\t\\u0001"');
  });

  it('writes numbers as PHP ints and doubles', () => {
    const cases: [number, string][] = [
      [0, '0'], [-0, '0'], [20232024, '20232024'], [318.5, '318.5'], [100.25, '100.25'], [0.1, '0.1'],
      [0.0001, '0.0001'], [0.00005, '5.0e-5'], [1.5e-7, '1.5e-7'], [1e20, '1.0e+20'], [123456789.125, '123456789.125'], [-2.5e-9, '-2.5e-9'],
    ];
    for (const [n, s] of cases) assert.equal(phpNumber(n), s, String(n));
  });

  it('writes PHP arrays: [] for an empty object, a list for keys 0..n-1 in order, else an object', () => {
    assert.equal(phpJsonEncode({}), '[]');
    assert.equal(phpJsonEncode({ 0: 'a', 1: 'b' }), '["a","b"]');
    assert.equal(phpJsonEncode({ 1: 'a', 2: 'b' }), '{"1":"a","2":"b"}');
    assert.equal(phpJsonEncode(withKeyOrder({ 0: 'b', x: 'a' }, ['x', '0'])), '{"x":"a","0":"b"}');
    assert.equal(phpJsonEncode([null, true, false, { a: [] }]), '[null,true,false,{"a":[]}]');
  });

  it('phpArrays gives the same values as plain JavaScript, safe for any key', () => {
    const input = JSON.parse('{"a":{},"b":{"0":1,"1":2},"__proto__":{"x":1}}');
    const out = phpArrays(input) as Record<string, unknown>;
    assert.deepEqual(out.a, []);
    assert.deepEqual(out.b, [1, 2]);
    assert.equal(Object.getPrototypeOf(out), Object.prototype, 'an own __proto__ key stays a key');
    assert.deepEqual(Object.keys(out), ['a', 'b', '__proto__']);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});
