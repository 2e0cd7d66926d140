/**
 * The logs of a real `messo serve` child process, read line by line as pino wrote them: every
 * delivery attempt is a line (debug for a success, warn for a failure and for the last one),
 * with the ids an operator searches by, and request lines carry the tenant once it is known.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, startReceiver, tempDir, waitUntil, type Receiver } from './harness.js';
import { startMesso, type Proc } from './proc.js';

const ADMIN = 'logs-admin-token-0123456789';

type Line = Record<string, unknown>;
const PINO_LEVEL: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };

function lines(p: Proc): Line[] {
  return p.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

describe('logs of a serve process', () => {
  let proc: Proc;
  let dir: string;
  let receiver: Receiver;
  let tenantId = '';
  let key = '';

  before(async () => {
    dir = tempDir();
    receiver = await startReceiver();
    receiver.handler = (r) => ({ status: r.url === '/fail' ? 503 : 200 });
    proc = await startMesso(['serve'], {
      MESSO_PORT: '0', MESSO_DATABASE_URL: `sqlite:${join(dir, 'm.db')}`, MESSO_ADMIN_TOKEN: ADMIN,
      MESSO_LOG_LEVEL: 'debug', MESSO_ALLOWED_TARGETS: '127.0.0.0/8', MESSO_RETRY_SCHEDULE: '0,0.1,0.1',
    });
    const admin = new Client(proc.url!, ADMIN);
    tenantId = (await admin.post('/api/tenants', { name: 'Comune di Log' })).body.id;
    key = (await admin.post(`/api/tenants/${tenantId}/keys`, { name: 'k' })).body.key;
  });
  after(async () => {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one line per attempt: debug on success, warn on each failure and on the last one', async () => {
    const api = new Client(proc.url!, key);
    const ok = await api.post('/api/webhooks', { title: 'ok', endpoint: `${receiver.url}/ok`, trigger: 'all', events: ['*'], format: 'standard' });
    const bad = await api.post('/api/webhooks', { title: 'bad', endpoint: `${receiver.url}/fail`, trigger: 'all', events: ['*'], format: 'standard' });
    assert.equal(bad.status, 201, bad.text);
    const eventId = randomUUID();
    const ev = await api.post('/api/events', { event_id: eventId, type: 'note.created', data: { n: 1 } });
    assert.equal(ev.status, 201, ev.text);
    const attemptLines = () => lines(proc).filter((l) => typeof l.delivery_id === 'string' && typeof l.attempt === 'number');
    await waitUntil(() => attemptLines().filter((l) => l.webhook_id === bad.body.id).length >= 3, 15_000, 'three failed attempts logged');

    const failed = attemptLines().filter((l) => l.webhook_id === bad.body.id);
    assert.deepEqual(failed.map((l) => l.attempt), [1, 2, 3]);
    for (const l of failed) {
      assert.equal(PINO_LEVEL[l.level as number], 'warn');
      assert.equal(l.tenant_id, tenantId);
      assert.equal(l.event_id, eventId);
      assert.equal(l.status_code, 503);
      assert.equal(typeof l.duration_ms, 'number');
      assert.ok('error_class' in l);
    }
    assert.deepEqual(failed.map((l) => l.result), ['retry', 'retry', 'failed']);
    assert.match(String(failed[2].msg), /failed for good/);

    await waitUntil(() => attemptLines().some((l) => l.webhook_id === ok.body.id), 10_000, 'the success logged');
    const success = attemptLines().filter((l) => l.webhook_id === ok.body.id);
    assert.equal(success.length, 1);
    assert.equal(PINO_LEVEL[success[0].level as number], 'debug');
    assert.equal(success[0].status_code, 200);
    assert.equal(success[0].result, 'success');
  });

  it('a connection error is logged with its error class', async () => {
    const api = new Client(proc.url!, key);
    // A port nobody listens on: the receiver's, once closed, would race; take a fresh one and close it.
    const gone = await startReceiver();
    const deadUrl = `${gone.url}/dead`;
    await gone.close();
    const w = await api.post('/api/webhooks', { title: 'dead', endpoint: deadUrl, trigger: 'all', events: ['*'], format: 'standard' });
    const ev = await api.post('/api/events', { event_id: randomUUID(), type: 'note.created', data: { n: 2 } });
    assert.equal(ev.status, 201, ev.text);
    await waitUntil(() => lines(proc).some((l) => l.webhook_id === w.body.id && l.result === 'failed'), 15_000, 'the terminal failure logged');
    const last = lines(proc).find((l) => l.webhook_id === w.body.id && l.result === 'failed')!;
    assert.equal(last.status_code, null);
    assert.equal(typeof last.error_class, 'string');
    assert.notEqual(last.error_class, '');
  });

  it('request lines carry the tenant once the caller is known, and refusals their problem at info', async () => {
    const api = new Client(proc.url!, key);
    await api.get('/api/webhooks');
    await api.post('/api/webhooks', { title: 'x' });
    await new Client(proc.url!, 'not-a-key').get('/api/webhooks');
    await waitUntil(() => lines(proc).filter((l) => l.msg === 'request completed' && l.problem !== undefined).length >= 2, 5000, 'the refusals logged');
    const done = lines(proc).filter((l) => l.msg === 'request completed');
    const list = done.find((l) => (l.req as Line).method === 'GET' && (l.req as Line).url === '/api/webhooks' && (l.res as Line).statusCode === 200)!;
    assert.equal(list.tenant_id, tenantId);
    assert.equal(PINO_LEVEL[list.level as number], 'info');
    const refused = done.find((l) => (l.res as Line).statusCode === 400)!;
    assert.equal(refused.tenant_id, tenantId);
    assert.equal(refused.problem, 'validation');
    assert.equal(PINO_LEVEL[refused.level as number], 'info');
    const unauth = done.find((l) => (l.res as Line).statusCode === 401)!;
    assert.equal(unauth.tenant_id, undefined);
    assert.equal(unauth.problem, 'unauthorized');
    // The key never reaches a log line.
    assert.ok(!proc.output().includes(key));
  });
});
