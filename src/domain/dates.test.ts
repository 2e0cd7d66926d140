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
