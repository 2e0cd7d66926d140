/**
 * Fan-out jobs: the deliveries of an event whose fan-out did not fit in its own transaction
 * (outbox.ts `fanOut`), written here in transactions of at most `chunk` deliveries each, so that
 * no transaction holds SQLite's write lock, or a PostgreSQL connection, for long.
 *
 * The job row was committed with its event: the promise of the deliveries is as durable as the
 * event, and each chunk moves the job's cursor (`done_webhook_seq`) in the transaction that
 * writes its deliveries, so a crash between chunks neither loses nor repeats one. A tenant's
 * jobs are written strictly in order (only each tenant's oldest job is eligible), which keeps
 * its deliveries in event order per webhook and application. Between tenants, a pass serves the
 * tenant served longest ago (`turn_at` of its oldest job), filling its chunk from that tenant's
 * jobs in order. On PostgreSQL a job is locked while written; a process that finds a tenant's
 * oldest job locked takes another tenant's.
 */
import type { Keyring } from '../domain/encryption.js';
import type { EventRecord } from '../domain/events.js';
import { matches } from '../domain/matching.js';
import type { Db } from './db.js';
import { enqueue, recordSkips } from './outbox.js';
import { toEvent, toWebhook } from './rows.js';
import type { FanOutPass, Webhook } from './types.js';

/** Webhooks read per statement while a chunk fills. */
const WEBHOOK_PAGE = 500;

export interface FanOutContext {
  ring: Keyring;
  typePrefix?: string;
  /** Deliveries per transaction at most (MESSO_FANOUT_CHUNK). */
  chunk: number;
}

interface Job {
  seq: number;
  tenant_id: string;
  event_seq: number;
  done_webhook_seq: number;
  upto_webhook_seq: number;
}

const JOB_COLUMNS = 'seq, tenant_id, event_seq, done_webhook_seq, upto_webhook_seq';

/** Writes up to a chunk of deliveries of one tenant's oldest jobs, in transaction `t`. */
export async function expandNextFanOut(t: Db, ctx: FanOutContext): Promise<FanOutPass> {
  const lock = t.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  let job: Job | undefined = (await t.query<Job>(
    `SELECT ${JOB_COLUMNS} FROM fanout_jobs j WHERE seq = (SELECT MIN(seq) FROM fanout_jobs h WHERE h.tenant_id = j.tenant_id)
     ORDER BY turn_at, seq LIMIT 1${lock}`,
  ))[0];
  if (!job) return { job: false, deliveries: 0 };
  const tenantId = job.tenant_id;
  const now = Date.now();
  // The jobs of one batch read the same webhooks: each page is read (and opened) once a pass.
  const pages = new Map<string, { seq: number; hook: Webhook }[]>();
  const page = async (after: number, upto: number) => {
    const key = `${after} ${upto}`;
    let rows = pages.get(key);
    if (!rows) {
      rows = (await t.query(
        'SELECT * FROM webhooks WHERE tenant_id = ? AND seq > ? AND seq <= ? AND deleted_at IS NULL ORDER BY seq LIMIT ?',
        [tenantId, after, upto, WEBHOOK_PAGE],
      )).map((r) => ({ seq: Number(r.seq), hook: toWebhook(r, ctx.ring) }));
      pages.set(key, rows);
    }
    return rows;
  };
  let deliveries = 0;
  while (job && deliveries < ctx.chunk) {
    const ev = (await t.query('SELECT * FROM events WHERE seq = ?', [job.event_seq])).map(toEvent)[0];
    // An event removed meanwhile (retention) has nothing left to deliver: the job just ends.
    const done = ev ? await writeJob(t, ctx, job, ev, ctx.chunk - deliveries, page, now) : { done: Number(job.upto_webhook_seq), deliveries: 0 };
    deliveries += done.deliveries;
    if (done.done < Number(job.upto_webhook_seq)) {
      await t.execute('UPDATE fanout_jobs SET done_webhook_seq = ?, turn_at = ? WHERE seq = ?', [done.done, now, job.seq]);
      return { job: true, deliveries };
    }
    await t.execute('DELETE FROM fanout_jobs WHERE seq = ?', [job.seq]);
    job = (await t.query<Job>(
      `SELECT ${JOB_COLUMNS} FROM fanout_jobs WHERE tenant_id = ? ORDER BY seq LIMIT 1${t.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [tenantId],
    ))[0];
  }
  // The tenant's next job waits for its turn behind the other tenants' (least recently served first).
  if (job) await t.execute('UPDATE fanout_jobs SET turn_at = ? WHERE seq = ?', [now, job.seq]);
  return { job: true, deliveries };
}

/**
 * One job's deliveries, webhook by webhook from its cursor, at most `room`; returns the new
 * cursor (the job's `upto_webhook_seq` once every webhook is done) and the deliveries written.
 */
async function writeJob(
  t: Db, ctx: FanOutContext, job: Job, ev: EventRecord, room: number,
  page: (after: number, upto: number) => Promise<{ seq: number; hook: Webhook }[]>, now: number,
): Promise<{ done: number; deliveries: number }> {
  const upto = Number(job.upto_webhook_seq);
  let done = Number(job.done_webhook_seq);
  let deliveries = 0;
  while (done < upto && deliveries < room) {
    const rows = await page(done, upto);
    const taken: Webhook[] = [];
    const seen: Webhook[] = [];
    for (const { seq, hook } of rows) {
      const hit = matches(hook, ev);
      if (hit && deliveries + taken.length >= room) break;
      seen.push(hook);
      if (hit) taken.push(hook);
      done = seq;
    }
    // The page ran out before the room did: no webhook is left up to `upto`.
    if (seen.length === rows.length && rows.length < WEBHOOK_PAGE) done = upto;
    deliveries += await enqueue(t, ev, taken, now, ctx.typePrefix);
    await recordSkips(t, ev, seen, now);
  }
  return { done, deliveries };
}
