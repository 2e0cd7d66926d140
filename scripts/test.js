#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with Node's own test runner and closes with
// a plain "N passed, N failed" line. Arguments filter the files by substring; one starting
// with "!" leaves the matching files out (`!scale-postgres`: that suite restarts the machine's
// PostgreSQL, which anyone else testing against it at the same time would feel).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const include = args.filter((a) => !a.startsWith('!'));
const exclude = args.filter((a) => a.startsWith('!')).map((a) => a.slice(1));
const files = walk('dist')
  .filter((f) => include.length === 0 || include.some((s) => f.includes(s)))
  .filter((f) => !exclude.some((s) => f.includes(s)))
  .sort();
// A test that hangs fails after 3 minutes instead of holding CI until its own time limit.
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
// The runner's own totals (ℹ pass N …) are read as they stream by: failure details printed
// after them can be long, so the last few KB of output may no longer hold them.
const totals = {};
let partial = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (partial + chunk).split('\n');
  partial = lines.pop();
  for (const line of lines) {
    const m = /^ℹ (pass|fail|cancelled|skipped) (\d+)$/.exec(line.trim());
    if (m) totals[m[1]] = Number(m[2]);
  }
});
child.on('close', (code) => {
  const passed = totals.pass ?? 0;
  const failed = (totals.fail ?? 0) + (totals.cancelled ?? 0);
  const skipped = totals.skipped ?? 0;
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(code ?? 1);
});
