import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBounded } from './bounded-map.js';

test('a bounded map lets the oldest set go first, and a key set again counts as new', () => {
  const m = new Map<string, number>();
  for (const [i, k] of ['a', 'b', 'c'].entries()) setBounded(m, k, i, 3);
  setBounded(m, 'a', 10, 3);
  setBounded(m, 'd', 4, 3);
  assert.deepEqual([...m], [['c', 2], ['a', 10], ['d', 4]]);
});
