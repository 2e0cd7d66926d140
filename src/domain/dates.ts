/**
 * OpenCity dates: ISO 8601 without milliseconds, with the Europe/Rome offset
 * (`2022-06-22T15:11:20+02:00`). Intl gives Rome's offset (once per UTC hour) and the wall
 * clock is the instant moved by it, so summer time is handled by the platform's tz database,
 * not by us.
 */
import { setBounded } from './bounded-map.js';

const fmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

const HOUR_MS = 3_600_000;

/** Rome's offset from UTC at an instant, in ms, as the tz database has it (Intl: ≈12 µs a call). */
function romeOffsetMs(secMs: number): number {
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(secMs))) parts[p.type] = p.value;
  return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - secMs;
}

/**
 * Rome's offset through each UTC hour asked for: every change in its tz history (summer time,
 * and the end of Rome's mean time in 1893) falls on a UTC hour, which dates.test.ts checks
 * against the tz database of the Node.js it runs on. A pratica carries four or five different
 * times, and a burst repeats the same few hours; Intl per call was 1 % of the API's profile on
 * single-POST ingest, 12 µs a call. Bounded: the oldest hour out first.
 */
const offsetByHour = new Map<number, number>();
const HOURS_KEPT = 1024;

function offsetAt(secMs: number): number {
  const hour = Math.floor(secMs / HOUR_MS);
  const known = offsetByHour.get(hour);
  if (known !== undefined) return known;
  const offset = romeOffsetMs(hour * HOUR_MS);
  setBounded(offsetByHour, hour, offset, HOURS_KEPT);
  return offset;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

// The same second is formatted many times in a burst.
let lastSec = NaN;
let lastText = '';

export function formatRome(ms: number): string {
  const secMs = Math.floor(ms / 1000) * 1000;
  if (secMs === lastSec) return lastText;
  const offset = offsetAt(secMs);
  // The wall clock is the instant moved by the offset, read as UTC.
  const wall = new Date(secMs + offset);
  const offsetMin = Math.round(offset / 60000);
  const abs = Math.abs(offsetMin);
  const off = `${offsetMin >= 0 ? '+' : '-'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
  lastSec = secMs;
  lastText = `${String(wall.getUTCFullYear()).padStart(4, '0')}-${two(wall.getUTCMonth() + 1)}-${two(wall.getUTCDate())}`
    + `T${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}:${two(wall.getUTCSeconds())}${off}`;
  return lastText;
}

export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * Latest instant accepted (ms): a four-digit year, as ISO 8601 dates have. Beyond Date's own
 * range formatRome throws, so one event with such a time would break every listing it is in.
 */
export const MAX_TIME_MS = Date.UTC(9999, 11, 30);

/** Parses an ISO 8601 date-time or Unix seconds; null when it is neither, or out of 1970–9999. */
export function parseTime(value: unknown): number | null {
  let ms: number;
  if (typeof value === 'number' && Number.isFinite(value)) ms = value * 1000;
  else if (typeof value === 'string' && value.trim() !== '') ms = Date.parse(value);
  else return null;
  return Number.isNaN(ms) || ms < 0 || ms > MAX_TIME_MS ? null : ms;
}
