import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loopCpuOf } from './procs.js';
import { cpuText } from './report.js';

test('loopCpuOf counts the main thread: busy work on it shows, and it stays within the whole process', () => {
  const before = loopCpuOf(process.pid)!;
  const all0 = process.cpuUsage();
  const until = Date.now() + 300;
  let x = 0;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const loop = loopCpuOf(process.pid)! - before;
  const all = process.cpuUsage(all0);
  // Clock ticks are 10 ms: 300 ms of spinning reads at least 0.2 s, never more than the process used.
  assert.ok(loop >= 0.2, `loop ${loop} s`);
  assert.ok(loop <= (all.user + all.system) / 1e6 + 0.02, `loop ${loop} s, process ${(all.user + all.system) / 1e6} s`);
  assert.equal(loopCpuOf(2 ** 22 + 7), null);
});

test('loopCpuOf leaves out the other threads: a worker thread spinning while the loop waits', async () => {
  const before = loopCpuOf(process.pid)!;
  const all0 = process.cpuUsage();
  const spinner = new Worker('const until = Date.now() + 400; let x = 0; while (Date.now() < until) x += Math.sqrt(x + 1);', { eval: true });
  await new Promise((resolve) => spinner.once('exit', resolve));
  const loop = loopCpuOf(process.pid)! - before;
  const all = process.cpuUsage(all0);
  assert.ok((all.user + all.system) / 1e6 >= 0.3, `process ${(all.user + all.system) / 1e6} s`);
  assert.ok(loop < 0.15, `loop ${loop} s`);
});

test('cpuText shows the whole CPU, then the loop\'s when known', () => {
  assert.equal(cpuText({}), '');
  assert.equal(cpuText({ cpu_s: 9.4 }), ' (CPU 9.4 s)');
  assert.equal(cpuText({ cpu_s: 9.4, loop_cpu_s: 7.1 }), ' (CPU 9.4 s, loop 7.1)');
});
