import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineOwn, phpArrays, phpEncode, phpJsonEncode, phpNumber, stringifiable, withKeyOrder } from './php-json.js';

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

describe('phpJsonEncode by JSON.stringify', () => {
  // A seeded generator (mulberry32): a failure names its seed and can be run again.
  const generator = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const STRINGS = ['', 'a', 'https://a.it/x?y=1', 'identità', '18 🙂 — ok', 'a"b\\c\n\t\u0001', '\ud800', '\u007f\u2028', '</script>'];
  const NUMBERS = [0, -0, 7, -42, 2 ** 53, 2 ** 63, -(2 ** 63), 2 ** 63 - 2048, 1e15, 1e15 - 0.5, 1e16 + 2, 1e17, 1e21, 0.001, 0.000999, 1e-4, 5e-5, 0.1,
    318.5, -2.5e-9, NaN, Infinity, -Infinity];
  const KEYS = ['a', 'b', '0', '1', '2', '10', '', 'x/y', 'città', 'toJSON', '__proto__'];

  function value(random: () => number, depth: number): unknown {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const r = random();
    if (depth > 3 || r < 0.35) {
      return pick<unknown>([pick(STRINGS), pick(NUMBERS), (random() - 0.5) * 10 ** Math.floor(random() * 30 - 10), true, false, null,
        undefined, () => 1, Symbol('s'), 1n]);
    }
    if (r < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => value(random, depth + 1));
    if (r < 0.53) return new Date(0);
    const o: Record<string, unknown> = random() < 0.1 ? Object.create(null) : {};
    const n = Math.floor(random() * 5);
    for (let i = 0; i < n; i++) defineOwn(o, pick(KEYS), value(random, depth + 1));
    if (random() < 0.05) withKeyOrder(o, Object.keys(o).reverse());
    return o;
  }

  it('writes what the value-by-value writer writes, whichever path a value takes', () => {
    const random = generator(20261201);
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = value(random, 0);
      if (typeof v === 'object' && v !== null && stringifiable(v)) fast++;
      let expected: string;
      try {
        expected = phpEncode(v);
      } catch {
        continue;
      }
      assert.equal(phpJsonEncode(v), expected, `value ${i}: ${String(expected)}`);
    }
    // Both paths were taken: the comparison above means something for each.
    assert.ok(fast > 1_000 && fast < 19_000, `${fast} of 20,000 took JSON.stringify`);
  });

  it('takes JSON.stringify for a pratica as the core writes it', () => {
    const pratica = { id: 'a1', data: { 'applicant.data.email_address': 'a@b.it' }, compiled_modules: [], links: [{ url: 'https://x.it/a' }], status: '2000', creation_time: 1796166817, outcome: null };
    assert.equal(stringifiable(pratica), true);
    assert.equal(phpJsonEncode(pratica), phpEncode(pratica));
  });
});
