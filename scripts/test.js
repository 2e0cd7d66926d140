#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with Node's own test runner and closes with
// a plain "N passed, N failed" line. Arguments filter the files by substring; one starting
// with "!" leaves the matching files out (`!scale-postgres`: that suite restarts the machine's
// PostgreSQL, which anyone else testing against it at the same time would feel). `--unit`
// keeps only the unit tests, the *.test.ts under src/ (pure modules: no server, no database,
// no child process; unit-guard.js fails one that tries), which run in seconds. Integration
// tests live in test/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';

function walk(dir, suffix, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, suffix, out);
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const filters = args.filter((a) => a !== '--unit' && !a.startsWith('!'));
const exclude = args.filter((a) => a.startsWith('!')).map((a) => a.slice(1));
const sources = unit ? ['src'] : ['src', 'test'];

// The tests run the compiled files, so a source changed since the last build would be tested
// in its old form: refuse, and say what to build.
const compiled = (ts) => join('dist', ts.replace(/\.ts$/, '.js'));
const stale = sources.flatMap((d) => walk(d, '.ts'))
  .filter((ts) => !existsSync(compiled(ts)) || statSync(compiled(ts)).mtimeMs < statSync(ts).mtimeMs);
if (stale.length > 0) {
  process.stderr.write(`dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ` and ${stale.length - 3} more` : ''}: `
    + 'build first (npm run build, or npx tsc -p tsconfig.json for the server alone)\n');
  process.exit(1);
}

// dist/ is never cleaned by tsc: a test moved or deleted in the sources would still run from
// its old compiled copy. Only files whose .ts source exists count.
const hasSource = (f) => existsSync(f.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts'));
const files = sources.flatMap((d) => walk(join('dist', d), '.test.js'))
  .filter((f) => hasSource(f) && (filters.length === 0 || filters.some((s) => f.includes(s))))
  .filter((f) => !exclude.some((s) => f.includes(s)))
  .sort();
const guard = unit ? ['--import', pathToFileURL(join('scripts', 'unit-guard.js')).href] : [];
// Suites that restart the machine's PostgreSQL run alone, after the others: a PostgreSQL test
// running beside the restart fails with "the database system is shutting down" (seen in CI).
const ALONE = ['scale-postgres'];
const alone = files.filter((f) => ALONE.some((s) => f.includes(s)));
const runs = [files.filter((f) => !alone.includes(f)), alone].filter((r) => r.length > 0);

// The runner's own totals (ℹ pass N …) are read as they stream by: failure details printed
// after them can be long, so the last few KB of output may no longer hold them.
const totals = { pass: 0, fail: 0, cancelled: 0, skipped: 0 };

/** One `node --test` over `list`; resolves with its exit code. */
function run(list) {
  // A test that hangs fails after 3 minutes instead of holding CI until its own time limit.
  const child = spawn(process.execPath, ['--test', ...guard, '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...list], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const m = /^ℹ (pass|fail|cancelled|skipped) (\d+)$/.exec(line.trim());
      if (m) totals[m[1]] += Number(m[2]);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

let code = 0;
for (const list of runs) code = (await run(list)) || code;
const failed = totals.fail + totals.cancelled;
process.stdout.write(`\n${totals.pass} passed, ${failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`);
process.exit(code);
