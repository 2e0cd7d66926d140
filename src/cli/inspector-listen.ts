/**
 * `messo listen --forward-to http://localhost:8080/hook`: webhooks to a developer's laptop.
 *
 * It creates (or reuses, `--bin`) an inspector bin on a messo server, prints its public URL,
 * and follows the bin's live stream (Server-Sent Events). Each capture is forwarded to the local
 * URL with its method, headers (minus hop-by-hop ones) and body byte for byte, one at a time in
 * arrival order, and one line is printed with the local answer and its time.
 *
 * States: connecting → streaming → (dropped → waiting → connecting)… until Ctrl-C. The cursor is
 * the seq of the last capture forwarded (or the stream's `ready` id); a reconnect sends it as
 * Last-Event-ID, so captures that arrived while the connection was down are forwarded then,
 * none twice. A stream silent for three heartbeats (45 s) is treated as dropped.
 */
import type { Command } from 'commander';
import { Option } from 'commander';

/** undici loads when a command first talks to a server, not for `messo --help`. */
const undici = () => import('undici');

export interface ServerOptions {
  server: string;
  token?: string;
  tenant?: string;
}

/** --server, --token, --tenant: shared by the commands that talk to a messo server. */
export function serverOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--server <url>', 'messo server').env('MESSO_URL').default('http://127.0.0.1:3000'))
    .addOption(new Option('--token <key>', 'a tenant API key (or the admin token with --tenant)').env('MESSO_API_KEY'))
    .addOption(new Option('--tenant <id>', 'act for this tenant (admin token only)').env('MESSO_TENANT_ID'));
}

const base = (o: ServerOptions) => o.server.replace(/\/+$/, '');

function authHeaders(o: ServerOptions): Record<string, string> {
  const h: Record<string, string> = {};
  if (o.token) h.authorization = `Bearer ${o.token}`;
  if (o.tenant) h['x-tenant-id'] = o.tenant;
  return h;
}

/** An API answer: the JSON as the caller expects it on success (a problem's `detail` otherwise), or undefined when not JSON. */
export interface ApiAnswer<T> {
  status: number;
  json: (Partial<T> & { detail?: string }) | undefined;
  text: string;
}

export async function apiRequest<T extends object>(o: ServerOptions, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<ApiAnswer<T>> {
  const headers = { ...authHeaders(o), ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const { request } = await undici();
  const res = await request(`${base(o)}${path}`, {
    method: method as 'GET', headers, body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000, bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  let json: ApiAnswer<T>['json'];
  try {
    json = JSON.parse(text) as ApiAnswer<T>['json'];
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text };
}

/** Headers that describe the connection to messo, not the message: never forwarded. */
const HOP_BY_HOP = new Set([
  'host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'expect',
]);

interface CaptureEvent {
  id: string;
  seq: number;
  method: string;
  path: string;
  query: string;
  headers: { name: string; value: string }[];
  body: string;
  body_encoding: 'utf8' | 'base64';
  body_truncated: boolean;
}

/**
 * A captured sub-path made inert: `.`/`..` segments, in any spelling (`%2e%2E`, `.%2e`), have
 * their `%` and dots escaped, and backslashes (a `/` to URL parsers) too, so that the sender of
 * a capture can never climb out of --forward-to's path on the developer's machine.
 */
function inertPath(path: string): string {
  return path.split('/').map((seg) => {
    let decoded = seg;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      /* kept as sent */
    }
    const s = seg.replace(/\\/g, '%5C');
    return decoded === '.' || decoded === '..' ? s.replace(/%/g, '%25').replace(/\./g, '%2E') : s;
  }).join('/');
}

/**
 * The local URL for a capture: its sub-path appended to the target's path, queries merged. Never
 * outside the target's path: a URL that would be is an error (the capture is not forwarded).
 */
export function forwardUrl(target: string, c: Pick<CaptureEvent, 'path' | 'query'>): string {
  const u = new URL(target);
  const base = u.pathname.replace(/\/+$/, '');
  if (c.path && c.path !== '/') u.pathname = base + inertPath(c.path);
  if (base !== '' && u.pathname !== base && !u.pathname.startsWith(`${base}/`)) {
    throw new Error(`the captured path ${c.path} would leave ${target}: not forwarded`);
  }
  const query = [u.search.replace(/^\?/, ''), c.query].filter(Boolean).join('&');
  u.search = query ? `?${query}` : '';
  return u.toString();
}

const clock = () => new Date().toTimeString().slice(0, 8);

interface ListenOpts extends ServerOptions {
  forwardTo: string;
  bin?: string;
}

const SILENCE_MS = 45_000;
const MAX_BACKOFF_MS = 5_000;

async function listen(o: ListenOpts): Promise<void> {
  try {
    new URL(o.forwardTo);
  } catch {
    throw new Error(`--forward-to ${o.forwardTo} is not a URL such as http://localhost:8080/hook`);
  }
  // Without a key, anonymous bins (servers with MESSO_INSPECTOR_PUBLIC=true).
  const prefix = o.token ? '/api/inspector' : '/public/inspector';
  let bin: { id: string; url: string };
  let cursor: number | null;
  if (o.bin) {
    const r = await apiRequest<typeof bin>(o, 'GET', `${prefix}/bins/${encodeURIComponent(o.bin)}`);
    if (r.status !== 200 || !r.json?.id || !r.json.url) throw new Error(`bin ${o.bin}: ${r.status} ${r.json?.detail ?? r.text}`);
    bin = { id: r.json.id, url: r.json.url };
    cursor = null; // from now: the stream's ready event says where that is
  } else {
    const r = await apiRequest<typeof bin>(o, 'POST', `${prefix}/bins`, { name: 'messo listen' });
    if (r.status !== 201 || !r.json?.id || !r.json.url) throw new Error(`creating a bin: ${r.status} ${r.json?.detail ?? r.text}`);
    bin = { id: r.json.id, url: r.json.url };
    cursor = 0; // a new bin: everything it ever received, even before the stream opened
  }
  process.stdout.write(`messo listen: forwarding to ${o.forwardTo}\n  public URL: ${bin.url}\n  bin id:     ${bin.id} (reuse it with --bin ${bin.id})\n  Ctrl-C to stop.\n\n`);

  const stop = new AbortController();
  const quit = () => stop.abort();
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);

  let backoff = 250;
  while (!stop.signal.aborted) {
    const connection = new AbortController();
    const onStop = () => connection.abort();
    stop.signal.addEventListener('abort', onStop);
    let silence: NodeJS.Timeout | undefined;
    const quiet = () => {
      clearTimeout(silence);
      silence = setTimeout(() => connection.abort(), SILENCE_MS);
    };
    try {
      const headers: Record<string, string> = { ...authHeaders(o), accept: 'text/event-stream' };
      if (cursor !== null) headers['last-event-id'] = String(cursor);
      const { request } = await undici();
      const res = await request(`${base(o)}${prefix}/bins/${encodeURIComponent(bin.id)}/stream`, { headers, signal: connection.signal });
      if (res.statusCode === 404) throw Object.assign(new Error('the bin no longer exists'), { fatal: true });
      if (res.statusCode !== 200) throw new Error(`stream answered ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
      quiet();
      let buffer = '';
      for await (const chunk of res.body) {
        quiet();
        buffer += chunk.toString();
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const ev = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (ev.event === 'ready') {
            backoff = 250;
            if (cursor === null && ev.id) cursor = Number(ev.id);
          } else if (ev.event === 'request') {
            await forward(o, prefix, bin.id, JSON.parse(ev.data) as CaptureEvent);
            cursor = Number(ev.id);
            quiet(); // a slow local receiver is not a silent stream
          } else if (ev.event === 'gone') {
            throw Object.assign(new Error('the bin was deleted or expired'), { fatal: true });
          }
        }
      }
      if (!stop.signal.aborted) process.stderr.write(`${clock()}  stream closed by the server; reconnecting\n`);
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) {
        stop.signal.removeEventListener('abort', onStop);
        throw err;
      }
      if (!stop.signal.aborted) process.stderr.write(`${clock()}  stream lost (${(err as { code?: string }).code ?? (err as Error).message}); reconnecting in ${backoff} ms\n`);
    } finally {
      clearTimeout(silence);
      stop.signal.removeEventListener('abort', onStop);
    }
    if (stop.signal.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, backoff));
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
  process.off('SIGINT', quit);
  process.off('SIGTERM', quit);
}

function parseEvent(block: string): { id?: string; event: string; data: string } {
  const ev: { id?: string; event: string; data: string } = { event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') ev.id = value;
    else if (field === 'event') ev.event = value;
    else if (field === 'data') data.push(value);
  }
  ev.data = data.join('\n');
  return ev;
}

async function forward(o: ListenOpts, prefix: string, binId: string, c: CaptureEvent): Promise<void> {
  if (c.body_truncated) {
    // Live events carry the first 64 KiB; the whole body is one request away.
    const full = await apiRequest<CaptureEvent>(o, 'GET', `${prefix}/bins/${encodeURIComponent(binId)}/requests/${encodeURIComponent(c.id)}`);
    if (full.status === 200 && full.json) c = { ...c, ...full.json };
  }
  let url: string;
  try {
    url = forwardUrl(o.forwardTo, c);
  } catch (err) {
    process.stdout.write(`${clock()}  ${c.method} ${c.path || '/'}  →  ${(err as Error).message}\n`);
    return;
  }
  const headers = c.headers.filter((h) => !HOP_BY_HOP.has(h.name.toLowerCase())).flatMap((h) => [h.name, h.value]);
  const body = Buffer.from(c.body, c.body_encoding === 'base64' ? 'base64' : 'utf8');
  const shown = `${c.method} ${c.path || '/'}${c.query ? `?${c.query}` : ''}`;
  const started = performance.now();
  try {
    const { request } = await undici();
    const res = await request(url, {
      method: c.method as 'POST', headers, body: body.length > 0 ? body : undefined,
      headersTimeout: 30_000, bodyTimeout: 30_000,
    });
    await res.body.dump();
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`${clock()}  ${shown}  →  ${res.statusCode}  (${ms} ms)\n`);
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    const e = err as { code?: string; message?: string };
    process.stdout.write(`${clock()}  ${shown}  →  error ${e.code ?? ''} ${e.message ?? ''}  (${ms} ms)\n`);
  }
}

export function registerListenCommand(program: Command): void {
  const cmd = program.command('listen')
    .description('receive webhooks on your machine: create (or reuse) an inspector bin, print its public URL, forward every request it gets to a local URL')
    .requiredOption('--forward-to <url>', 'local URL, e.g. http://localhost:8080/hook (a capture\'s sub-path and query are appended)')
    .option('--bin <id>', 'reuse this bin instead of creating one (its URL stays the same across runs)');
  serverOptions(cmd)
    .addHelpText('after', `
Without --token, an anonymous bin is used (servers with MESSO_INSPECTOR_PUBLIC=true).
Example:
  MESSO_URL=https://webhooks.comune.example.it MESSO_API_KEY=messo_… messo listen --forward-to http://localhost:8080/hook`)
    .action(async (opts: ListenOpts) => listen(opts));
}
