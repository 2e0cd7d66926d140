import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Row } from './phases.js';
import { medianRows } from './report.js';

const row = (rate: number, cpu: number, loop: number, peak: number): Row => ({
  phase: 'ingest', system: 'messo', metrics: { events_per_s: rate }, detail: {},
  rss: { api: { peak_mb: peak, start_mb: 100, end_mb: 110, hwm_mb: peak, cpu_s: cpu, loop_cpu_s: loop } },
  load_before: [1, 1, 1], load_after: [2, 2, 2],
});

test('a median row: the median rate and CPU of the runs, the highest peak RSS', () => {
  const [m] = medianRows([[row(1836, 5.63, 4.33, 168)], [row(1939, 5.36, 4.13, 170)], [row(2174, 4.96, 3.89, 176)]]);
  assert.equal(m.metrics.events_per_s, 1939);
  assert.deepEqual(m.detail.range, { events_per_s: [1836, 2174] });
  assert.equal(m.rss.api.cpu_s, 5.36);
  assert.equal(m.rss.api.loop_cpu_s, 4.13);
  assert.equal(m.rss.api.peak_mb, 176);
});

test('a median row without the loop\'s CPU (a peer that ended early) keeps what the runs had', () => {
  const runs = [row(1, 2, 1, 90), row(3, 4, 3, 95)].map((r) => {
    delete r.rss.api.loop_cpu_s;
    return [r];
  });
  const [m] = medianRows(runs);
  assert.equal(m.rss.api.cpu_s, 3);
  assert.equal(m.rss.api.loop_cpu_s, undefined);
});
