import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundHeapGrowth } from './heap.js';

test('the heap growth is bounded unless whoever started Node chose it', () => {
  assert.equal(boundHeapGrowth(['--max-semi-space-size=16'], ''), true);
  assert.equal(boundHeapGrowth([], '--max-semi-space-size=16 --enable-source-maps'), true);
  // Chosen on the command line or in NODE_OPTIONS, in either spelling V8 accepts: left alone.
  assert.equal(boundHeapGrowth(['--heap-growing-percent=50'], ''), false);
  assert.equal(boundHeapGrowth(['--max-semi-space-size=16', '--heap_growing_percent=0'], ''), false);
  assert.equal(boundHeapGrowth([], '--enable-source-maps  --heap-growing-percent=40'), false);
  // A flag that only starts the same way is not a choice of this one.
  assert.equal(boundHeapGrowth(['--heap-growing-percentage-ish'], ''), true);
});
