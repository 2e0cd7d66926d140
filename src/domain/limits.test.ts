import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimRoom, concurrencyOf, fairShare, isSlowDown, laneKey, mayStart, queueCap, sharedConcurrency, slowDownMs, rateGap, takeRateSlot } from './limits.js';

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

test('a lane is one tenant at one origin; a claim takes only what the lane can send soon', () => {
  assert.equal(laneKey('ten_a', 'http://127.0.0.1:8080'), 'ten_a http://127.0.0.1:8080');
  assert.notEqual(laneKey('ten_a', 'http://x'), laneKey('ten_b', 'http://x'));
  assert.equal(claimRoom(1, 10, 0), 10, 'max_concurrency 1: ten, not the default hundred');
  assert.equal(claimRoom(10, 10, 40), 60);
  assert.equal(claimRoom(10, 10, 150), 0, 'never negative');
});

test("the origin's ceiling is shared fairly between the lanes that have work", () => {
  assert.equal(fairShare(20, 1), 20, 'alone, a tenant may use the whole ceiling');
  assert.equal(fairShare(20, 2), 10);
  assert.equal(fairShare(20, 3), 7, 'rounded up');
  assert.equal(fairShare(2, 5), 1, 'at least one each, so every tenant moves');
  assert.equal(fairShare(20, 0), 20);
  const origin = { active: 5, ceiling: 20, lanesWithWork: 2 };
  assert.equal(mayStart({ active: 0, limit: 1 }, origin), true);
  assert.equal(mayStart({ active: 1, limit: 1 }, origin), false, "the lane's own limit");
  assert.equal(mayStart({ active: 10, limit: 50 }, origin), false, 'its fair share while another lane waits');
  assert.equal(mayStart({ active: 10, limit: 50 }, { ...origin, lanesWithWork: 1 }), true, 'alone it may take more');
  assert.equal(mayStart({ active: 3, limit: 50 }, { ...origin, active: 20 }), false, "the origin's ceiling");
});

test('rateGap keeps a rate-limited webhook\'s requests apart by 1/rate, whenever timers fire', () => {
  assert.equal(rateGap(undefined, 10, 1000), 0, 'first request');
  assert.equal(rateGap(1000, null, 1001), 0, 'no rate limit');
  assert.equal(rateGap(1000, 10, 1040), 60, 'at 10/s the next leaves 100 ms after the last');
  assert.equal(rateGap(1000, 10, 1100), 0);
  assert.equal(rateGap(1000, 0.5, 1500), 1500, 'at one every 2 s');
});
