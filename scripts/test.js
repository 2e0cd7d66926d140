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
import { setTimeout, clearTimeout } from 'node:timers';

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

// The runner's own totals (ℹ pass N …), read from each file's output.
const totals = { pass: 0, fail: 0, cancelled: 0, skipped: 0 };

// A file whose tests are done but which keeps a server, socket or timer open never exits, and
// `node --test` waits for it: CI would run to its own limit instead of going red. Each file
// therefore runs in a `node --test` of its own, in a process group of its own, and a file still
// running after FILE_LIMIT_MS is killed with everything it started and counted as failed. A
// file that ends has its group killed too: a process it started and left behind would hold its
// port and a core for the files after it.
// (`--test-force-exit` is not the answer: it ends a file once the tests it knows of are done,
// and drops suites a file registers after a top-level await, test/inspector-store.test.ts's.)
// The longest file takes about 100 s (scale-postgres); a single test has 3 minutes. Five
// minutes keeps a run with one hung file near CI's 15.
// MESSO_TEST_FILE_LIMIT_S changes the limit (to see it work: a few seconds).
const FILE_LIMIT_MS = Number(process.env.MESSO_TEST_FILE_LIMIT_S ?? 300) * 1000;
const CONCURRENCY = 2;
const running = new Set();

/** One file under `node --test`; resolves with its exit code once its output is printed. */
function runFile(file) {
  const child = spawn(process.execPath, ['--test', ...guard, '--test-timeout=180000', '--test-reporter=spec', file], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  running.add(child);
  const out = [];
  child.stdout.setEncoding('utf8').on('data', (c) => out.push(c));
  child.stderr.setEncoding('utf8').on('data', (c) => out.push(c));
  let killed = false;
  const started = Date.now();
  const limit = setTimeout(() => { killed = true; killGroup(child); }, FILE_LIMIT_MS);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(limit);
    running.delete(child);
    killGroup(child);
    const text = out.join('');
    // The spec reporter does not name the file it reports on when it runs one.
    process.stdout.write(`\n── ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    for (const line of text.split('\n')) {
      const m = /^ℹ (pass|fail|cancelled|skipped) (\d+)$/.exec(line.trim());
      if (m) totals[m[1]] += Number(m[2]);
    }
    if (killed) {
      totals.fail += 1;
      process.stdout.write(`✖ ${file} still running after ${FILE_LIMIT_MS / 1000} s (a server, socket or timer left open?): killed, counted as failed\n`);
      resolve(1);
    } else resolve(code ?? 1);
  }));
}

function killGroup(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(sig, () => { for (const c of running) killGroup(c); process.exit(code); });
}

/** The files of `list`, CONCURRENCY at a time; resolves with the first non-zero exit code. */
async function run(list) {
  const queue = [...list];
  let code = 0;
  const lane = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) code = (await runFile(f)) || code;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return code;
}

let code = 0;
for (const list of runs) code = (await run(list)) || code;
const failed = totals.fail + totals.cancelled;
process.stdout.write(`\n${totals.pass} passed, ${failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`);
process.exit(code);
