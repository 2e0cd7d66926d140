/**
 * Wake-ups across processes: a worker process starts a delivery queued by another process at
 * once, not at its next poll — PostgreSQL through LISTEN/NOTIFY, SQLite through data_version.
 *
 * The worker's poll is stretched to 30 s here, so a delivery that arrives within a few seconds
 * can only have been woken: the test holds on a loaded machine (where a few ms become a few
 * hundred) and still fails at once if the wake-ups stop working.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, Client, startReceiver, tempDir, waitUntil, type Receiver } from './harness.js';
import { describeOnPg, freshPgSchema, type PgSchema } from './pg.js';
import { startMesso, type Proc } from './proc.js';

await describeOnPg('wake-ups across processes (PostgreSQL)', () => {
  let pg: PgSchema;
  let receiver: Receiver;
  let api: Proc;
  let worker: Proc;
  before(async () => {
    pg = await freshPgSchema('messo_wake');
    receiver = await startReceiver();
    const env = { MESSO_PORT: '0', MESSO_DATABASE_URL: pg.url, MESSO_ADMIN_TOKEN: ADMIN_TOKEN, MESSO_ALLOWED_TARGETS: '127.0.0.0/8', MESSO_POLL_INTERVAL_MS: '30000' };
    api = await startMesso(['serve', '--no-dispatcher'], env);
    worker = await startMesso(['worker'], env);
  });
  after(async () => {
    // Either may be missing when before() failed half-way; a live one must still go.
    for (const p of [api, worker]) {
      if (!p) continue;
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await receiver.close();
    await pg.drop();
  });

  it('a worker sends within a few ms of another process accepting the event', () => measure(api, receiver));
});

async function measure(api: Proc, receiver: Receiver): Promise<void> {
  const admin = new Client(api.url!, ADMIN_TOKEN);
  const t = await admin.post('/api/tenants', { name: 'Comune di Risveglio' });
  const key = (await admin.post(`/api/tenants/${t.body.id}/keys`, {})).body.key;
  const client = admin.as(key);
  await client.post('/api/webhooks', { title: 'w', endpoint: `${receiver.url}/w`, trigger: 'all' });
  // Let the worker go idle (asleep on its 30 s poll) before each event.
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
    const t0 = Date.now();
    const r = await client.post('/api/events', { event_id: crypto.randomUUID(), type: 'application.snapshot', data: { application: { id: `w-${i}`, service_id: 's', status: 2000 } } });
    assert.equal(r.status, 201);
    await waitUntil(() => receiver.requests.length > i, 10_000, `delivery ${i} (the poll alone would take up to 30 s)`);
    latencies.push(receiver.requests[i].at - t0);
  }
  // Polling alone would take up to 30 s here; notifications make it a few ms on an idle machine.
  assert.ok(Math.max(...latencies) < 5000, `latencies ${latencies.join(', ')} ms`);
}

describe('wake-ups across processes (SQLite)', () => {
  let dir: string;
  let receiver: Receiver;
  let api: Proc;
  let worker: Proc;
  before(async () => {
    dir = tempDir();
    receiver = await startReceiver();
    const env = { MESSO_PORT: '0', MESSO_DATABASE_URL: `sqlite:${join(dir, 'w.db')}`, MESSO_ADMIN_TOKEN: ADMIN_TOKEN, MESSO_ALLOWED_TARGETS: '127.0.0.0/8', MESSO_POLL_INTERVAL_MS: '30000' };
    api = await startMesso(['serve', '--no-dispatcher'], env);
    worker = await startMesso(['worker'], env);
  });
  after(async () => {
    // Either may be missing when before() failed half-way; a live one must still go.
    for (const p of [api, worker]) {
      if (!p) continue;
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker sends within a few ms of another process accepting the event', () => measure(api, receiver));
});
