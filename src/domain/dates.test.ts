import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatRome, MAX_TIME_MS, parseTime, unixSeconds } from './dates.js';

describe('formatRome', () => {
  it('writes the Rome offset without milliseconds, across both daylight-saving changes', () => {
    const cases: [string, string][] = [
      ['2022-06-22T13:11:20.999Z', '2022-06-22T15:11:20+02:00'],
      ['2025-01-15T12:00:00Z', '2025-01-15T13:00:00+01:00'],
      ['2025-03-30T00:59:59Z', '2025-03-30T01:59:59+01:00'],
      ['2025-03-30T01:00:00Z', '2025-03-30T03:00:00+02:00'],
      ['2025-10-26T00:59:59Z', '2025-10-26T02:59:59+02:00'],
      ['2025-10-26T01:00:00Z', '2025-10-26T02:00:00+01:00'],
      ['2025-12-31T23:30:00Z', '2026-01-01T00:30:00+01:00'],
    ];
    for (const [utc, rome] of cases) {
      assert.equal(formatRome(Date.parse(utc)), rome, utc);
      assert.equal(Date.parse(rome), Math.floor(Date.parse(utc) / 1000) * 1000, `${rome} is the same instant`);
    }
  });
});

const intlRome = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** The tz database's answer, asked of Intl for every instant (what formatRome did before it kept offsets). */
function romeByIntl(ms: number): string {
  const secMs = Math.floor(ms / 1000) * 1000;
  const parts: Record<string, string> = {};
  for (const p of intlRome.formatToParts(new Date(secMs))) parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offsetMin = Math.round((wall - secMs) / 60000);
  const abs = Math.abs(offsetMin);
  const off = `${offsetMin >= 0 ? '+' : '-'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

const offsetOf = (ms: number) => romeByIntl(ms).slice(-6);

/** The first second in (from, to] whose offset differs from from's. */
function changeIn(from: number, to: number): number {
  const was = offsetOf(from);
  let lo = from;
  let hi = to;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetOf(mid) === was) lo = mid;
    else hi = mid;
  }
  return hi;
}

describe('formatRome against the tz database', () => {
  it('writes what Intl writes: every change of offset since 1880 (each on a UTC hour), the seconds either side, and random instants', () => {
    const changes: number[] = [];
    const DAY = 86_400_000;
    for (let d = Date.UTC(1880, 0, 1); d < Date.UTC(2040, 0, 1); d += DAY) {
      if (offsetOf(d) !== offsetOf(d + DAY)) changes.push(changeIn(d, d + DAY));
    }
    assert.ok(changes.length > 2 * 60, `${changes.length} changes found`);
    // formatRome keeps one offset per UTC hour: right only while every change falls on one.
    for (const c of changes) assert.ok(c % 3_600_000 === 0, `the change at ${new Date(c).toISOString()} is inside an hour`);
    const instants = changes.flatMap((c) => [c - 1000, c, c + 1000, Math.floor(c / 3_600_000) * 3_600_000, Math.floor(c / 3_600_000) * 3_600_000 + 3_599_000]);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3000; i++) instants.push(Math.floor(random() * MAX_TIME_MS));
    // Asked twice, in an order that leaves the kept offsets and the last second to answer.
    for (const ms of [...instants, ...instants.reverse()]) assert.equal(formatRome(ms), romeByIntl(ms), new Date(ms).toISOString());
  });
});

describe('parseTime', () => {
  it('reads ISO 8601 date-times and Unix seconds', () => {
    assert.equal(parseTime('2022-06-22T15:11:20+02:00'), Date.UTC(2022, 5, 22, 13, 11, 20));
    assert.equal(parseTime(1655903480), Date.UTC(2022, 5, 22, 13, 11, 20));
    assert.equal(unixSeconds(parseTime(1655903480.9)!), 1655903480);
  });

  it('refuses what is not a time, or one no listing could render', () => {
    for (const v of ['', ' ', 'yesterday', null, undefined, {}, Number.NaN, Infinity, -1, 1e13, '+275760-09-13T00:00:00Z']) {
      assert.equal(parseTime(v), null, String(v));
    }
    assert.equal(parseTime(MAX_TIME_MS / 1000), MAX_TIME_MS);
    assert.doesNotThrow(() => formatRome(MAX_TIME_MS));
  });
});
