/**
 * The floor peer: the least a durable webhook system does, on the same machine and bodies as
 * messo, so that the bench shows what durability alone costs here. One process:
 *
 * - node:http answers POST /api/events with 201 `{ event_id, seq }` once the event and its
 *   delivery are committed to SQLite (WAL, synchronous NORMAL, as messo). The POSTs that arrive
 *   in one event-loop turn are committed together (group commit); none is answered before.
 * - Unless PEER_WORKER is "0", a dispatcher claims pending deliveries (one UPDATE … RETURNING),
 *   POSTs each to PEER_TARGET with undici, PEER_CONCURRENCY in flight, signed the Standard
 *   Webhooks way, and marks the sent ones delivered (one transaction per turn).
 *
 * No tenants, API keys, webhooks table, search terms, rendered payloads, attempt log, retry
 * schedule, ordering, limits or lease recovery: each is work messo does on top of this. It is a
 * yardstick for issue 13's targets, not a design to copy.
 *
 * PEER_COPIES (`--floor-copies`) writes the event's data 1, 2 or 3 times, as messo writes a
 * pratica's document three times (the event, the pratica's projection keyed by its id, the
 * frozen payload): it measures what those copies cost alone.
 *
 * Env: PEER_DB (the SQLite file), PEER_TARGET (URL), PEER_CONCURRENCY, PEER_WORKER, PEER_COPIES.
 */
import Database from 'better-sqlite3';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const target = new URL(process.env.PEER_TARGET ?? 'http://127.0.0.1:1/hook');
const concurrency = Number(process.env.PEER_CONCURRENCY ?? 10);
const secret = randomBytes(24);

const db = new Database(process.env.PEER_DB ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (seq INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, completed_at INTEGER);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(seq) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS projections (id TEXT PRIMARY KEY, doc TEXT NOT NULL, event_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS payloads (id TEXT PRIMARY KEY, body TEXT NOT NULL);
`);

// ---- ingest: a group per event-loop turn, answered after its COMMIT

const copies = Number(process.env.PEER_COPIES ?? 1);
const upsertProjection = db.prepare('INSERT INTO projections (id, doc, event_seq) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, event_seq = excluded.event_seq');
const insertPayload = db.prepare('INSERT INTO payloads (id, body) VALUES (?, ?)');
interface Pending { eventId: string; appId: string; data: string; res: ServerResponse }
const insertEvent = db.prepare('INSERT INTO events (event_id, data, created_at) VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING seq');
const eventSeq = db.prepare('SELECT seq FROM events WHERE event_id = ?').pluck();
const insertDelivery = db.prepare("INSERT INTO deliveries (event_seq, status) VALUES (?, 'pending')");
const writeGroup = db.transaction((items: Pending[], now: number): number[] => items.map((it) => {
  const row = insertEvent.get(it.eventId, it.data, now) as { seq: number } | undefined;
  if (!row) return eventSeq.get(it.eventId) as number; // a repeated POST: the same event, no second delivery
  insertDelivery.run(row.seq);
  if (copies > 1) upsertProjection.run(it.appId, it.data, row.seq);
  if (copies > 2) insertPayload.run(`p${String(row.seq).padStart(12, '0')}`, it.data);
  return row.seq;
}));

let group: Pending[] = [];
function flushGroup(): void {
  const items = group;
  group = [];
  let seqs: number[];
  try {
    seqs = writeGroup.immediate(items, Date.now());
  } catch {
    for (const it of items) it.res.writeHead(503).end();
    return;
  }
  items.forEach((it, i) => it.res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ event_id: it.eventId, seq: seqs[i] })));
  wake();
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/events') return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    let event: { event_id?: unknown; data?: unknown };
    try {
      event = JSON.parse(text);
    } catch {
      return void res.writeHead(400).end();
    }
    if (typeof event.event_id !== 'string' || typeof event.data !== 'object' || event.data === null) return void res.writeHead(400).end();
    const appId = (event.data as { application?: { id?: unknown } }).application?.id;
    group.push({ eventId: event.event_id, appId: typeof appId === 'string' ? appId : event.event_id, data: JSON.stringify(event.data), res });
    if (group.length === 1) setImmediate(flushGroup);
  });
});
server.keepAliveTimeout = 60_000;

// ---- dispatch: claim, send, mark delivered

const claim = db.prepare(`UPDATE deliveries SET status = 'sending', attempts = attempts + 1
  WHERE seq IN (SELECT seq FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT ?) RETURNING seq, event_seq`);
const eventOf = db.prepare('SELECT event_id, data FROM events WHERE seq = ?');
const settle = db.prepare('UPDATE deliveries SET status = ?, completed_at = ? WHERE seq = ?');
// A failed send ends as `failed`: the floor has no retry schedule (messo's is part of what it adds).
const writeOutcomes = db.transaction((done: [number, boolean][], now: number) => {
  for (const [seq, ok] of done) settle.run(ok ? 'delivered' : 'failed', now, seq);
});

const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
const queue: { seq: number; eventId: string; body: string }[] = [];
let inFlight = 0;
let outcomes: [number, boolean][] = [];
let woken = false;
const dispatching = process.env.PEER_WORKER !== '0';

/** Claims more when the local queue runs low: at most one claim per turn, however many wake-ups. */
function wake(): void {
  if (!dispatching || woken) return;
  woken = true;
  setImmediate(pump);
}

function pump(): void {
  woken = false;
  if (queue.length < concurrency) {
    const rows = db.transaction(() => claim.all(concurrency * 4 - queue.length) as { seq: number; event_seq: number }[]).immediate();
    for (const r of rows) {
      const ev = eventOf.get(r.event_seq) as { event_id: string; data: string };
      const data = JSON.parse(ev.data) as { application?: Record<string, unknown> };
      queue.push({ seq: r.seq, eventId: ev.event_id, body: JSON.stringify({ ...(data.application ?? data), event_id: ev.event_id }) });
    }
  }
  while (inFlight < concurrency && queue.length > 0) void send(queue.shift()!);
}

async function send(d: { seq: number; eventId: string; body: string }): Promise<void> {
  inFlight++;
  let ok: boolean;
  try {
    const ts = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', secret).update(`${d.eventId}.${ts}.${d.body}`).digest('base64');
    const res = await pool.request({
      path: target.pathname, method: 'POST', body: d.body, headersTimeout: 15_000, bodyTimeout: 15_000,
      headers: { 'content-type': 'application/json', 'webhook-id': d.eventId, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signature}` },
    });
    await res.body.dump();
    ok = res.statusCode < 300;
  } catch {
    ok = false;
  }
  inFlight--;
  outcomes.push([d.seq, ok]);
  if (outcomes.length === 1) setImmediate(flushOutcomes);
}

function flushOutcomes(): void {
  const done = outcomes;
  outcomes = [];
  writeOutcomes.immediate(done, Date.now());
  wake();
}

server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));

process.on('SIGTERM', async () => {
  server.close();
  await pool.close();
  db.close();
  process.exit(0);
});
