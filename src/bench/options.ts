/**
 * The bench's flags, read once. An unknown flag or a bad value stops the run with its name:
 * a typo would otherwise measure the default and look like a result.
 */
export const PHASES = ['ingest', 'e2e', 'paced', 'fanout', 'backlog'] as const;
export type Phase = (typeof PHASES)[number];
export type IngestMode = 'single' | 'batch' | 'opencity';
/** The peers deploy.ts can start beside messo. */
export type PeerKind = 'bullmq' | 'floor';

export interface BenchOptions {
  /** Events per closed-loop phase (ingest alone, end to end) and per plain loop. */
  events: number;
  ingest: IngestMode;
  /** Requests in flight from the load generator in the closed loops (an OpenCity core's workers). */
  inflight: number;
  /**
   * `keep-alive` (default): the generator keeps its connections. `close`: a connection per
   * request, as an OpenCity core's PHP workers open one for every event they post.
   */
  connection: 'keep-alive' | 'close';
  /** The client's timeout per request: the core gives up after 2 s (the default, but 60 s for batches). */
  timeoutMs: number;
  /** messo's per-endpoint concurrency (MESSO_ENDPOINT_CONCURRENCY), and the plain delivery loop's. */
  concurrency: number;
  store: 'sqlite' | 'postgres';
  workers: number;
  endpoints: number;
  rate: number;
  pacedSeconds: number;
  /** Connections the open loop may open; a request beyond them waits in the client, and that wait counts. */
  openConnections: number;
  fanout: number;
  fanoutOrigins: number;
  backlog: number;
  backlogSeconds: number;
  runs: number;
  /** Peers measured after messo in the same run (`--peer bullmq,floor`); none by default. */
  peers: PeerKind[];
  /** How many times the floor peer writes an event's data (1–3; peer-floor.ts). */
  floorCopies: number;
  phases: Phase[];
  json: string | null;
  databaseUrl: string;
}

export const DEFAULTS: Readonly<Record<string, string>> = {
  events: '10000', ingest: 'single', connection: 'keep-alive', inflight: '32', timeout: '', concurrency: '10', store: 'sqlite', workers: '1',
  endpoints: '1', rate: '1000', 'paced-seconds': '5', 'open-connections': '256', fanout: '1000', 'fanout-origins': '4',
  backlog: '0', 'backlog-seconds': '20', runs: '1', peer: 'none', 'floor-copies': '1', phases: 'ingest,e2e,paced,fanout', json: '',
  'database-url': 'postgres://postgres@127.0.0.1:5432/test',
};

/** What `npm run bench -- --help` prints: the flags and their defaults (BENCHMARKS.md has the method). */
export const USAGE = `usage: npm run bench -- [flags]   (each flag takes a value; defaults in brackets)
  --ingest single|batch|opencity [single]   what one request carries (single: one event per POST, as a core sends)
  --events N [10000]            events per closed-loop phase and per plain loop
  --inflight N [32]             requests in flight in the closed loops
  --timeout MS [2000]           the client's timeout per request (60000 for batches)
  --connection keep-alive|close [keep-alive]
  --store sqlite|postgres [sqlite]    --database-url URL [postgres://postgres@127.0.0.1:5432/test]
  --workers N [1]               0: one process (API and dispatcher); N: an API and N workers
  --endpoints N [1]  --concurrency N [10]
  --rate N [1000]  --paced-seconds N [5]  --open-connections N [256]   the open loop
  --fanout N [1000]  --fanout-origins N [4]
  --backlog N [0]  --backlog-seconds N [20]   RSS with N deliveries waiting
  --phases ingest,e2e,paced,fanout,backlog [ingest,e2e,paced,fanout]
  --peer none|bullmq,floor [none]   --floor-copies 1|2|3 [1]
  --runs N [1]                  medians of N runs
  --json FILE                   every run's rows, and the medians
MESSO_BENCH_PROFILE=dir writes a CPU profile of each messo process; MESSO_BENCH_NODE_ARGS adds Node flags;
MESSO_BENCH_NODE=path runs messo's processes on another Node.js binary (better-sqlite3 built for its ABI).
`;

/** Whether the arguments ask for the usage instead of a run. */
export const wantsHelp = (argv: string[]): boolean => argv.includes('--help') || argv.includes('-h');

function fail(msg: string): never {
  throw new Error(`bench: ${msg}`);
}

const PEERS: readonly PeerKind[] = ['bullmq', 'floor'];

/** `--peer none`, or a comma list of peers (deploy.ts deployPeer). */
function peers(value: string): PeerKind[] {
  if (value === 'none') return [];
  const list = [...new Set(value.split(',').map((p) => p.trim()).filter(Boolean))] as PeerKind[];
  for (const p of list) if (!PEERS.includes(p)) fail(`--peer: unknown peer ${p} (none, or a list of: ${PEERS.join(', ')})`);
  return list;
}

export function parseOptions(argv: string[]): BenchOptions {
  const raw = new Map(Object.entries(DEFAULTS));
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !raw.has(name)) fail(`unknown flag ${argv[i]} (flags: ${[...raw.keys()].map((k) => `--${k}`).join(' ')}; --help says more)`);
    if (argv[i + 1] === undefined) fail(`--${name} needs a value`);
    raw.set(name, argv[i + 1]);
  }
  const int = (name: string, min: number, max: number): number => {
    const v = Number(raw.get(name));
    if (!Number.isInteger(v) || v < min || v > max) fail(`--${name} must be an integer from ${min} to ${max}, not ${raw.get(name)}`);
    return v;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T => {
    const v = raw.get(name) as T;
    if (!allowed.includes(v)) fail(`--${name} must be one of ${allowed.join(', ')}, not ${v}`);
    return v;
  };
  const phases = raw.get('phases')!.split(',').map((p) => p.trim()).filter(Boolean) as Phase[];
  for (const p of phases) if (!PHASES.includes(p)) fail(`--phases: unknown phase ${p} (phases: ${PHASES.join(', ')})`);
  const backlog = int('backlog', 0, 10_000_000);
  // --backlog N asks for the backlog phase even when --phases does not name it.
  if (backlog > 0 && !phases.includes('backlog')) phases.push('backlog');
  return {
    events: int('events', 100, 10_000_000),
    ingest: oneOf('ingest', ['single', 'batch', 'opencity']),
    connection: oneOf('connection', ['keep-alive', 'close']),
    inflight: int('inflight', 1, 4096),
    // A batch of 1,000 takes longer than the core's 2 s for one event: batches get a minute unless told.
    timeoutMs: raw.get('timeout') === '' ? (raw.get('ingest') === 'batch' ? 60_000 : 2000) : int('timeout', 1, 600_000),
    concurrency: int('concurrency', 1, 1000),
    store: oneOf('store', ['sqlite', 'postgres']),
    workers: int('workers', 0, 64),
    endpoints: int('endpoints', 1, 64),
    rate: int('rate', 1, 1_000_000),
    pacedSeconds: int('paced-seconds', 1, 3600),
    openConnections: int('open-connections', 1, 10_000),
    fanout: int('fanout', 1, 100_000),
    fanoutOrigins: int('fanout-origins', 1, 64),
    backlog,
    backlogSeconds: int('backlog-seconds', 1, 3600),
    runs: int('runs', 1, 100),
    peers: peers(raw.get('peer')!),
    floorCopies: int('floor-copies', 1, 3),
    phases,
    json: raw.get('json') || null,
    databaseUrl: raw.get('database-url')!,
  };
}
