/**
 * `messo verify` (exit code = verdict) and `messo trigger` (a sample event through the API),
 * run as real child processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createTenant, startTestServer, type TestServer } from './harness.js';
import { runCli } from './cli-helpers.js';

const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: '1614265330',
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const vectorArgs = ['--secret', VECTOR.secret, '--id', VECTOR.id, '--timestamp', VECTOR.timestamp, '--signature', VECTOR.signature];

describe('messo verify', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'messo-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the reference vector is valid when judged at its own time: exit 0', async () => {
    const r = await runCli(['verify', ...vectorArgs, '--body', VECTOR.body, '--now', VECTOR.timestamp]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^valid/);
  });

  test('judged now, the same message is too old: exit 1 and the reason', async () => {
    const r = await runCli(['verify', ...vectorArgs, '--body', VECTOR.body]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^invalid: timestamp_out_of_tolerance: timestamp is \d+s old/);
  });

  test('a changed body, missing headers: exit 1 with why', async () => {
    const changed = await runCli(['verify', ...vectorArgs, '--body', '{"test": 2432232315}', '--now', VECTOR.timestamp]);
    assert.equal(changed.code, 1);
    assert.match(changed.stdout, /no_matching_signature/);
    const missing = await runCli(['verify', '--secret', VECTOR.secret, '--id', VECTOR.id, '--body', VECTOR.body, '--json']);
    assert.equal(missing.code, 1);
    const verdict = JSON.parse(missing.stdout);
    assert.equal(verdict.reason, 'missing_headers');
    assert.match(verdict.detail, /webhook-timestamp, webhook-signature/);
  });

  test('headers from a file, body from stdin, secret from the environment, signed now by another implementation', async () => {
    const now = new Date();
    const signature = new StandardWebhook(VECTOR.secret).sign('msg_cli', now, 'héllo\n');
    const headersFile = join(dir, 'headers.txt');
    writeFileSync(headersFile, `POST /hook HTTP/1.1\r\nContent-Type: text/plain\r\nwebhook-id: msg_cli\r\nwebhook-timestamp: ${Math.floor(now.getTime() / 1000)}\r\nwebhook-signature: ${signature}\r\n\r\n`);
    const ok = await runCli(['verify', '--headers-file', headersFile], { env: { MESSO_WEBHOOK_SECRET: VECTOR.secret }, input: 'héllo\n' });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    // The final newline is part of what was signed.
    const bodyFile = join(dir, 'body.txt');
    writeFileSync(bodyFile, 'héllo');
    const cut = await runCli(['verify', '--headers-file', headersFile, '--body-file', bodyFile], { env: { MESSO_WEBHOOK_SECRET: VECTOR.secret } });
    assert.equal(cut.code, 1);
  });

  test('cannot check (no secret, bad secret): exit 2, nothing on stdout', async () => {
    const none = await runCli(['verify', '--id', 'x', '--body', 'x']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--secret/);
    const bad = await runCli(['verify', '--secret', 'whsec_short', '--body', 'x']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
  });

  test('--help on every inspector command', async () => {
    for (const cmd of ['verify', 'trigger', 'listen']) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, new RegExp(`Usage: messo ${cmd}`));
    }
  });
});

describe('messo trigger', () => {
  let server: TestServer;
  let tenant: { id: string; key: string };

  before(async () => {
    server = await startTestServer();
    tenant = await createTenant(server);
  });
  after(() => server.close());

  test('sends a realistic pratica at the chosen status, into the event log and the projection', async () => {
    const svc = await server.api.as(tenant.key).post('/api/services', { name: "Iscrizione all'asilo nido", slug: 'asilo-nido' });
    assert.equal(svc.status, 201, svc.text);
    const r = await runCli(['trigger', '--server', server.config.publicUrl, '--type', 'application.status_changed', '--status', '7000'], { env: { MESSO_API_KEY: tenant.key } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sent application\.status_changed [0-9a-f-]{36} \(seq \d+\)/);
    assert.match(r.stdout, /status 7000 status_complete/);
    const events = await server.api.as(tenant.key).get('/api/events');
    const ev = events.body.items.at(-1);
    assert.equal(ev.type, 'application.status_changed');
    const app = ev.data.application;
    assert.equal(app.status, 7000);
    assert.equal(app.service_id, svc.body.id, "the tenant's own service, so service filters match");
    assert.equal(app.user_name, 'Mario Rossi');
    // The projection now holds the pratica.
    const got = await server.api.as(tenant.key).get(`/api/applications/${app.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.status_name, 'status_complete');
  });

  test('message.created, and a refused key: exit 1 with the server reason', async () => {
    const msg = await runCli(['trigger', '--server', server.config.publicUrl, '--token', tenant.key, '--type', 'message.created', '--json']);
    assert.equal(msg.code, 0, msg.stderr);
    const ev = JSON.parse(msg.stdout);
    assert.equal(ev.type, 'message.created');
    assert.equal(typeof ev.data.message.message, 'string');
    const bad = await runCli(['trigger', '--server', server.config.publicUrl, '--token', 'messo_wrong']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /401/);
    const badType = await runCli(['trigger', '--server', server.config.publicUrl, '--token', tenant.key, '--type', 'nonsense']);
    assert.notEqual(badType.code, 0);
    assert.match(badType.stderr, /Allowed choices/);
  });
});
