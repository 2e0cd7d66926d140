/**
 * The processes a bench run starts (receiver, messo API and workers, the BullMQ peer), and what
 * it watches of them: peak RSS sampled from /proc (the bench runs on Linux), and the machine's
 * load average, which says how far the absolute figures can be trusted on a shared machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process the bench watches: its role in the topology ("api", "worker 1", "peer") and its pid. */
export interface Watched {
  role: string;
  child: ChildProcess;
}

export interface Receiver {
  child: ChildProcess;
  urls: string[];
  hangUrl: string;
  ask<T>(cmd: string): Promise<T>;
}

export async function startReceiver(origins: number): Promise<Receiver> {
  const child = fork(fileURLToPath(new URL('./receiver.js', import.meta.url)), [String(origins)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { ports, hangPort } = await new Promise<{ ports: number[]; hangPort: number }>((resolve) => child.once('message', (m) => resolve(m as { ports: number[]; hangPort: number })));
  // One question at a time: answers come back in order on the one IPC channel.
  let chain: Promise<unknown> = Promise.resolve();
  const ask = <T>(cmd: string) => {
    const next = chain.then(() => new Promise<T>((resolve) => {
      child.once('message', (m) => resolve(m as T));
      child.send({ cmd });
    }));
    chain = next.catch(() => undefined);
    return next;
  };
  return { child, urls: ports.map((p) => `http://127.0.0.1:${p}`), hangUrl: `http://127.0.0.1:${hangPort}`, ask };
}

/** A free loopback port for a worker's /healthz (the worker does not print the port it got). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The Node.js that runs messo's processes: the bench's own, or MESSO_BENCH_NODE (another
 * version's binary), so that two Node versions can be compared against one load generator and
 * receiver. better-sqlite3 must then be built for that binary's ABI.
 */
const messoNode = (): string => process.env.MESSO_BENCH_NODE || process.execPath;

/** Node flags of messo's processes: those of `npm start` and the image, and a CPU profile on request. */
function profileArgs(): string[] {
  const dir = process.env.MESSO_BENCH_PROFILE;
  const extra = (process.env.MESSO_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return ['--max-semi-space-size=16', ...extra, ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])];
}

/** Starts `messo serve …` and resolves with its URL once the banner says it listens. */
export function startServe(bin: string, args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(bin, ['serve', ...args], { env: { ...process.env, ...env }, execPath: messoNode(), execArgv: profileArgs(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`messo serve exited (${code}):\n${out}`)));
  });
}

/** Starts `messo worker` and resolves once its /healthz answers, that is once its dispatcher runs. */
export async function startWorker(bin: string, env: Record<string, string>): Promise<ChildProcess> {
  const port = await freePort();
  const child = fork(bin, ['worker', '--port', String(port)], { env: { ...process.env, ...env }, execPath: messoNode(), execArgv: profileArgs(), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`messo worker exited (${code})`))));
  const t0 = now();
  for (;;) {
    const up = await Promise.race([fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false), exited]);
    if (up) return child;
    if (now() - t0 > 30_000) throw new Error('messo worker did not answer /healthz within 30 s');
    await sleep(50);
  }
}

export async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
}

/** VmRSS and VmHWM of a pid in MB, from /proc/<pid>/status; null once it is gone. */
function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * CPU seconds a process has used (user + system, /proc/<pid>/stat, 100 ticks a second on
 * Linux; `<pid>/task/<tid>` for one of its threads). On a shared machine the rates move with
 * the load; the CPU a phase costs per event moves much less, so it is what tells a change in
 * messo from a change in the neighbours.
 */
function cpuOf(pid: number | string): number | null {
  const f = statOf(pid);
  return f === null ? null : (f.utime + f.stime) / 100;
}

/**
 * CPU seconds of the process's main thread alone: its event loop, where the HTTP server, the
 * domain code and better-sqlite3's calls run. The rest of cpuOf is off the loop: the SQLite
 * checkpointer's thread, V8's GC and compiler threads, libuv's pool. Measured (ingest alone,
 * 10 s of a 60,000-event run, 2026-12-01): the loop 7.9 s, the checkpointer 1.3 s, V8's four
 * threads 0.8 s. What an optimisation of the loop can win is the loop's share, not the total.
 */
export const loopCpuOf = (pid: number): number | null => cpuOf(`${pid}/task/${pid}`);

/** Clock ticks from /proc/<pid>/stat: its own, and those of the children it has reaped; null once it is gone. */
function statOf(pid: number | string): { utime: number; stime: number; cutime: number; cstime: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command's ")": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds used by this machine's PostgreSQL: every process named `postgres`, user + system,
 * with the children each has reaped (a backend that ended is counted in the postmaster's). Null
 * when none runs here. The bench's PostgreSQL shares the cores with messo and the load
 * generator, so its CPU is part of what a phase costs.
 */
export function localPostgresCpu(): number | null {
  let ticks = 0;
  let found = false;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // Gone meanwhile.
    }
    const f = comm === 'postgres' ? statOf(pid) : null;
    if (f === null) continue;
    ticks += f.utime + f.stime + f.cutime + f.cstime;
    found = true;
  }
  return found ? ticks / 100 : null;
}

export interface RssReport {
  /** Highest VmRSS sampled during the phase, MB. */
  peak_mb: number;
  /** VmRSS at the start and at the end of the phase, MB. */
  start_mb: number;
  end_mb: number;
  /** VmHWM at the end: the peak since the process started, which may come from an earlier phase. */
  hwm_mb: number;
  /** [ms since the phase started, VmRSS MB] every ~second: lets a reader see whether RSS is flat. */
  series?: [number, number][];
  /** CPU seconds (user + system) the process used during the phase. */
  cpu_s?: number;
  /** Of cpu_s, those of its main thread (its event loop): loopCpuOf. */
  loop_cpu_s?: number;
}

/**
 * Samples VmRSS of each watched process every 100 ms. VmHWM alone cannot be used per phase: the
 * processes outlive a phase, and the high-water mark keeps the earlier phases' peak.
 */
export class RssSampler {
  private readonly stats = new Map<string, RssReport>();
  private readonly cpu0 = new Map<string, { all: number; loop: number | null }>();
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = now();
  private lastSeries = 0;

  constructor(private readonly watched: Watched[], private readonly keepSeries = false) {
    for (const { role, child } of watched) {
      const c = child.pid === undefined ? null : cpuOf(child.pid);
      if (c !== null) this.cpu0.set(role, { all: c, loop: loopCpuOf(child.pid!) });
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const t = now() - this.t0;
    const series = this.keepSeries && t - this.lastSeries >= 1000;
    if (series) this.lastSeries = t;
    for (const { role, child } of this.watched) {
      const m = child.pid === undefined ? null : memoryOf(child.pid);
      if (!m) continue;
      const s = this.stats.get(role) ?? { peak_mb: 0, start_mb: m.rss, end_mb: m.rss, hwm_mb: m.hwm, ...(this.keepSeries ? { series: [] } : {}) };
      s.peak_mb = Math.max(s.peak_mb, m.rss);
      s.end_mb = m.rss;
      s.hwm_mb = m.hwm;
      if (series) s.series!.push([Math.round(t), Math.round(m.rss)]);
      this.stats.set(role, s);
    }
  }

  stop(): Record<string, RssReport> {
    this.sample();
    clearInterval(this.timer);
    const round = (v: number) => Math.round(v * 10) / 10;
    for (const { role, child } of this.watched) {
      const c = child.pid === undefined ? null : cpuOf(child.pid);
      const loop = child.pid === undefined ? null : loopCpuOf(child.pid);
      const s = this.stats.get(role);
      const c0 = this.cpu0.get(role);
      if (c === null || !s || !c0) continue;
      s.cpu_s = Math.round((c - c0.all) * 100) / 100;
      if (loop !== null && c0.loop !== null) s.loop_cpu_s = Math.round((loop - c0.loop) * 100) / 100;
    }
    return Object.fromEntries([...this.stats].map(([role, s]) => [role, { ...s, peak_mb: round(s.peak_mb), start_mb: round(s.start_mb), end_mb: round(s.end_mb), hwm_mb: round(s.hwm_mb) }]));
  }
}

/** The 1-, 5- and 15-minute load averages, two decimals. */
export const load = (): number[] => loadavg().map((v) => Math.round(v * 100) / 100);
