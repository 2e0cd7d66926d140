/**
 * The form data (`data`, `backoffice_data`) of a pratica, kept as the core keeps it.
 *
 * The canonical form is **version 1**: a flat map from the core's form paths to values, e.g.
 * `"applicant.data.completename.data.name": "Mario"`, `"anni.0.annualita1": 20232024`, with
 * upload fields as lists of file objects and dates already formatted, exactly as the core's
 * producer sends it. Version 2 is derived from it with the core's own algorithm
 * (`ApplicationDto::decorateDematerializedFormsV2`), which cannot be undone: it drops the `data`
 * segments, so version 1 could never be rebuilt from version 2.
 *
 * Input that is already nested (messo's own API takes nested `data`, and events stored before
 * this module hold nested documents) is flattened first, by one rule: **a plain object is
 * descended into, its keys joined to the path with `.`; anything else (string, number, boolean,
 * null, list) is a value at that path, kept as it is**. So `{"applicant": {"data": {"name": "M"}}}`
 * and `{"applicant.data.name": "M"}` are the same data, a list (an upload field, a list the core
 * kept whole) stays a list, and an object nested only to spell a path becomes that path. Empty
 * objects carry no path and disappear, as they do in the core's `arrayFlat`.
 *
 * Version 2, as the core builds it: each path is trimmed of leading and trailing dots, split on
 * `.`, every `data` segment skipped (a path ending in `data` assigns nothing, and leaves an
 * empty list behind), the rest nested; a level whose keys are 0..n-1 in order is a JSON list,
 * any other level an object keeping the order keys came in (`{"1": …, "0": …}`, `{"x": …, "0": …}`);
 * a later path that lands on the same place replaces the value there. Where the core fails (a
 * path going on below a value that is a string, number or `true`: PHP 8 throws, PHP 7.4 warns and
 * ignores it) messo keeps the value and ignores the deeper path; below `null` or `false` PHP 7.4
 * makes a new level, and so does messo. test/fixtures/opencity-reference/v2-nesting-cases.json
 * holds the core's own answers for each of these.
 *
 * Upload fields: the core knows them from the form schema, which it never publishes; in
 * version 1 they are lists of file objects `{id, name, url, originalName, description,
 * protocol_required}` whose url ends in `/attachments/<id>?version=1`. Such a list is the mark
 * of an upload field: in version 2 the same list is written with `?version=2`, as the core does.
 * Lists of other shapes (raw form.io files the core did not recognise, for one) are left alone,
 * as the core leaves them. Date fields (`…natoAIl`) are formatted the same in both versions, so
 * their version-1 value is already the right one.
 *
 * Key paths with a segment `__proto__`, `constructor` or `prototype` are dropped (the core would
 * keep them as ordinary keys; messo does not carry them, see `isUnsafeKeyPath`). Nothing here
 * ever assigns through an untrusted key: version 2 is built in Maps, and objects are made with
 * own data properties only, so no key can reach a prototype.
 */
import { defineOwn, isPlainObject, withKeyOrder } from './php-json.js';

/** The version-1 form data: the core's dot paths → values. */
export type FlatFormData = Record<string, unknown>;

const UNSAFE_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const UNSAFE_PATH = /(?:^|\.)(?:__proto__|constructor|prototype)(?:\.|$)/;

/**
 * True when a key path (dot-separated) has a segment that names a prototype link. Such keys have
 * no use in form data and are how prototype pollution is attempted; entry points that take
 * `data` should refuse them (400, naming `data.<path>`), and the domain drops them regardless.
 */
export function isUnsafeKeyPath(path: string): boolean {
  return UNSAFE_PATH.test(path);
}

/**
 * Every unsafe key path in a form-data value, flat or nested, as full dot paths (at most `limit`
 * of them): what an entry point names in its 400 answer.
 */
export function unsafeKeyPaths(input: unknown, limit = 10): string[] {
  const found: string[] = [];
  // The path is built only for a key that is found: every ingested event is walked whole (its
  // pratica's snapshot), and a path string per key was 9 KB of garbage per single POST.
  const path: (string | number)[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length && found.length < limit; i++) {
        path.push(i);
        walk(value[i]);
        path.pop();
      }
      return;
    }
    if (!isPlainObject(value)) return;
    for (const k of Object.keys(value)) {
      path.push(k);
      if (isUnsafeKeyPath(k)) found.push(path.join('.'));
      else walk(value[k]);
      path.pop();
      if (found.length >= limit) return;
    }
  };
  walk(input);
  return found;
}

/**
 * The canonical version-1 map from any accepted input: a flat map, a nested object, a mix of
 * both, or a list (a PHP array whose keys were 0..n-1, as `"data": []` is for an empty form).
 * Anything else is no data at all.
 */
export function flattenFormData(input: unknown): FlatFormData {
  const out: FlatFormData = {};
  const walk = (value: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (isUnsafeKeyPath(path)) continue;
      if (isPlainObject(v)) walk(v, path);
      else defineOwn(out, path, safeValue(v));
    }
  };
  if (Array.isArray(input)) walk(Object.fromEntries(input.map((v, i) => [String(i), v])), '');
  else if (isPlainObject(input)) walk(input, '');
  return out;
}

/**
 * A value kept as it is, but copied into objects made of own data properties: one parsed from
 * JSON may carry an own `__proto__` key, which a later `Object.assign` or `obj[k] = v` by some
 * other code would turn into a prototype. Such keys are dropped inside values too.
 */
function safeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(safeValue);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!UNSAFE_SEGMENTS.has(k)) defineOwn(out, k, safeValue(v));
  return out;
}

const UPLOAD_KEYS = ['id', 'name', 'url', 'originalName', 'description', 'protocol_required'];
const VERSION_SUFFIX = /\?version=\d+$/;

/** A version-1 upload field: the list `AbstractDto::prepareFormioFile` makes, and nothing else. */
export function isUploadList(value: unknown): value is Record<string, unknown>[] {
  return Array.isArray(value) && value.length > 0 && value.every((f) =>
    isPlainObject(f) && Object.keys(f).join() === UPLOAD_KEYS.join() && typeof f.id === 'string' && typeof f.url === 'string'
    && VERSION_SUFFIX.test(f.url) && f.url.replace(VERSION_SUFFIX, '').endsWith(`/attachments/${f.id}`));
}

/** A url of the core's API at another representation version (`…?version=N`). */
export function withUrlVersion(url: unknown, version: number): unknown {
  return typeof url === 'string' && VERSION_SUFFIX.test(url) ? url.replace(VERSION_SUFFIX, `?version=${version}`) : url;
}

/** A file object (or a list of them) with its `url` at another version; the rest untouched. */
export function fileAtVersion(file: unknown, version: number): unknown {
  if (Array.isArray(file)) return file.map((f) => fileAtVersion(f, version));
  if (!isPlainObject(file) || typeof file.url !== 'string') return file;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file)) defineOwn(out, k, k === 'url' ? withUrlVersion(v, version) : v);
  return out;
}

/** A value at the requested version: upload fields re-pointed, everything else as it is. */
function valueAtVersion(value: unknown, version: number): unknown {
  return isUploadList(value) ? fileAtVersion(value, version) : safeValue(value);
}

/** Version-1 `data`: the map itself (upload urls say `?version=1`, as the core's do). */
export function formDataV1(flat: FlatFormData): FlatFormData {
  const out: FlatFormData = {};
  for (const [k, v] of Object.entries(flat)) if (!isUnsafeKeyPath(k)) defineOwn(out, k, valueAtVersion(v, 1));
  return out;
}

/** One PHP array under construction: keys in insertion order, no prototype anywhere. */
class Level {
  readonly entries = new Map<string, unknown>();
}

/** A list or object met on the way down becomes a level, as it is one in PHP. */
function levelOf(value: unknown[] | Record<string, unknown>): Level {
  const level = new Level();
  const pairs: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [k, v] of pairs) level.entries.set(k, v);
  return level;
}

/** Version-2 `data`: `decorateDematerializedFormsV2` on the version-1 map (see the header). */
export function nestFormData(flat: FlatFormData, version = 2): unknown {
  const root = new Level();
  for (const [path, value] of Object.entries(flat)) {
    if (isUnsafeKeyPath(path)) continue;
    const parts = path.replace(/^\.+|\.+$/g, '').split('.');
    let section = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part === 'data') continue;
      if (i === parts.length - 1) {
        section.entries.set(part, valueAtVersion(value, version));
        break;
      }
      let next = section.entries.get(part);
      if (!(next instanceof Level)) {
        if (next === undefined || next === null || next === false) next = new Level();
        else if (Array.isArray(next) || isPlainObject(next)) next = levelOf(next);
        else break; // below a string, number or true: the core fails; the deeper path is ignored
        section.entries.set(part, next);
      }
      section = next as Level;
    }
  }
  return levelValue(root);
}

/** A finished level as JSON: a list when its keys are 0..n-1 in order, else an ordered object. */
function levelValue(level: Level): unknown {
  const keys = [...level.entries.keys()];
  const child = (v: unknown): unknown => (v instanceof Level ? levelValue(v) : v);
  if (keys.every((k, i) => k === String(i))) return keys.map((k) => child(level.entries.get(k)));
  const out: Record<string, unknown> = {};
  for (const k of keys) defineOwn(out, k, child(level.entries.get(k)));
  const jsOrder = Object.keys(out);
  return jsOrder.every((k, i) => k === keys[i]) ? out : withKeyOrder(out, keys);
}
