import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loopCpuOf } from './procs.js';
import { cpuText } from './report.js';

test('loopCpuOf counts the main thread: busy work on it shows, and it stays within the whole process', () => {
  const before = loopCpuOf(process.pid)!;
  const all0 = process.cpuUsage();
  // Spun until the process has used 300 ms of CPU, not for 300 ms of a clock: on a loaded
  // machine the thread may wait for a core meanwhile.
  let x = 0;
  const used = () => { const u = process.cpuUsage(all0); return (u.user + u.system) / 1e6; };
  while (used() < 0.3) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const loop = loopCpuOf(process.pid)! - before;
  const all = process.cpuUsage(all0);
  // Clock ticks are 10 ms: 300 ms of spinning on this thread reads at least 0.2 s, never more than the process used.
  assert.ok(loop >= 0.2, `loop ${loop} s`);
  assert.ok(loop <= (all.user + all.system) / 1e6 + 0.02, `loop ${loop} s, process ${(all.user + all.system) / 1e6} s`);
  assert.equal(loopCpuOf(2 ** 22 + 7), null);
});

test('loopCpuOf leaves out the other threads: a worker thread spinning while the loop waits', async () => {
  const before = loopCpuOf(process.pid)!;
  const all0 = process.cpuUsage();
  // The worker spins until the process (its own thread, the loop waiting) has used 400 ms of CPU.
  const spinner = new Worker(
    'const c0 = process.cpuUsage(); let x = 0; for (;;) { const u = process.cpuUsage(c0); if (u.user + u.system >= 400000) break; x += Math.sqrt(x + 1); }',
    { eval: true },
  );
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
