#!/usr/bin/env node
// Which tables and indexes single-POST ingest writes, in SQLite WAL pages per event: steadier
// than any rate on a shared machine, and it says where COMMIT's writes go. It starts messo (the
// test harness's server, SQLite, dispatcher off) with a tenant, a service and one opencity
// webhook, holds a read transaction open on the file (so the WAL is never restarted and keeps
// every frame written), sends the bench's single-POST bodies, 32 in flight, then maps each
// frame's page number to its b-tree with the dbstat table. With `prefill`, that many events go in
// first, uncounted: a store that already holds pratiche writes more pages an event than a new
// one (its random-key indexes have more leaves than a group has events).
//   node scripts/wal-pages.js [checkout, built] [events] [prefill]
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dirArg = '.', countArg = '2000', prefillArg = '0'] = process.argv.slice(2);
const dir = resolve(dirArg);
const n = Number(countArg);
const prefill = Number(prefillArg);
const from = (p) => import(pathToFileURL(resolve(dir, p)).href);
const { startTestServer, createTenant } = await from('dist/test/harness.js');
const { ingestFeed } = await from('dist/src/bench/bodies.js');
const { request } = await from('node_modules/undici/index.js');
const { default: Database } = await from('node_modules/better-sqlite3/lib/index.js');

const server = await startTestServer({ MESSO_DISPATCHER: 'false' });
const tenant = await createTenant(server, 'Probe');
const api = server.api.as(tenant.key);
const service = await api.post('/api/services', { name: 'Servizio' });
const webhook = await api.post('/api/webhooks', { title: 'probe', endpoint: 'http://127.0.0.1:9/hook', format: 'opencity', version: 1 });
if (webhook.status !== 201) throw new Error(`webhook: ${webhook.status} ${webhook.text}`);
/** Posts `count` new events, 32 in flight; their bodies made 5,000 at a time (each ~1.9 KB). */
async function send(count) {
  for (let done = 0; done < count; done += 5000) {
    const feed = ingestFeed('single', { tenantId: tenant.id, key: tenant.key, services: [service.body.id] }, Math.min(5000, count - done));
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < feed.shots.length) {
        const shot = feed.shots[next++];
        const res = await request(server.url + feed.path, { method: 'POST', headers: feed.headers, body: shot.body });
        await res.body.text();
        if (res.statusCode >= 300) throw new Error(`POST answered ${res.statusCode}`);
      }
    }));
  }
}

await send(prefill);
const dbPath = join(server.dir, 'messo.db');
const reader = new Database(dbPath, { readonly: true });
reader.prepare('BEGIN').run();
reader.prepare('SELECT count(*) FROM events').get();
const wal = openSync(`${dbPath}-wal`, 'r');
const startSize = fstatSync(wal).size;

await send(n);

// WAL format: a 32-byte header (page size at offset 8), then frames of a 24-byte header (page
// number, then the database size after a commit frame, else 0) and one page.
const header = Buffer.alloc(32);
readSync(wal, header, 0, 32, 0);
const pageSize = header.readUInt32BE(8);
const frameSize = pageSize + 24;
const size = fstatSync(wal).size;
const frame = Buffer.alloc(24);
const perPage = new Map();
let frames = 0;
let commits = 0;
for (let at = 32 + Math.ceil((startSize - 32) / frameSize) * frameSize; at + frameSize <= size; at += frameSize) {
  readSync(wal, frame, 0, 24, at);
  const page = frame.readUInt32BE(0);
  if (frame.readUInt32BE(4) !== 0) commits++;
  perPage.set(page, (perPage.get(page) ?? 0) + 1);
  frames++;
}
closeSync(wal);
reader.prepare('COMMIT').run();
const owner = new Map(reader.prepare('SELECT name, pageno, pagetype FROM dbstat').all()
  .map((r) => [r.pageno, r.pagetype === 'internal' ? `${r.name} (interior)` : r.name]));
const perTree = new Map();
for (const [page, count] of perPage) {
  const name = owner.get(page) ?? '(freed since)';
  perTree.set(name, (perTree.get(name) ?? 0) + count);
}
console.log(`${dir}: ${(frames / n).toFixed(2)} WAL pages of ${pageSize} bytes per event (${n} events${prefill ? ` after ${prefill}` : ''}, ${(n / commits).toFixed(1)} per commit)`);
for (const [name, count] of [...perTree].sort((a, b) => b[1] - a[1])) {
  if (count / n >= 0.05) console.log(`${(count / n).toFixed(2).padStart(6)}  ${name}`);
}
reader.close();
await server.close();
process.exit(0);
