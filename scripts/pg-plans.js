#!/usr/bin/env node
// How many pages each read of an operator's pages costs on PostgreSQL, in pages per call from
// pg_stat_statements: steadier than any time on a shared machine, and it shows a plan that walks
// a whole tenant. On a new schema (one connection, so one plan cache) it runs every list and
// count of the store six times on the empty tables, adds 5,000 pratiche with a delivery each,
// then runs each read three times and prints the most expensive statements.
//   node scripts/pg-plans.js [checkout, built] [--analyze | --keep-statistics]
// --analyze runs ANALYZE on the tables first; --keep-statistics asks the store to (what the
// engine does each minute). Needs pg_stat_statements loaded (shared_preload_libraries, then
// CREATE EXTENSION pg_stat_statements in the database) on the server of MESSO_TEST_PG_URL or
// postgres://postgres@127.0.0.1:5432/test. Its counters are reset.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(2);
const dir = resolve(args.find((a) => !a.startsWith('--')) ?? '.');
const from = (p) => import(pathToFileURL(resolve(dir, p)).href);
const { freshPgSchema, pgAdmin } = await from('dist/test/pg.js');
const { openPostgresStore } = await from('dist/src/store/postgres-store.js');
const { generateKeyEntry, parseKeyring } = await from('dist/src/domain/encryption.js');
const f = await from('dist/test/store-contract/fixtures.js');

const pg = await freshPgSchema('plans');
const store = await openPostgresStore(pg.url, parseKeyring(generateKeyEntry()), { max: 1 });
try {
  await store.migrate();
  const t = await f.tenant(store);
  const svc = await f.service(store, t.id);
  const hook = await f.webhook(store, t.id, { trigger: 'all' });
  const page = { limit: 20 };
  const some = { app: 'none', event: 'none', delivery: 'none' };
  const hourAgo = Date.now() - 3_600_000;
  const reads = [
    () => store.listApplications(t.id, {}, page),
    () => store.listApplications(t.id, { order: 'desc' }, page),
    () => store.listApplications(t.id, { status: 2000 }, page),
    () => store.listApplications(t.id, { service_id: svc.id }, page),
    () => store.listApplications(t.id, { q: 'mario' }, page),
    () => store.getApplication(t.id, some.app),
    () => store.listEvents(t.id, {}, page),
    () => store.listEvents(t.id, { type: 'application.created' }, page),
    () => store.listEvents(t.id, { subject: some.app }, page),
    () => store.getEvent(t.id, some.event),
    () => store.listDeliveries(t.id, {}, page),
    () => store.listDeliveries(t.id, { order: 'asc' }, page),
    () => store.listDeliveries(t.id, { status: 'failed' }, page),
    () => store.listDeliveries(t.id, { status: 'pending' }, page),
    () => store.listDeliveries(t.id, { webhook_id: hook.id }, page),
    () => store.listDeliveries(t.id, { event_id: some.event }, page),
    () => store.listDeliveries(t.id, { subject: some.app }, page),
    () => store.listDeliveries(t.id, { q: 'mario' }, page),
    () => store.listDeliveries(t.id, { since: f.T0 }, page),
    () => store.getDelivery(t.id, some.delivery),
    () => store.queueStats(Date.now()),
    () => store.webhookStats(hook.id, 0),
    () => store.deliveriesPerMinute(t.id, hourAgo),
    () => store.attemptsPerMinute(t.id, hourAgo),
    () => store.webhookHealth(hook),
    () => store.listWebhooks(t.id, page),
  ];
  for (let i = 0; i < 6; i++) for (const read of reads) await read();
  for (let i = 0; i < 5000; i += 50) {
    await store.appendEvents(Array.from({ length: 50 }, (_, j) => f.createdEvent(f.newApp(t.id, svc, 2000, f.T0 + i + j))));
  }
  const [one] = await store.pg.query('SELECT subject, event_id, id FROM deliveries ORDER BY seq LIMIT 1 OFFSET 2500');
  Object.assign(some, { app: one.subject, event: one.event_id, delivery: one.id });
  if (args.includes('--analyze')) await store.pg.execute('ANALYZE deliveries, payloads, applications, application_search, events, attempts');
  if (args.includes('--keep-statistics')) {
    // The row counts reach pg_stat_user_tables when the backend is idle, 10 s apart at most.
    await store.pg.execute('DO $$ BEGIN PERFORM pg_stat_force_next_flush(); END $$');
    await sleep(1500);
    console.log('analysed:', (await store.keepStatistics()).join(', ') || 'nothing');
  }
  await pgAdmin((c) => c.query('SELECT pg_stat_statements_reset()'));
  for (let i = 0; i < 3; i++) for (const read of reads) await read();
  const rows = await pgAdmin(async (c) => (await c.query(
    `SELECT calls, round((total_exec_time / calls)::numeric, 2) AS ms, round(shared_blks_hit::numeric / calls) AS pages,
       round(rows::numeric / calls, 1) AS rows, regexp_replace(query, '\\s+', ' ', 'g') AS q
     FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY shared_blks_hit::numeric / calls DESC LIMIT 15`)).rows);
  console.log('pages/call  ms/call  rows/call  statement');
  for (const r of rows) console.log(`${String(r.pages).padStart(10)} ${String(r.ms).padStart(8)} ${String(r.rows).padStart(10)}  ${r.q.length > 220 ? `${r.q.slice(0, 60)} … ${r.q.slice(-150)}` : r.q}`);
} finally {
  await store.close();
  await pg.drop();
}
