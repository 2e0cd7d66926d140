/**
 * OpenCity dates: ISO 8601 without milliseconds, with the Europe/Rome offset
 * (`2022-06-22T15:11:20+02:00`). Intl gives the wall-clock parts; the offset is derived from
 * them, so summer time is handled by the platform's tz database, not by us.
 */
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

// Intl is slow (≈20 µs a call) and the same second is formatted many times in a burst.
let lastSec = NaN;
let lastText = '';

export function formatRome(ms: number): string {
  const secMs = Math.floor(ms / 1000) * 1000;
  if (secMs === lastSec) return lastText;
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(secMs))) parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offsetMin = Math.round((wall - secMs) / 60000);
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  lastSec = secMs;
  lastText = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
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
