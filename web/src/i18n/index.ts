/**
 * Translation and formatting. Italian is the default; the choice is kept in localStorage (it is
 * not a secret). Every visible string goes through t(), whose keys are the Italian dictionary's:
 * the English one is typed against it, so a missing translation fails the build.
 * Times are always shown in Europe/Rome, the platform's zone, whatever the browser's zone is.
 */
import { it, type Key } from './it.js';
import { en } from './en.js';

export type Lang = 'it' | 'en';
export type { Key };

const DICTS: Record<Lang, Record<Key, string>> = { it, en };
const LANG_KEY = 'messo.lang';
export const TIME_ZONE = 'Europe/Rome';

let current: Lang = readLang();
const listeners = new Set<(l: Lang) => void>();

function readLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'it';
  } catch {
    return 'it';
  }
}

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem(LANG_KEY, l);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

export function onLang(fn: (l: Lang) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The string for key, with {name} placeholders filled in. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = DICTS[current][key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/** t() for keys built at run time (status codes, outcomes…), with a fallback when unknown. */
export function tMaybe(key: string, fallback: string): string {
  return (DICTS[current] as Record<string, string>)[key] ?? fallback;
}

const locale = () => (current === 'it' ? 'it-IT' : 'en-GB');

export function fmtDate(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d);
}

export function fmtTime(value: string | number): string {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit' }).format(new Date(value));
}

export function fmtNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

export function fmtPercent(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(n);
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${fmtNumber(n)} B`;
  if (n < 1024 * 1024) return `${fmtNumber(n / 1024, 1)} KiB`;
  return `${fmtNumber(n / 1024 / 1024, 1)} MiB`;
}

/** Offset of Europe/Rome from UTC at an instant, in ms (+1 h or +2 h). */
function romeOffsetMs(at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(at));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(at / 1000) * 1000;
}

/** A `datetime-local` value read as a Europe/Rome wall time, as an ISO instant; null when empty or bad. */
export function romeInputToIso(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  let utc = wall - romeOffsetMs(wall);
  utc = wall - romeOffsetMs(utc);
  return new Date(utc).toISOString();
}

/** An instant as a `datetime-local` value in Europe/Rome. */
export function isoToRomeInput(at: number): string {
  const d = new Date(at + romeOffsetMs(at));
  return d.toISOString().slice(0, 16);
}
