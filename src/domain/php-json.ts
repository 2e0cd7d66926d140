/**
 * JSON as the OpenCity core writes it.
 *
 * The core builds every body out of PHP arrays and ends with PHP's `json_encode`
 * (`WebhookService`: `json_encode(json_decode($jms, true))`). That has consequences a receiver
 * can see, and messo reproduces all of them for `opencity` bodies:
 * - a PHP array is a list when its keys are 0..n-1 in order, otherwise an object, so an empty
 *   object is written `[]` and `{"0": a, "1": b}` is written `[a, b]`;
 * - `/` is written `\/`, every character outside ASCII as `\uXXXX` (astral ones as a surrogate
 *   pair), lower-case hex;
 * - floats in PHP's form: `5.0e-5` and `1.0e+20` where JavaScript says `5e-5` and `1e+20`;
 * - objects keep their insertion order, even for integer-like keys (`{"email": …, "0": …}`),
 *   which JavaScript objects cannot: builders record such an order with `withKeyOrder`.
 *
 * Held against the core's own output: test/fixtures/opencity-reference (bytes equal).
 */

const keyOrders = new WeakMap<object, readonly string[]>();

/** Records the order a PHP array had, for an object whose keys JavaScript would reorder. */
export function withKeyOrder<T extends object>(object: T, keys: readonly string[]): T {
  keyOrders.set(object, keys);
  return object;
}

/** Own keys in PHP order: the recorded one when there is one, else JavaScript's. */
export function phpKeys(object: object): readonly string[] {
  return keyOrders.get(object) ?? Object.keys(object);
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isListKeys = (keys: readonly string[]): boolean => keys.every((k, i) => k === String(i));

/**
 * An own data property, whatever the key: no setter ever runs. `__proto__` is the only key an
 * assignment would not store as an own property (it is the one accessor on Object.prototype), so
 * only it takes the slow path; defineProperty on every key made rendering 10x slower.
 */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/**
 * A value as it is once it has been a PHP array: objects with keys 0..n-1 (in order) become
 * lists, empty objects become `[]`, recorded key orders are kept. Copies; the input is untouched.
 */
export function phpArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(phpArrays);
  if (!isPlainObject(value)) return value;
  const keys = phpKeys(value).filter((k) => value[k] !== undefined);
  if (isListKeys(keys)) return keys.map((k) => phpArrays(value[k]));
  const out: Record<string, unknown> = {};
  for (const k of keys) defineOwn(out, k, phpArrays(value[k]));
  return keyOrders.has(value) ? withKeyOrder(out, keys) : out;
}

/**
 * `json_encode` of PHP, for the values JSON can carry. Most bodies hold nothing PHP writes
 * differently from JavaScript but `/` and characters outside ASCII (no empty objects, no lists
 * kept as objects, no recorded key order, no double in exponent form): those are written by
 * `JSON.stringify`, then escaped, after a walk that checks it (`stringifiable`). The rest are
 * written by `phpEncode`, value by value. The bench's pratica (2.3 KB), both ways timed in turn
 * in one process: 18.0–18.5 µs and 16 KB of garbage value by value (as before this path), 16.4–
 * 16.8 µs and 5 KB this way: it is the garbage that this saves.
 */
export function phpJsonEncode(value: unknown): string {
  if (typeof value === 'object' && value !== null && stringifiable(value)) return phpEscapes(JSON.stringify(value));
  return phpEncode(value);
}

/**
 * True when `JSON.stringify(value)` writes what `phpEncode` would, once `phpEscapes` has run on
 * it. Anything it is not sure of is false, and goes value by value: objects that are not plain
 * (a Date has toJSON), empty ones and those whose first written key is `0` (PHP may write a
 * list), recorded key orders, `toJSON` keys, symbols and bigints, and doubles outside the range
 * where both languages write plain decimals.
 */
export function stringifiable(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'function':
      return true;
    case 'number':
      return plainNumber(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++) if (!stringifiable(value[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || keyOrders.has(value)) return false;
      const o = value as Record<string, unknown>;
      let first = true;
      for (const k in o) {
        // An inherited key (a polluted prototype) is not written; JSON.stringify would call a toJSON.
        if (!Object.hasOwn(o, k) || k === 'toJSON') return false;
        const v = o[k];
        if (!written(v)) continue;
        if ((first && k === '0') || !stringifiable(v)) return false;
        first = false;
      }
      return !first;
    }
    default:
      return false;
  }
}

/**
 * Numbers JavaScript and PHP write alike: safe integers (past 2^53 PHP writes an int's every
 * digit, JavaScript the shortest that reads back), doubles from 0.001 to 10^15 (PHP goes to
 * exponent form below 0.0001 and from 10^17, JavaScript below 10^-6 and from 10^21), and the
 * non-finite ones (null in both).
 */
function plainNumber(n: number): boolean {
  if (Number.isInteger(n)) return Number.isSafeInteger(n);
  const abs = Math.abs(n);
  return !Number.isFinite(n) || (abs >= 1e-3 && abs < 1e15);
}

/** PHP's escapes on JSON that JavaScript wrote: `\/`, and `\uXXXX` outside ASCII. */
function phpEscapes(json: string): string {
  return json.replaceAll('/', '\\/').replace(NON_ASCII, unicodeEscape);
}

const NON_ASCII = /[\u0080-\uffff]/g;
const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `json_encode`, value by value: for what phpJsonEncode cannot give to JSON.stringify. */
export function phpEncode(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return phpString(value);
    case 'number':
      return phpNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? phpList(value) : phpObject(value as Record<string, unknown>);
    default:
      return 'null';
  }
}

function phpList(values: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += phpEncode(values[i]);
  }
  return `${out}]`;
}

/** A PHP array with keys: a list when the keys written are 0..n-1 in order, else an object. */
function phpObject(o: Record<string, unknown>): string {
  const keys = phpKeys(o);
  let list = true;
  let n = 0;
  for (const k of keys) {
    if (!written(o[k])) continue;
    if (k !== String(n)) {
      list = false;
      break;
    }
    n++;
  }
  let out = list ? '[' : '{';
  let first = true;
  for (const k of keys) {
    const v = o[k];
    if (!written(v)) continue;
    if (!first) out += ',';
    first = false;
    if (!list) out += `${phpString(k)}:`;
    out += phpEncode(v);
  }
  return out + (list ? ']' : '}');
}

/** Keys whose value is undefined or a function are left out, as JSON.stringify leaves them. */
const written = (v: unknown): boolean => v !== undefined && typeof v !== 'function';

/** Printable ASCII without `"`, `\\` and `/`: written as it is (most strings in a body). */
const PLAIN = /^[\x20\x21\x23-\x2e\x30-\x5b\x5d-\x7e]*$/;

export function phpString(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  return phpEscapes(JSON.stringify(s));
}

/**
 * A JSON integer is a PHP int (written as is) up to 2^63; anything else is a double, which PHP
 * writes with the shortest round-trip digits, like JavaScript, but in exponent form when the
 * decimal point falls before the 4th decimal or after the 17th digit, with a `.0` kept.
 */
export function phpNumber(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return n.toFixed(0);
  const [mantissa, exp] = n.toExponential().split('e');
  const e = Number(exp);
  const decpt = e + 1;
  if (decpt >= -3 && decpt <= 17) return String(n);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}e${e < 0 ? '-' : '+'}${Math.abs(e)}`;
}
