/**
 * How a bench run is told: one line per row as a Markdown table (it pastes into BENCHMARKS.md),
 * the median of each figure over `--runs`, and everything as JSON with `--json file`. A report,
 * never a gate: nothing here fails a run on a number.
 */
import type { BenchOptions } from './options.js';
import type { Row } from './phases.js';
import type { RssReport } from './procs.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * One row per phase and system: each metric is the median over the runs (its range in
 * detail.range), peak RSS the highest of any run, the load average from the first run's start
 * to the last run's end.
 */
export function medianRows(runs: Row[][]): Row[] {
  if (runs.length === 1) return runs[0];
  return runs[0].map((first, i) => {
    const same = runs.map((rows) => rows.find((r) => r.phase === first.phase && r.system === first.system) ?? rows[i]);
    const metrics: Row['metrics'] = {};
    const range: Record<string, [number, number]> = {};
    for (const key of Object.keys(first.metrics)) {
      const xs = same.map((r) => r.metrics[key]).filter((v): v is number => typeof v === 'number');
      metrics[key] = xs.length ? Math.round(median(xs) * 1000) / 1000 : null;
      if (xs.length) range[key] = [Math.min(...xs), Math.max(...xs)];
    }
    // RSS: the highest peak of any run; CPU: the median of the runs, as the rates (until the
    // eighteenth session a median row showed its last run's CPU).
    const rss = { ...same[same.length - 1].rss };
    for (const role of Object.keys(rss)) {
      const cpu = (key: 'cpu_s' | 'loop_cpu_s') => {
        const xs = same.map((r) => r.rss[role]?.[key]).filter((v): v is number => typeof v === 'number');
        return xs.length ? { [key]: Math.round(median(xs) * 100) / 100 } : {};
      };
      rss[role] = { ...rss[role], peak_mb: Math.max(...same.map((r) => r.rss[role]?.peak_mb ?? 0)), ...cpu('cpu_s'), ...cpu('loop_cpu_s') };
    }
    return { ...first, metrics, rss, detail: { ...first.detail, runs: runs.length, range }, load_after: same[same.length - 1].load_after };
  });
}

const n = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '–' : v.toLocaleString('en', { maximumFractionDigits: digits }));
const pctOf = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${Math.round(v * 1000) / 10} %`);
const lat = (m: Row['metrics'], prefix: string) => `${n(m[`${prefix}_p50_ms`], 1)} / ${n(m[`${prefix}_p99_ms`], 1)} / ${n(m[`${prefix}_max_ms`], 1)} ms`;
const failures = (r: Row) => {
  const m = r.metrics;
  const statuses = Object.entries((r.detail.non_2xx ?? {}) as Record<string, number>).map(([s, k]) => `${k} × ${s}`).join(', ');
  const parts = [m.timeouts ? `${m.timeouts} timeouts` : '', m.over_timeout ? `${m.over_timeout} over the 2 s timeout` : '', m.non_2xx ? `non-2xx: ${statuses || m.non_2xx}` : '', m.errors ? `${m.errors} errors` : ''].filter(Boolean);
  return parts.length ? `; **${parts.join(', ')}**` : '';
};

/** The figures of one row in words: what a reader compares. */
function figures(r: Row): string {
  const m = r.metrics;
  switch (r.phase) {
    case 'plain':
      return m.events_per_s !== undefined ? `${n(m.events_per_s)} ev/s; answer p50/p99/max ${lat(m, 'answer')}${failures(r)}` : `${n(m.deliveries_per_s)} deliveries/s`;
    case 'ingest':
      return `${n(m.events_per_s)} ev/s; 2xx p50/p99/max ${lat(m, 'answer')}${failures(r)}`;
    case 'e2e':
      // After client timeouts, some events were never accepted: say how many of those sent arrived.
      return `${n(m.deliveries_per_s)} deliveries/s (ingest ${n(m.events_per_s)} ev/s, 2xx p50/p99 ${n(m.answer_p50_ms, 1)} / ${n(m.answer_p99_ms, 1)} ms)${m.delivered !== m.sent ? `, ${n(m.delivered)} of ${n(m.sent)} delivered` : ''}${m.duplicates ? `, ${m.duplicates} duplicates` : ''}${m.claims ? `; ${n(m.claims)} claims, ${n(m.empty_claims)} empty` : ''}${failures(r)}`;
    case 'paced':
      return `at ${n(m.target_per_s)}/s: accepted ${n(m.accepted_per_s)}/s, delivered ${n(m.delivered_per_s)}/s; scheduled → arrival p50/p99/max ${lat(m, 'arrival')}; scheduled → 2xx ${lat(m, 'answer')}${failures(r)}${(m.client_lag_ms ?? 0) > 50 ? ` (client lagged ${n(m.client_lag_ms)} ms)` : ''}`;
    case 'fanout':
      return `all ${n(m.arrived)} arrived in ${n(m.all_arrived_ms, 1)} ms (first ${n(m.first_arrival_ms, 1)}, p50 ${n(m.p50_arrival_ms, 1)}); 201 in ${n(m.answer_ms, 1)} ms`;
    case 'backlog': {
      const grow = Object.entries(r.rss).map(([role, s]) => `${role} ${n(s.start_mb)} → ${n(s.end_mb)} MB (${flat(s.start_mb, s.end_mb) ? 'flat' : 'grew'})`).join(', ');
      return `inserted in ${n(m.insert_s, 1)} s (${n(m.inserted_per_s)}/s); RSS over the next ${n(m.held_s)} s: ${grow}; ${n(m.requests_open)} requests held open`;
    }
  }
}

/** Flat: grew by less than 10 % or 20 MB over the window, whichever is larger (GC alone moves RSS by that much). */
export const flat = (start: number, end: number) => end - start < Math.max(20, start * 0.1);

/** ` (CPU 9.4 s, loop 7.1)`: all its threads, then its main thread's (procs.ts loopCpuOf). */
export const cpuText = (s: Pick<RssReport, 'cpu_s' | 'loop_cpu_s'>): string =>
  s.cpu_s === undefined ? '' : ` (CPU ${s.cpu_s} s${s.loop_cpu_s === undefined ? '' : `, loop ${s.loop_cpu_s}`})`;

const ratioOf = (r: Row) => (r.metrics.ratio_to_plain === undefined ? '' : pctOf(r.metrics.ratio_to_plain));
const rssOf = (r: Row) => {
  const procs = Object.entries(r.rss).map(([role, s]) => `${role} ${n(s.peak_mb)}${cpuText(s)}`).join(', ') || '–';
  // The local database server's CPU (phases.ts measured): no RSS, its shared memory would count in every backend.
  return typeof r.metrics.server_cpu_s === 'number' ? `${procs}; PostgreSQL CPU ${r.metrics.server_cpu_s} s` : procs;
};

export function table(rows: Row[]): string {
  const lines = [
    '| phase | system | figures | of plain | peak RSS MB (CPU used: all threads, loop = its main thread) | load before → after |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.phase} | ${r.system} | ${figures(r)} | ${ratioOf(r)} | ${rssOf(r)} | ${r.load_before[0]} → ${r.load_after[0]} |`),
  ];
  return lines.join('\n');
}

/** `messoNode`: the version of MESSO_BENCH_NODE's binary, when messo's processes run on another Node.js than the bench. */
export function header(o: BenchOptions, runs: number, messoNode?: string): string {
  return [
    `messo bench, ${new Date().toISOString()}: ${o.store}, ${o.workers === 0 ? 'one process' : `API + ${o.workers} worker(s)`}, ingest ${o.ingest}${o.connection === 'close' ? ' (a connection per request)' : ''}, ${o.events.toLocaleString('en')} events, ${o.inflight} in flight, ${o.timeoutMs} ms client timeout,`,
    `${o.endpoints} receiver origin(s), paced ${o.rate}/s for ${o.pacedSeconds} s${o.peers.length > 0 ? `, peer ${o.peers.join(', ')}` : ''}${runs > 1 ? `; median of ${runs} runs` : ''}.`,
    `Node.js ${process.version}${messoNode ? `; messo's processes on ${messoNode}` : ''}.`,
    '"of plain" = rate / the plain loop\'s ev/s in the same run (same client, bodies and in-flight count, straight to the receiver).',
    'Load average = 1-minute, before → after each phase; the machine may be shared, so absolute figures are provisional.',
  ].join('\n');
}
