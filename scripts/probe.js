#!/usr/bin/env node
// CPU and bytes written per event, in one process: steadier than the bench's rates on a shared
// 2-core machine, where identical runs move by ±30 %. It starts messo (the test harness's
// server, SQLite, in this process), a tenant, a service and one opencity webhook, and sends the
// bench's single-POST bodies (one pratica snapshot per POST), 32 in flight: 300 to warm up, then
// 3,000 measured. It reports process.cpuUsage() (messo and this client together) and
// /proc/self/io wchar (WAL, checkpoints, temp files) per event.
//   ingest: the dispatcher off, the webhook at a port nothing listens on (never sent to).
//   e2e:    the dispatcher on, the webhook at a loopback receiver in this process; measured
//           until all 3,300 have arrived.
// Compare two commits with a worktree each (built with `npm run build`), alternating:
//   node scripts/probe.js ingest /path/to/old && node scripts/probe.js ingest .
// MESSO_PROBE_CONNECTION=close sends every POST on a connection of its own, as a PHP core does.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode = 'ingest', dirArg = '.'] = process.argv.slice(2);
if (mode !== 'ingest' && mode !== 'e2e') {
  process.stderr.write('usage: node scripts/probe.js ingest|e2e [checkout, built]\n');
  process.exit(2);
}
const dir = resolve(dirArg);
const from = (p) => import(pathToFileURL(resolve(dir, p)).href);
const { startTestServer, createTenant, startReceiver, waitUntil } = await from('dist/test/harness.js');
const { ingestFeed } = await from('dist/src/bench/bodies.js');
const { request } = await from('node_modules/undici/index.js');

const server = await startTestServer({ MESSO_DISPATCHER: mode === 'e2e' ? 'true' : 'false' });
const receiver = mode === 'e2e' ? await startReceiver() : null;
const tenant = await createTenant(server, 'Probe');
const api = server.api.as(tenant.key);
const service = await api.post('/api/services', { name: 'Servizio' });
const endpoint = receiver ? `${receiver.url}/hook` : 'http://127.0.0.1:9/hook';
const webhook = await api.post('/api/webhooks', { title: 'probe', endpoint, format: 'opencity', version: 1 });
if (webhook.status !== 201) throw new Error(`webhook: ${webhook.status} ${webhook.text}`);
const feed = ingestFeed('single', { tenantId: tenant.id, key: tenant.key, services: [service.body.id] }, 3300);
const reset = process.env.MESSO_PROBE_CONNECTION === 'close';
const written = () => Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);

async function send(shots) {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < shots.length) {
      const shot = shots[next++];
      const res = await request(server.url + feed.path, { method: 'POST', headers: feed.headers, body: shot.body, reset });
      await res.body.text();
      if (res.statusCode >= 300) throw new Error(`POST answered ${res.statusCode}`);
    }
  }));
}

await send(feed.shots.slice(0, 300));
if (receiver) await waitUntil(() => receiver.requests.length >= 300, 30_000, 'the warm-up delivered');
const cpu0 = process.cpuUsage();
const w0 = written();
const t0 = Date.now();
await send(feed.shots.slice(300));
if (receiver) await waitUntil(() => receiver.requests.length >= 3300, 120_000, 'every event delivered');
const cpu = process.cpuUsage(cpu0);
const n = 3000;
const ms = Date.now() - t0;
console.log(`${mode}${reset ? ' (a connection per POST)' : ''} ${dir}: ${Math.round((n / ms) * 1000)} ${receiver ? 'deliveries' : 'events'}/s; ` +
  `CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms per event; written ${((written() - w0) / 1024 / n).toFixed(1)} KiB per event`);
await receiver?.close();
await server.close();
process.exit(0);
