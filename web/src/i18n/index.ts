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

/** `one` or `other`: the plural form a count takes in the interface language (both have just these two). */
export function plural(n: number): 'one' | 'other' {
  return new Intl.PluralRules(locale()).select(n) === 'one' ? 'one' : 'other';
}

/** Day and time to the second: a delivery attempt or a capture is told apart by its seconds. */
export function fmtDate(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d);
}

/** Hours and minutes (chart axes); `seconds` for lists of events that arrive seconds apart. */
export function fmtTime(value: string | number, opts: { seconds?: boolean } = {}): string {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', ...(opts.seconds ? { second: '2-digit' } : {}) }).format(new Date(value));
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

/** A wall-clock time in Europe/Rome, as the instant it names (the usual two-step offset guess). */
function romeWallToUtc(wall: number): number {
  const guess = wall - romeOffsetMs(wall);
  return wall - romeOffsetMs(guess);
}

/**
 * Dates are typed as text in the interface language's order (day/month/year and a 24-hour time
 * in both Italian and British English), not in a `datetime-local` input: Chromium draws that one
 * in the browser's own locale (mm/dd/yyyy, AM/PM on an American system) whatever the page's
 * language is. The pattern shown next to the field is this one.
 */
export function dateInputPattern(): string {
  return current === 'it' ? 'gg/mm/aaaa hh:mm:ss' : 'dd/mm/yyyy hh:mm:ss';
}

/**
 * Text typed in a date field, read as Europe/Rome: `31/12/2025`, `31/12/2025 14:05`,
 * `31/12/2025 14:05:30` (also with `-` or `.` between the date parts, or `,` before the time),
 * or ISO `2025-12-31T14:05`. The instant as an ISO string; null when it is not a real date.
 */
export function parseDateInput(text: string): string | null {
  const s = text.trim();
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ ,T]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?$/.exec(s);
  let parts: number[] | null = m ? [+m[3], +m[2], +m[1], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)] : null;
  if (!parts) {
    m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
    parts = m ? [+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)] : null;
  }
  if (!parts) return null;
  const [y, mo, d, h, mi, se] = parts;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, se);
  // 31/02 would roll over into March: refuse it rather than guess.
  if (new Date(wall).getUTCDate() !== d) return null;
  return new Date(romeWallToUtc(wall)).toISOString();
}

/** An instant as the text a date field shows: `31/12/2025 14:05:00`, Europe/Rome. */
export function formatDateInput(at: number | string): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms + romeOffsetMs(ms));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}
