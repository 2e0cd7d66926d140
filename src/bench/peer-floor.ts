/**
 * The floor peer: the least a durable webhook system does, on the same machine and bodies as
 * messo, so that the bench shows what durability alone costs here. One process:
 *
 * - node:http answers POST /api/events with 201 `{ event_id, seq }` once the event and its
 *   delivery are committed. The POSTs that arrive in one event-loop turn are committed together
 *   (group commit); none is answered before its commit.
 * - Unless PEER_WORKER is "0", a dispatcher claims pending deliveries (one UPDATE … RETURNING),
 *   POSTs each to PEER_TARGET with undici, PEER_CONCURRENCY in flight, signed the Standard
 *   Webhooks way, and marks the sent ones delivered (one write per turn). A failed send ends as
 *   `failed`: the floor has no retry schedule.
 *
 * The store is a SQLite file (PEER_DB; WAL, synchronous NORMAL, as messo) or, with
 * PEER_DATABASE_URL, a PostgreSQL schema of its own (PEER_SCHEMA; each group one statement in
 * its own transaction, committed durably as messo commits an ingest).
 *
 * No tenants, API keys, webhooks table, search terms, rendered payloads, attempt log, retry
 * schedule, ordering, limits or lease recovery: each is work messo does on top of this. It is a
 * yardstick for issue 13's targets, not a design to copy.
 *
 * PEER_COPIES (`--floor-copies`) writes the event's data 1, 2 or 3 times, as messo writes a
 * pratica's document three times (the event, the pratica's projection keyed by its id, the
 * frozen payload): it measures what those copies cost alone.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { eventServer, signedPost, webhookBody } from './peer-http.js';

const target = new URL(process.env.PEER_TARGET ?? 'http://127.0.0.1:1/hook');
const concurrency = Number(process.env.PEER_CONCURRENCY ?? 10);
const copies = Number(process.env.PEER_COPIES ?? 1);
const dispatching = process.env.PEER_WORKER !== '0';

interface NewEvent { eventId: string; appId: string; data: string }
interface Claimed { seq: number; eventId: string; data: string }

/** What the floor asks of its store: what a call returns is committed. */
interface FloorStore {
  /** Writes a group's events and their deliveries; the seq of each (a repeated event_id: its first seq, no new delivery). */
  writeGroup(items: NewEvent[], now: number): Promise<number[]>;
  /** Takes up to `limit` pending deliveries, oldest first, with their event. */
  claim(limit: number): Promise<Claimed[]>;
  settle(done: [number, boolean][], now: number): Promise<void>;
  close(): Promise<void>;
}

const payloadId = (seq: number) => `p${String(seq).padStart(12, '0')}`;

/** The floor's tables, in either dialect: `key` is its row key's type, `int` its integer's. */
const tables = (key: string, int: string) => `
CREATE TABLE IF NOT EXISTS events (seq ${key}, event_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL, created_at ${int} NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (seq ${key}, event_seq ${int} NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, completed_at ${int});
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(seq) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS projections (id TEXT PRIMARY KEY, doc TEXT NOT NULL, event_seq ${int} NOT NULL);
CREATE TABLE IF NOT EXISTS payloads (id TEXT PRIMARY KEY, body TEXT NOT NULL);
`;

function sqliteStore(file: string): FloorStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(tables('INTEGER PRIMARY KEY', 'INTEGER'));
  const insertEvent = db.prepare('INSERT INTO events (event_id, data, created_at) VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING seq');
  const eventSeq = db.prepare('SELECT seq FROM events WHERE event_id = ?').pluck();
  const insertDelivery = db.prepare("INSERT INTO deliveries (event_seq, status) VALUES (?, 'pending')");
  const project = db.prepare('INSERT INTO projections (id, doc, event_seq) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, event_seq = excluded.event_seq');
  const insertPayload = db.prepare('INSERT INTO payloads (id, body) VALUES (?, ?)');
  const writeGroup = db.transaction((items: NewEvent[], now: number): number[] => items.map((it) => {
    const row = insertEvent.get(it.eventId, it.data, now) as { seq: number } | undefined;
    if (!row) return eventSeq.get(it.eventId) as number;
    insertDelivery.run(row.seq);
    if (copies > 1) project.run(it.appId, it.data, row.seq);
    if (copies > 2) insertPayload.run(payloadId(row.seq), it.data);
    return row.seq;
  }));
  const claim = db.prepare(`UPDATE deliveries SET status = 'sending', attempts = attempts + 1
    WHERE seq IN (SELECT seq FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT ?) RETURNING seq, event_seq`);
  const eventOf = db.prepare('SELECT event_id, data FROM events WHERE seq = ?');
  const takeClaim = db.transaction((limit: number): Claimed[] => (claim.all(limit) as { seq: number; event_seq: number }[]).map((r) => {
    const ev = eventOf.get(r.event_seq) as { event_id: string; data: string };
    return { seq: r.seq, eventId: ev.event_id, data: ev.data };
  }));
  const settleOne = db.prepare('UPDATE deliveries SET status = ?, completed_at = ? WHERE seq = ?');
  const settle = db.transaction((done: [number, boolean][], now: number) => {
    for (const [seq, ok] of done) settleOne.run(ok ? 'delivered' : 'failed', now, seq);
  });
  return {
    writeGroup: async (items, now) => writeGroup.immediate(items, now),
    claim: async (limit) => takeClaim.immediate(limit),
    settle: async (done, now) => settle.immediate(done, now),
    close: async () => {
      db.close();
    },
  };
}

async function postgresStore(url: string, schema: string): Promise<FloorStore> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  // Parsed as numbers: seqs stay far below 2^53 here.
  pg.types.setTypeParser(20, Number);
  const pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path=${schema}` });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await pool.query(tables('bigserial PRIMARY KEY', 'bigint'));
  // A group in one statement: its events, their deliveries and copies, the seqs of the new ones.
  // Within a group an event_id appears once (a repeat waits for the next group).
  const WRITE = `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS i(event_id, app_id, data)),
    ev AS (INSERT INTO events (event_id, data, created_at) SELECT event_id, data, $4::bigint FROM input
      ON CONFLICT (event_id) DO NOTHING RETURNING seq, event_id, data),
    dl AS (INSERT INTO deliveries (event_seq, status) SELECT seq, 'pending' FROM ev),
    pr AS (INSERT INTO projections (id, doc, event_seq)
      SELECT DISTINCT ON (i.app_id) i.app_id, ev.data, ev.seq FROM ev JOIN input i USING (event_id) WHERE $5::int > 1 ORDER BY i.app_id, ev.seq DESC
      ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, event_seq = excluded.event_seq),
    pl AS (INSERT INTO payloads (id, body) SELECT 'p' || lpad(seq::text, 12, '0'), data FROM ev WHERE $5::int > 2)
    SELECT seq, event_id FROM ev`;
  return {
    async writeGroup(items, now) {
      const seqs = new Map<string, number>();
      const pending = [...items];
      while (pending.length > 0) {
        const batch: NewEvent[] = [];
        const ids = new Set<string>();
        for (let i = 0; i < pending.length;) {
          if (ids.has(pending[i].eventId)) i++;
          else { ids.add(pending[i].eventId); batch.push(...pending.splice(i, 1)); }
        }
        const { rows } = await pool.query<{ seq: number; event_id: string }>(
          WRITE, [batch.map((b) => b.eventId), batch.map((b) => b.appId), batch.map((b) => b.data), now, copies]);
        for (const r of rows) seqs.set(r.event_id, r.seq);
        const repeated = batch.filter((b) => !seqs.has(b.eventId)).map((b) => b.eventId);
        if (repeated.length > 0) {
          const old = await pool.query<{ seq: number; event_id: string }>('SELECT seq, event_id FROM events WHERE event_id = ANY($1::text[])', [repeated]);
          for (const r of old.rows) seqs.set(r.event_id, r.seq);
        }
      }
      return items.map((it) => seqs.get(it.eventId)!);
    },
    async claim(limit) {
      const { rows } = await pool.query<{ seq: number; event_id: string; data: string }>(
        `WITH c AS (UPDATE deliveries SET status = 'sending', attempts = attempts + 1 WHERE seq IN (
           SELECT seq FROM deliveries WHERE status = 'pending' ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING seq, event_seq)
         SELECT c.seq, e.event_id, e.data FROM c JOIN events e ON e.seq = c.event_seq ORDER BY c.seq`, [limit]);
      return rows.map((r) => ({ seq: r.seq, eventId: r.event_id, data: r.data }));
    },
    async settle(done, now) {
      await pool.query(`UPDATE deliveries d SET status = CASE WHEN o.ok THEN 'delivered' ELSE 'failed' END, completed_at = $3
        FROM unnest($1::bigint[], $2::boolean[]) AS o(seq, ok) WHERE d.seq = o.seq`, [done.map(([s]) => s), done.map(([, ok]) => ok), now]);
    },
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

const store = process.env.PEER_DATABASE_URL
  ? await postgresStore(process.env.PEER_DATABASE_URL, process.env.PEER_SCHEMA ?? 'bench_floor')
  : sqliteStore(process.env.PEER_DB ?? ':memory:');

// ---- ingest: a group per event-loop turn, answered after its commit

let group: { ev: NewEvent; res: ServerResponse }[] = [];

async function flushGroup(): Promise<void> {
  const items = group;
  group = [];
  let seqs: number[];
  try {
    seqs = await store.writeGroup(items.map((i) => i.ev), Date.now());
  } catch {
    for (const it of items) it.res.writeHead(503).end();
    return;
  }
  items.forEach((it, i) => it.res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ event_id: it.ev.eventId, seq: seqs[i] })));
  wake();
}

const server = eventServer((event, res) => {
  const appId = event.data.application?.id;
  group.push({ ev: { eventId: event.event_id, appId: typeof appId === 'string' ? appId : event.event_id, data: JSON.stringify(event.data) }, res });
  if (group.length === 1) setImmediate(() => void flushGroup());
});

// ---- dispatch: claim, send, mark delivered

const http = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
const queue: { seq: number; eventId: string; body: string }[] = [];
let inFlight = 0;
let outcomes: [number, boolean][] = [];
let woken = false;
let claiming = false;
/** A wake-up that came while a claim was out: claim again when it is back. */
let again = false;

/** Claims more when the local queue runs low: one claim at a time, however many wake-ups. */
function wake(): void {
  if (!dispatching || woken) return;
  woken = true;
  setImmediate(() => void pump());
}

async function pump(): Promise<void> {
  woken = false;
  if (claiming) again = true;
  else if (queue.length < concurrency) {
    claiming = true;
    try {
      for (const r of await store.claim(concurrency * 4 - queue.length)) {
        queue.push({ seq: r.seq, eventId: r.eventId, body: webhookBody({ event_id: r.eventId, data: JSON.parse(r.data) }) });
      }
    } finally {
      claiming = false;
    }
    if (again) {
      again = false;
      wake();
    }
  }
  while (inFlight < concurrency && queue.length > 0) void send(queue.shift()!);
}

async function send(d: { seq: number; eventId: string; body: string }): Promise<void> {
  inFlight++;
  let ok: boolean;
  try {
    ok = (await signedPost(http, target, d.eventId, d.body)) < 300;
  } catch {
    ok = false;
  }
  inFlight--;
  outcomes.push([d.seq, ok]);
  if (outcomes.length === 1) setImmediate(() => void flushOutcomes());
}

async function flushOutcomes(): Promise<void> {
  const done = outcomes;
  outcomes = [];
  await store.settle(done, Date.now());
  wake();
}

server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));

process.on('SIGTERM', async () => {
  server.close();
  await http.close();
  await store.close();
  process.exit(0);
});
