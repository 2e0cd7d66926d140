import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concurrencyOf, isSlowDown, queueCap, sharedConcurrency, slowDownMs, takeRateSlot } from './limits.js';

test('slow-down answers are 429, 502, 503 and 504 only', () => {
  assert.deepEqual([429, 502, 503, 504, 500, 410, 200].map(isSlowDown), [true, true, true, true, false, false, false]);
});

test('a slow-down pauses for Retry-After or a doubling back-off, whichever is longer, at most an hour', () => {
  assert.equal(slowDownMs(null, 0), 2000);
  assert.equal(slowDownMs(null, 3), 16_000);
  assert.equal(slowDownMs(null, 50), 300_000, 'the back-off stops doubling at 5 min');
  assert.equal(slowDownMs(120_000, 0), 120_000, 'Retry-After wins when longer');
  assert.equal(slowDownMs(500, 2), 8000, 'the back-off wins when longer');
  assert.equal(slowDownMs(86_400_000, 0), 3_600_000, 'never more than an hour');
});

test("concurrency is the webhook's own, else the default; a shared endpoint takes the strictest", () => {
  assert.equal(concurrencyOf(null, 10), 10);
  assert.equal(concurrencyOf(2, 10), 2);
  assert.equal(sharedConcurrency(null, 10), 10);
  assert.equal(sharedConcurrency(10, 1), 1);
  assert.equal(sharedConcurrency(1, 10), 1);
  assert.equal(queueCap(10, 10), 100);
});

test('rate slots are evenly spaced and none is given out beyond the horizon', () => {
  const now = 1_000_000;
  const a = takeRateSlot(null, 4, now)!;
  assert.deepEqual(a, { notBefore: now, nextFree: now + 250 });
  const b = takeRateSlot(a.nextFree, 4, now)!;
  assert.deepEqual(b, { notBefore: now + 250, nextFree: now + 500 });
  assert.equal(takeRateSlot(now + 1001, 4, now), null, 'a slot more than 1 s ahead waits for a later claim');
  assert.deepEqual(takeRateSlot(now - 5000, 1, now), { notBefore: now, nextFree: now + 1000 }, 'an old slot does not let a burst through');
});
