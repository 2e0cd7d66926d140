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

export function formatRome(ms: number): string {
  const secMs = Math.floor(ms / 1000) * 1000;
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(secMs))) parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offsetMin = Math.round((wall - secMs) / 60000);
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);

/** Parses an ISO 8601 date-time or Unix seconds; null when it is neither. */
export function parseTime(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
