#!/usr/bin/env node
// CPU and bytes written per event, in one process: steadier than the bench's rates on a shared
// 2-core machine, where identical runs move by ±30 %. It starts messo (the test harness's
// server, SQLite, in this process), a tenant, a service and one opencity webhook, and sends the
// bench's single-POST bodies (one pratica snapshot per POST), 32 in flight: 300 to warm up, then
// 3,000 measured. It reports process.cpuUsage() (messo and this client together) and
// /proc/self/io wchar (WAL, checkpoints, temp files) per event.
//   ingest: the dispatcher off, the webhook at a port nothing listens on (never sent to).
//   e2e:    the dispatcher on, the webhook at a loopback receiver in this process; measured
//           until all 3,300 have arrived.
// Compare two commits with a worktree each (built with `npm run build`), alternating:
//   node scripts/probe.js ingest /path/to/old && node scripts/probe.js ingest .
// MESSO_PROBE_CONNECTION=close sends every POST on a connection of its own, as a PHP core does.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startWorkload } from './probe-workload.js';

const [mode = 'ingest', dirArg = '.'] = process.argv.slice(2);
if (mode !== 'ingest' && mode !== 'e2e') {
  process.stderr.write('usage: node scripts/probe.js ingest|e2e [checkout, built]\n');
  process.exit(2);
}
const dir = resolve(dirArg);
const reset = process.env.MESSO_PROBE_CONNECTION === 'close';
const workload = await startWorkload(mode, dir, { warm: 300, measured: 3000, reset });
const written = () => Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);

await workload.warmUp();
const cpu0 = process.cpuUsage();
const w0 = written();
const t0 = Date.now();
await workload.measure();
const cpu = process.cpuUsage(cpu0);
const n = 3000;
const ms = Date.now() - t0;
console.log(`${mode}${reset ? ' (a connection per POST)' : ''} ${dir}: ${Math.round((n / ms) * 1000)} ${workload.delivers ? 'deliveries' : 'events'}/s; ` +
  `CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms per event; written ${((written() - w0) / 1024 / n).toFixed(1)} KiB per event`);
await workload.close();
process.exit(0);
