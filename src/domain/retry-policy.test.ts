import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RETRY_SCHEDULE_SEC,
  nextAttemptDelayMs,
  parseRetryAfter,
  parseRetrySchedule,
} from './retry-policy.js';

const fixed = (r: number) => () => r;

test('the default schedule: ten attempts, first immediate, about three days in total', () => {
  assert.deepEqual([...DEFAULT_RETRY_SCHEDULE_SEC], [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
  const totalDays = DEFAULT_RETRY_SCHEDULE_SEC.reduce((a, b) => a + b, 0) / 86400;
  assert.ok(totalDays > 3 && totalDays < 3.5);
  assert.ok(Object.isFrozen(DEFAULT_RETRY_SCHEDULE_SEC));
});

test('parseRetrySchedule accepts comma-separated seconds with spaces', () => {
  assert.deepEqual(parseRetrySchedule('0,5,300'), [0, 5, 300]);
  assert.deepEqual(parseRetrySchedule(' 0 , 5 ,\t300 '), [0, 5, 300]);
  assert.deepEqual(parseRetrySchedule('10'), [10]);
  assert.deepEqual(parseRetrySchedule(DEFAULT_RETRY_SCHEDULE_SEC.join(',')), [...DEFAULT_RETRY_SCHEDULE_SEC]);
});

test('parseRetrySchedule rejects bad input with a message naming the entry', () => {
  assert.throws(() => parseRetrySchedule(''), /empty/);
  assert.throws(() => parseRetrySchedule('   '), /empty/);
  assert.throws(() => parseRetrySchedule('0,,5'), /entry 2 \(""\)/);
  assert.throws(() => parseRetrySchedule('0,5,'), /entry 3/);
  assert.throws(() => parseRetrySchedule('0,-5'), /entry 2 \("-5"\) is not a non-negative number/);
  assert.deepEqual(parseRetrySchedule('0,1.5'), [0, 1.5]);
  assert.throws(() => parseRetrySchedule('0,1e3'), /entry 2 \("1e3"\)/);
  assert.throws(() => parseRetrySchedule('0,5m'), /entry 2 \("5m"\)/);
  assert.throws(() => parseRetrySchedule('0;5'), /entry 1/);
  assert.throws(() => parseRetrySchedule('99999999999999999999'), /too large/);
});

test('nextAttemptDelayMs walks the schedule and returns null once it is exhausted', () => {
  const schedule = [0, 5, 300];
  const opts = { jitter: 0 };
  assert.equal(nextAttemptDelayMs(schedule, 0, opts), 0);
  assert.equal(nextAttemptDelayMs(schedule, 1, opts), 5000);
  assert.equal(nextAttemptDelayMs(schedule, 2, opts), 300_000);
  assert.equal(nextAttemptDelayMs(schedule, 3, opts), null);
  assert.equal(nextAttemptDelayMs(schedule, 50, opts), null);
  assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SEC, 10, opts), null);
  assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SEC, 9, opts), 86_400_000);
});

test('nextAttemptDelayMs applies uniform jitter, default ±20 %', () => {
  const schedule = [0, 100];
  assert.equal(nextAttemptDelayMs(schedule, 1, { random: fixed(0) }), 80_000);
  assert.equal(nextAttemptDelayMs(schedule, 1, { random: fixed(0.5) }), 100_000);
  assert.equal(nextAttemptDelayMs(schedule, 1, { random: fixed(0.75) }), 110_000);
  assert.equal(nextAttemptDelayMs(schedule, 1, { random: fixed(0.999999) }), 120_000);
  assert.equal(nextAttemptDelayMs(schedule, 1, { random: fixed(0), jitter: 0.5 }), 50_000);
  // A zero step stays zero whatever the jitter.
  assert.equal(nextAttemptDelayMs(schedule, 0, { random: fixed(0.9) }), 0);
  // The real random source stays within bounds.
  for (let i = 0; i < 200; i++) {
    const d = nextAttemptDelayMs(schedule, 1) as number;
    assert.ok(d >= 80_000 && d <= 120_000, String(d));
  }
});

test('nextAttemptDelayMs honours Retry-After, clamped between the jittered step and the largest step', () => {
  const schedule = [0, 5, 300, 3600];
  const base = { jitter: 0.2, random: fixed(0.5) };
  // Longer than the step: honoured.
  assert.equal(nextAttemptDelayMs(schedule, 1, { ...base, retryAfterMs: 60_000 }), 60_000);
  // Shorter than the step: the schedule wins (never retry sooner than planned).
  assert.equal(nextAttemptDelayMs(schedule, 2, { ...base, retryAfterMs: 1_000 }), 300_000);
  // Huge: capped at the schedule's largest step.
  assert.equal(nextAttemptDelayMs(schedule, 1, { ...base, retryAfterMs: 365 * 86_400_000 }), 3_600_000);
  // On the largest step, jitter may exceed the cap; the jittered step still wins.
  assert.equal(
    nextAttemptDelayMs(schedule, 3, { jitter: 0.2, random: fixed(0.75), retryAfterMs: 365 * 86_400_000 }),
    3_960_000,
  );
  // Null, zero, negative and non-finite values are ignored.
  for (const retryAfterMs of [null, undefined, 0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.equal(nextAttemptDelayMs(schedule, 1, { ...base, retryAfterMs }), 5_000);
  }
  // Retry-After never adds an attempt.
  assert.equal(nextAttemptDelayMs(schedule, 4, { ...base, retryAfterMs: 60_000 }), null);
});

test('nextAttemptDelayMs rejects nonsense arguments', () => {
  assert.throws(() => nextAttemptDelayMs([0], -1), RangeError);
  assert.throws(() => nextAttemptDelayMs([0], 1.5), RangeError);
  assert.throws(() => nextAttemptDelayMs([0], 0, { jitter: 1.5 }), RangeError);
  assert.throws(() => nextAttemptDelayMs([0], 0, { jitter: -0.1 }), RangeError);
  assert.throws(() => nextAttemptDelayMs([0], 0, { jitter: Number.NaN }), RangeError);
});

test('parseRetryAfter: delta-seconds', () => {
  const now = 1_700_000_000_000;
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter(undefined, now), null);
  assert.equal(parseRetryAfter('', now), null);
  assert.equal(parseRetryAfter('-5', now), null);
  assert.equal(parseRetryAfter('1.5', now), null);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter('99999999999999999999', now), null);
});

test('parseRetryAfter: the three HTTP-date forms, all read as GMT', () => {
  const now = Date.UTC(1994, 10, 6, 8, 48, 37); // one minute before the RFC's example date
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', now), 60_000);
  // In the past: retry now.
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:00:00 GMT', now), 0);
});

test('parseRetryAfter: rejects things Date.parse would accept', () => {
  const now = Date.now();
  for (const value of ['2024-01-01', '2024-01-01T00:00:00Z', 'Nov 6 1994', 'Sun, 06 Nov 1994 08:49:37', 'tomorrow', 'Sun, 99 Nov 1994 08:49:37 GMT']) {
    assert.equal(parseRetryAfter(value, now), null, value);
  }
});
