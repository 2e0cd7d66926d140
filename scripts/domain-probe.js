#!/usr/bin/env node
// The pure JavaScript an ingested pratica costs before any I/O, per event: its document
// normalised (normalizeApplication, with its time pairs written by formatRome) and its opencity
// body rendered (renderPayload), on the bench's single-POST bodies: 2,000 to warm up, then 4,000
// measured seven times with process.cpuUsage(), the median printed. No server, no store, no
// sockets: steady enough on a shared machine to compare two commits the bench cannot tell apart.
// Compare two commits with a worktree each (built with `npm run build`), alternating:
//   node scripts/domain-probe.js /path/to/old && node scripts/domain-probe.js .
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = resolve(process.argv[2] ?? '.');
const from = (p) => import(pathToFileURL(resolve(dir, p)).href);
const { ingestFeed } = await from('dist/src/bench/bodies.js');
const { normalizeApplication } = await from('dist/src/domain/application.js');
const { renderPayload } = await from('dist/src/domain/payload.js');

const tenant = '00000000-0000-4000-8000-000000000001';
const bodies = ingestFeed('single', { tenantId: tenant, key: 'unused', services: ['00000000-0000-4000-8000-000000000002'] }, 6000)
  .shots.map((s) => JSON.parse(s.body));

function run(list) {
  for (const b of list) {
    const doc = normalizeApplication({ ...b.data.application, tenant });
    const event = {
      event_id: b.event_id, type: b.type, tenant_id: tenant, subject: doc.id, event_version: 1,
      event_created_at: Date.now(), app_id: 'external', data: { ...b.data, application: doc },
    };
    renderPayload(event, { format: 'opencity', version: 1 }, { eventId: b.event_id });
  }
}

run(bodies.slice(0, 2000));
const measured = bodies.slice(2000);
const rounds = [];
for (let i = 0; i < 7; i++) {
  const cpu0 = process.cpuUsage();
  run(measured);
  const cpu = process.cpuUsage(cpu0);
  rounds.push((cpu.user + cpu.system) / measured.length);
}
rounds.sort((a, b) => a - b);
process.stdout.write(`${dir}: ${rounds[3].toFixed(1)} µs of CPU per event (median of 7 rounds; ${rounds[0].toFixed(1)}–${rounds[6].toFixed(1)})\n`);
