/**
 * Secrets at rest (issue 12, item 8), on SQLite and PostgreSQL, through real HTTP: webhook
 * signing secrets (current and previous), custom webhook headers and inspector bin secrets are
 * sealed in the database (raw SQL shows no plaintext), deliveries are still signed and carry
 * their headers, a rotation to a second key re-seals everything at start, a wrong key stops
 * the start (and the real `messo` process) with one clear line, and rows written in plaintext
 * before the upgrade are sealed at the next start.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sign, verify } from '../src/domain/signing.js';
import { KEY_FILE, resolveKeyring } from '../src/store/index.js';
import { createTenant, startReceiver, startTestServer, tempDir, waitUntil, type Receiver, type TestServer } from './harness.js';
import { describeOnPg, freshPgSchema, pgAdmin, type PgSchema } from './pg.js';
import { BIN } from './proc.js';

type Row = Record<string, unknown>;
const key = () => randomBytes(32).toString('base64');
const K1 = key();
const K2 = key();
const HEADER_VALUE = 'Bearer receiver-credential-7f3a9c';

interface Db {
  url: string;
  dir: string;
  raw(sql: string): Promise<Row[]>;
  drop(): Promise<void>;
}

function sqliteDb(): Db {
  const dir = tempDir('messo-sealed-');
  const file = join(dir, 'messo.db');
  return {
    url: `sqlite:${file}`, dir,
    async raw(sql) {
      const db = new Database(file);
      try { return sql.trim().startsWith('SELECT') ? (db.prepare(sql).all() as Row[]) : (db.prepare(sql).run(), []); } finally { db.close(); }
    },
    async drop() { rmSync(dir, { recursive: true, force: true }); },
  };
}

async function pgDb(): Promise<Db> {
  const pg: PgSchema = await freshPgSchema();
  const dir = tempDir('messo-sealed-');
  return {
    url: pg.url, dir,
    raw: (sql) => pgAdmin(async (c) => {
      await c.query(`SET search_path TO "${pg.schema}"`);
      return (await c.query(sql)).rows as Row[];
    }),
    async drop() { await pg.drop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

function secretsAtRest(open: () => Promise<Db>): void {
  let db: Db;
  let receiver: Receiver;
  let server: TestServer | null = null;
  const start = async (env: Record<string, string>) => {
    server = await startTestServer({ MESSO_DATABASE_URL: db.url, MESSO_DATA_DIR: db.dir, MESSO_DISPATCHER: 'true', ...env });
    return server;
  };
  const stop = async () => { await server?.close(); server = null; };
  after(async () => {
    await stop();
    await receiver?.close();
    await db?.drop();
  });

  it('seals, signs, rotates keys, refuses a wrong key and seals old plaintext rows', async () => {
    db = await open();
    receiver = await startReceiver();
    const s = await start({ MESSO_ENCRYPTION_KEY: `k1:${K1}` });
    const { key: apiKey } = await createTenant(s);
    // The port changes at every restart: a client for the server running now.
    const api = () => server!.api.as(apiKey);
    const client = api();
    const created = await client.post('/api/webhooks', { title: 'r', endpoint: `${receiver.url}/r`, events: ['meeting.*'], headers: { authorization: HEADER_VALUE } });
    assert.equal(created.status, 201, created.text);
    const first = created.body.secret as string;
    const rotated = (await client.post(`/api/webhooks/${created.body.id}/rotate-secret`)).body.secret as string;
    const binSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const bin = await client.post('/api/inspector/bins', { secret: binSecret });
    assert.equal(bin.status, 201, bin.text);

    // Raw SQL: no plaintext secret or header, every value sealed with k1.
    const sealedRows = async (kid: string) => {
      const hooks = await db.raw('SELECT secret, previous_secret, headers FROM webhooks');
      const bins = await db.raw('SELECT secret FROM inspector_bins');
      const text = JSON.stringify([hooks, bins]);
      for (const plain of [first, rotated, binSecret, HEADER_VALUE, first.slice(6), rotated.slice(6), binSecret.slice(6), 'receiver-credential']) {
        assert.ok(!text.includes(plain), 'no plaintext at rest');
      }
      for (const v of [hooks[0].secret, hooks[0].previous_secret, hooks[0].headers, bins[0].secret]) assert.match(String(v), new RegExp(`^enc:v1:${kid}:`));
      return text;
    };
    await sealedRows('k1');

    // Deliveries: signed with both secrets during the overlap, the custom header sent.
    const delivered = async (n: number) => {
      assert.equal((await api().post('/api/events', { event_id: randomUUID(), type: 'meeting.created', data: { n } })).status, 201);
      await waitUntil(() => receiver.requests.length >= n, 10_000, `delivery ${n}`);
      const req = receiver.requests[n - 1];
      assert.equal(req.headers.authorization, HEADER_VALUE);
      for (const secret of [first, rotated]) assert.equal(verify(secret, req.headers, req.body).valid, true, 'signature verifies');
    };
    await delivered(1);
    // The bin's secret is opened to judge a capture's signature.
    const body = '{"x":1}';
    const ts = Math.floor(Date.now() / 1000);
    const capture = await s.api.request('POST', `/in/${bin.body.id}`, body, {
      'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sign(binSecret, 'msg_1', ts, body),
    });
    assert.ok(capture.status < 300, capture.text);
    const captures = (await client.get(`/api/inspector/bins/${bin.body.id}/requests`)).body.items;
    assert.equal(captures[0].signature?.valid, true, JSON.stringify(captures[0].signature));
    await stop();

    // Rotation: k2 first, k1 still given; the start re-seals every row with k2.
    await start({ MESSO_ENCRYPTION_KEY: `k2:${K2},k1:${K1}` });
    await sealedRows('k2');
    await delivered(2);
    await stop();
    // k1 can go now; k2 alone opens everything.
    await start({ MESSO_ENCRYPTION_KEY: `k2:${K2}` });
    await delivered(3);
    await stop();

    // A wrong key stops the start with one clear line: an unknown kid, or another key under the same kid.
    await assert.rejects(start({ MESSO_ENCRYPTION_KEY: `k1:${K1}` }), /MESSO_ENCRYPTION_KEY: .*key id k2, which is not among the configured keys/);
    await assert.rejects(start({ MESSO_ENCRYPTION_KEY: `k2:${key()}` }), /MESSO_ENCRYPTION_KEY: .*key id k2 does not open/);
    const proc = spawnSync(process.execPath, [BIN, 'migrate'], {
      encoding: 'utf8', env: { ...process.env, MESSO_DATABASE_URL: db.url, MESSO_DATA_DIR: db.dir, MESSO_ENCRYPTION_KEY: `k9:${key()}`, MESSO_LOG_LEVEL: 'warn' },
    });
    assert.equal(proc.status, 1, proc.stderr);
    assert.match(proc.stderr, /^messo: MESSO_ENCRYPTION_KEY: the stored secrets cannot be opened \(webhook wh_[^)]+\): sealed with key id k2/);
    assert.ok(!proc.stderr.includes(K2) && !proc.stderr.includes(K1), 'no key in the message');

    // Rows from before the upgrade (plaintext) are sealed at the next start, once.
    await db.raw(`UPDATE webhooks SET secret = '${rotated}', previous_secret = '${first}', headers = '{"authorization":"${HEADER_VALUE}"}'`);
    await db.raw(`UPDATE inspector_bins SET secret = '${binSecret}'`);
    await start({ MESSO_ENCRYPTION_KEY: `k2:${K2}` });
    const once = await sealedRows('k2');
    await delivered(4);
    await stop();
    await start({ MESSO_ENCRYPTION_KEY: `k2:${K2}` });
    const twice = JSON.stringify([await db.raw('SELECT secret, previous_secret, headers FROM webhooks'), await db.raw('SELECT secret FROM inspector_bins')]);
    assert.equal(twice, once, 'a second start changes nothing');
    await stop();
  });
}

describe('secrets at rest on SQLite', () => {
  secretsAtRest(async () => sqliteDb());

  it('generates a key in the data directory (0600) when none is given, and keeps using it', async () => {
    const dir = tempDir('messo-keyfile-');
    try {
      const env = { MESSO_DATABASE_URL: `sqlite:${join(dir, 'messo.db')}` };
      let s = await startTestServer(env);
      const { client } = await createTenant(s);
      const w = await client.post('/api/webhooks', { title: 'r', endpoint: 'http://127.0.0.1:9/r', events: ['meeting.*'] });
      await s.close();
      const file = join(dir, 'encryption.key');
      assert.ok(existsSync(file));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const kid = readFileSync(file, 'utf8').split(':')[0];
      const db = new Database(join(dir, 'messo.db'));
      const row = db.prepare('SELECT secret FROM webhooks').get() as Row;
      db.close();
      assert.match(String(row.secret), new RegExp(`^enc:v1:${kid}:`));
      assert.ok(!String(row.secret).includes(w.body.secret.slice(6)));
      s = await startTestServer(env);
      assert.equal((await s.adminApi.get('/api/tenants')).status, 200, 'the second start opens what the first sealed');
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the key file', () => {
  it('is made once, read after, tightened to 0600, and a damaged one is named', async () => {
    const dir = join(tempDir('messo-keyring-'), 'nested', 'data');
    try {
      const first = resolveKeyring({ encryptionKey: null, dataDir: dir });
      const again = resolveKeyring({ encryptionKey: null, dataDir: dir });
      assert.deepEqual([first.source, again.source], ['generated', 'file']);
      assert.equal(again.ring.keys[0].kid, first.ring.keys[0].kid);
      assert.ok(again.ring.keys[0].key.equals(first.ring.keys[0].key));
      assert.deepEqual(readdirSync(dir), [KEY_FILE], 'no temporary file left behind');
      chmodSync(join(dir, KEY_FILE), 0o644);
      resolveKeyring({ encryptionKey: null, dataDir: dir });
      assert.equal(statSync(join(dir, KEY_FILE)).mode & 0o777, 0o600);
      writeFileSync(join(dir, KEY_FILE), 'k1:tooshort\n');
      assert.throws(() => resolveKeyring({ encryptionKey: null, dataDir: dir }), new RegExp(`${KEY_FILE}: key 1: the key must be 32 bytes`));
      assert.equal(resolveKeyring({ encryptionKey: `env:${key()}`, dataDir: dir }).source, 'env', 'the variable wins over the file');
    } finally {
      rmSync(join(dir, '..', '..'), { recursive: true, force: true });
    }
  });
});

await describeOnPg('secrets at rest on PostgreSQL', () => {
  secretsAtRest(pgDb);
});
