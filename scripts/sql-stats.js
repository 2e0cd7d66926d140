#!/usr/bin/env node
// Where SQLite's time goes, statement by statement, on the probe's workload (scripts/probe.js):
// messo in this process on a SQLite file, a tenant, a service and one opencity webhook, the
// bench's single-POST bodies, 32 in flight, 300 to warm up, then N measured (3,000; MESSO_PROBE_N).
// Every call of a prepared statement (run, get, all) and every exec is timed while the measured
// events go through, and the report lists the statements by their time per event: calls, µs a
// call, rows a call. The timing wraps better-sqlite3's own methods (a few µs a call of its own:
// compare two checkouts with this tool, not with the probe's figures).
//   node scripts/sql-stats.js ingest|e2e [checkout, built]
import { resolve } from 'node:path';
import { fromCheckout, startWorkload } from './probe-workload.js';

const [mode = 'ingest', dirArg = '.'] = process.argv.slice(2);
if (mode !== 'ingest' && mode !== 'e2e') {
  process.stderr.write('usage: node scripts/sql-stats.js ingest|e2e [checkout, built]\n');
  process.exit(2);
}
const dir = resolve(dirArg);
const { default: Database } = await fromCheckout(dir)('node_modules/better-sqlite3/lib/index.js');

// better-sqlite3's Statement class is not exported: reach its prototype through a statement.
const scratch = new Database(':memory:');
const statementProto = Object.getPrototypeOf(scratch.prepare('SELECT 1'));
scratch.close();
const stats = new Map();
let measuring = false;
const record = (sql, micros, rows) => {
  if (!measuring) return;
  const key = sql.replace(/\s+/g, ' ').trim().slice(0, 120);
  const s = stats.get(key) ?? { calls: 0, micros: 0, rows: 0 };
  s.calls++;
  s.micros += micros;
  s.rows += rows;
  stats.set(key, s);
};
const timed = (fn, sqlOf, rowsOf) => function (...args) {
  const t0 = process.hrtime.bigint();
  const result = fn.apply(this, args);
  record(sqlOf(this, args), Number(process.hrtime.bigint() - t0) / 1000, rowsOf(result));
  return result;
};
// Rows read (all, get) or changed (run).
const rowsOf = (r) => (Array.isArray(r) ? r.length : r === undefined ? 0 : typeof r.changes === 'number' ? r.changes : 1);
for (const name of ['run', 'get', 'all']) {
  statementProto[name] = timed(statementProto[name], (stmt) => stmt.source, rowsOf);
}
Database.prototype.exec = timed(Database.prototype.exec, (_db, [sql]) => `exec ${sql}`, () => 0);

// Wrapped before messo opens its store: every statement it prepares is timed.
const n = Number(process.env.MESSO_PROBE_N ?? 3000);
const workload = await startWorkload(mode, dir, { warm: 300, measured: n });
await workload.warmUp();
measuring = true;
const cpu0 = process.cpuUsage();
await workload.measure();
measuring = false;
const cpu = process.cpuUsage(cpu0);

const total = [...stats.values()].reduce((sum, s) => sum + s.micros, 0);
console.log(`${mode} ${dir}: ${n} events; CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms per event, SQLite calls ${(total / n).toFixed(1)} µs per event`);
console.log('µs/event   calls  µs/call  rows/call  statement');
for (const [sql, s] of [...stats].sort((a, b) => b[1].micros - a[1].micros).slice(0, 25)) {
  console.log(`${(s.micros / n).toFixed(1).padStart(8)} ${String(s.calls).padStart(7)} ${(s.micros / s.calls).toFixed(1).padStart(8)} ${(s.rows / s.calls).toFixed(1).padStart(10)}  ${sql}`);
}
await workload.close();
process.exit(0);
