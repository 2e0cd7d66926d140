/**
 * Restart safety with real processes: SIGTERM finishes or releases attempts in flight, and
 * kill -9 loses nothing — after a restart every accepted event is delivered at least once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../src/store/index.js';
import { ADMIN_TOKEN, Client, startReceiver, tempDir, waitUntil, type Receiver } from './harness.js';
import { startMesso } from './proc.js';

const ENV = (db: string) => ({
  MESSO_PORT: '0', MESSO_DATABASE_URL: `sqlite:${db}`, MESSO_ADMIN_TOKEN: ADMIN_TOKEN,
  MESSO_ALLOWED_TARGETS: '127.0.0.0/8', MESSO_RETRY_SCHEDULE: '0,0.2,0.2,0.2,0.2',
  MESSO_REQUEST_TIMEOUT_MS: '1000', MESSO_CONNECT_TIMEOUT_MS: '500',
});

async function setUp(base: string, receiver: Receiver) {
  const admin = new Client(base, ADMIN_TOKEN);
  const t = await admin.post('/api/tenants', { name: 'Comune di Riavvio' });
  const k = await admin.post(`/api/tenants/${t.body.id}/keys`, {});
  const api = admin.as(k.body.key);
  const wh = await api.post('/api/webhooks', { title: 'r', endpoint: `${receiver.url}/r`, trigger: 'all' });
  assert.equal(wh.status, 201);
  return { api, webhookId: wh.body.id as string };
}

function snapshots(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    event_id: randomUUID(), type: 'application.snapshot',
    data: { application: { id: `app-${i}`, service_id: 'svc-1', status: 2000 } },
  }));
}

// Each event is the snapshot of a pratica of its own, so the pratica says which event arrived (the
// body's event_id is the delivery's own, as the core's is its send job's).
const received = (r: Receiver) => new Set(r.requests.map((x) => JSON.parse(x.body).id));

describe('restart safety', () => {
  let dir: string;
  let receiver: Receiver;
  before(async () => {
    dir = tempDir();
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 during delivery: after a restart every accepted event arrives at least once', async () => {
    const db = join(dir, 'kill.db');
    receiver.requests.length = 0;
    receiver.handler = () => ({ status: 200, delayMs: 30 });
    const p1 = await startMesso(['serve'], ENV(db));
    const { api } = await setUp(p1.url!, receiver);
    const events = snapshots(300);
    const res = await api.post('/api/events/batch', { events });
    assert.equal(res.body.created, 300);
    await waitUntil(() => receiver.requests.length >= 30, 10_000, 'some deliveries before the kill');
    p1.child.kill('SIGKILL');
    await p1.exited;
    const beforeRestart = received(receiver).size;
    assert.ok(beforeRestart < 300, `killed mid-run (${beforeRestart} delivered)`);
    const p2 = await startMesso(['serve'], ENV(db));
    try {
      await waitUntil(() => received(receiver).size >= 300, 30_000, 'all 300 events after the restart');
      const ids = received(receiver);
      for (const e of events) assert.ok(ids.has(e.data.application.id), `event ${e.event_id} delivered`);
      const duplicates = receiver.requests.length - ids.size;
      // Only attempts not yet recorded at the kill may repeat: at most the endpoint's concurrency
      // (10) in flight plus as many answered but not yet written (the dispatcher's bound).
      assert.ok(duplicates <= 20, `${duplicates} duplicates`);
    } finally {
      p2.child.kill('SIGTERM');
      await p2.exited;
    }
  });

  it('SIGTERM finishes or releases attempts in flight; nothing is left claimed, and all arrive after restart', async () => {
    const db = join(dir, 'term.db');
    receiver.requests.length = 0;
    receiver.handler = () => ({ status: 200, delayMs: 300 });
    const p1 = await startMesso(['serve'], ENV(db));
    const { api } = await setUp(p1.url!, receiver);
    const events = snapshots(60);
    await api.post('/api/events/batch', { events });
    await waitUntil(() => receiver.requests.length >= 5, 10_000);
    p1.child.kill('SIGTERM');
    const code = await p1.exited;
    assert.equal(code, 0, p1.output());
    const store = await openStore(`sqlite:${db}`);
    const sending = await store.queueStats(Date.now());
    await store.close();
    assert.equal(sending.sending, 0, 'no delivery left in "sending" after a graceful stop');
    receiver.handler = () => ({ status: 200 });
    const p2 = await startMesso(['serve'], ENV(db));
    try {
      await waitUntil(() => received(receiver).size >= 60, 20_000, 'all 60 events after the restart');
    } finally {
      p2.child.kill('SIGTERM');
      await p2.exited;
    }
  });
});
