/**
 * `npm run bench`: messo measured on the real workload, beside a plain loop (the ceiling) and,
 * on request, peers (BullMQ + Redis; a bare durable floor on the run's store), all in the same
 * run. Not a test: it reports, it does not gate. Everything stays on 127.0.0.1. See
 * BENCHMARKS.md for the method and the figures.
 *
 *   npm run bench -- [flags]      (npm run bench -- --help lists them: options.ts USAGE)
 *
 * A run: the plain loops, then for messo (and each peer) (a) ingest alone on an API without a
 * dispatcher, (b) end to end and (c) the open loop and (d) fan-out on a fresh deployment in the
 * chosen topology, (e) the backlog on another fresh one. MESSO_BENCH_PROFILE=dir writes a CPU
 * profile of each messo process; MESSO_BENCH_NODE=path runs messo's processes on another Node.js.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { deployMesso, deployPeer, type Deployment } from './deploy.js';
import { parseOptions, USAGE, wantsHelp, type BenchOptions, type Phase } from './options.js';
import { backlog, e2eTenant, endToEnd, fanout, ingestAlone, paced, plainLoops, type Ctx, type Row } from './phases.js';
import { load, startReceiver, type Receiver } from './procs.js';
import { header, medianRows, table } from './report.js';

type Deploy = (dispatching: boolean) => Promise<Deployment>;

/** Runs `fn` on a fresh deployment and stops it whatever happens. */
async function withDeployment<T>(deploy: Deploy, dispatching: boolean, fn: (d: Deployment) => Promise<T>): Promise<T> {
  const d = await deploy(dispatching);
  try {
    return await fn(d);
  } finally {
    await d.stop();
  }
}

/** The phases asked for, on one system (messo, or the peer that has no fan-out and no backlog phase). */
async function phasesOf(ctx: Ctx, deploy: Deploy, isPeer: boolean): Promise<Row[]> {
  const { o } = ctx;
  const rows: Row[] = [];
  const has = (p: Phase) => o.phases.includes(p);
  if (has('ingest')) rows.push(await withDeployment(deploy, false, (d) => ingestAlone(ctx, d)));
  if (has('e2e') || has('paced') || (has('fanout') && !isPeer)) {
    await withDeployment(deploy, true, async (d) => {
      const t = await e2eTenant(ctx, d);
      if (has('e2e')) rows.push(await endToEnd(ctx, d, t));
      if (has('paced')) rows.push(await paced(ctx, d, t));
      if (has('fanout') && !isPeer) rows.push(await fanout(ctx, d));
    });
  }
  if (has('backlog') && o.backlog > 0 && !isPeer) rows.push(await withDeployment(deploy, true, (d) => backlog(ctx, d)));
  return rows;
}

async function oneRun(o: BenchOptions, run: number): Promise<Row[]> {
  process.stderr.write(`run ${run + 1} of ${o.runs} (load ${load().join(' ')})\n`);
  const receiver: Receiver = await startReceiver(Math.max(o.endpoints, o.fanoutOrigins));
  try {
    const rows = await plainLoops(o, receiver);
    const ctx: Ctx = { o, receiver, plainPerS: rows[0].metrics.events_per_s ?? 0 };
    rows.push(...await phasesOf(ctx, (dispatching) => deployMesso(o, dispatching), false));
    for (const kind of o.peers) {
      if (o.ingest !== 'single') process.stderr.write(`  the ${kind} peer takes single POSTs only; its rows use --ingest single bodies\n`);
      rows.push(...await phasesOf(ctx, (dispatching) => deployPeer(o, kind, dispatching, receiver.urls[0]), true));
    }
    return rows;
  } finally {
    receiver.child.send({ cmd: 'exit' });
  }
}

async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(USAGE);
    return;
  }
  const o = parseOptions(process.argv.slice(2));
  // Asked before anything starts: a wrong path fails here, with the shell's own error.
  const other = process.env.MESSO_BENCH_NODE;
  const messoNode = other ? `${other} (${execFileSync(other, ['--version'], { encoding: 'utf8' }).trim()})` : undefined;
  const started = new Date().toISOString();
  const runs: Row[][] = [];
  for (let i = 0; i < o.runs; i++) {
    runs.push(await oneRun(o, i));
    if (o.runs > 1) process.stdout.write(`\nrun ${i + 1}:\n${table(runs[i])}\n`);
  }
  const rows = medianRows(runs);
  process.stdout.write(`\n${header(o, o.runs, messoNode)}\n\n${table(rows)}\n`);
  if (o.json) {
    const node = { bench: process.version, messo: messoNode ?? process.version };
    writeFileSync(o.json, `${JSON.stringify({ started, finished: new Date().toISOString(), node, options: o, rows, runs }, null, 2)}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
