/**
 * The inspector store on both dialects: the same cases on a fresh SQLite file and a fresh
 * PostgreSQL schema, proving its SQL is portable. Then the capture path end to end over HTTP on
 * PostgreSQL (search, SSE, cap), since that is where several processes will share the data.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type NewCapture, type Store } from '../src/store/index.js';
import { createTenant, startTestServer, type TestServer } from './harness.js';
import { freshPgStore, freshSqliteStore } from './stores.js';
import { newBin, send, SseReader } from './inspector-helpers.js';
import pg from 'pg';
import { describeOnPg, freshPgSchema, pgAdmin, PG_URL, type PgSchema } from './pg.js';
import { waitUntil } from './harness.js';

let n = 0;
const capture = (binId: string, over: Partial<NewCapture> = {}): NewCapture => ({
  id: `req_t${++n}_${process.pid}`, bin_id: binId, method: 'POST', path: '', query: '', http_version: '1.1',
  headers: [['Content-Type', 'text/plain'], ['X-Repeat', '1'], ['x-repeat', '2']], content_type: 'text/plain',
  body: 'hello', body_encoding: 'utf8', size: 5, client_ip: '127.0.0.1', received_at: Date.now(), response_status: 200,
  signature: null, ...over,
});

function contract(name: string, open: () => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`inspector store on ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let tenantId: string;

    before(async () => {
      ({ store, cleanup } = await open());
      tenantId = (await store.createTenant({ id: `t-${process.pid}-${name}`, name: 'Comune', slug: `comune-${name}`, external_id: null })).id;
    });
    after(() => cleanup());

    const bin = (over: Record<string, unknown> = {}) => store.inspector.createBin({
      id: `bin_${name}_${++n}`, tenant_id: tenantId, name: null, secret: null, responses: null, max_requests: 3,
      created_at: Date.now(), expires_at: Date.now() + 60_000, ...over,
    });

    it('scopes bins to their owner and hides expired ones', async () => {
      const b = await bin();
      const anon = await bin({ tenant_id: null });
      assert.equal((await store.inspector.getBin(tenantId, b.id))?.id, b.id);
      assert.equal(await store.inspector.getBin('someone-else', b.id), null);
      assert.equal(await store.inspector.getBin(null, b.id), null);
      assert.equal((await store.inspector.getBin(null, anon.id))?.id, anon.id);
      assert.equal(await store.inspector.getBin(tenantId, anon.id), null);
      const old = await bin({ expires_at: Date.now() - 1 });
      assert.equal(await store.inspector.findLiveBin(old.id), null);
      assert.equal(await store.inspector.hitBin(old.id), null);
      const listed = await store.inspector.listBins(tenantId, { limit: 100 });
      assert.ok(listed.items.some((x) => x.id === b.id) && !listed.items.some((x) => x.id === old.id));
    });

    it('counts hits atomically and restarts them when the responses change', async () => {
      const b = await bin();
      const hits = await Promise.all(Array.from({ length: 20 }, () => store.inspector.hitBin(b.id)));
      assert.deepEqual(hits.map((h) => h!.hits).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1));
      const updated = await store.inspector.updateBin(tenantId, b.id, { responses: [{ status: 500, times: 2 }] });
      assert.equal(updated?.hits, 0);
      assert.deepEqual(updated?.responses, [{ status: 500, times: 2 }]);
    });

    it('keeps the newest max_requests captures, with headers and bodies intact', async () => {
      const b = await bin();
      for (let i = 0; i < 5; i++) await store.inspector.addCapture(capture(b.id, { body: `n${i}` }), b.max_requests);
      const page = await store.inspector.listCaptures(b.id, { order: 'asc' }, { limit: 10 }, 100);
      assert.deepEqual(page.items.map((c) => c.body), ['n2', 'n3', 'n4']);
      assert.deepEqual(page.items[0].headers, [['Content-Type', 'text/plain'], ['X-Repeat', '1'], ['x-repeat', '2']]);
      assert.equal(await store.inspector.lastSeq(b.id), page.items[2].seq);
      const after = await store.inspector.capturesAfter(b.id, page.items[0].seq, 10, 100);
      assert.deepEqual(after.map((c) => c.body), ['n3', 'n4']);
    });

    it('previews long bodies and searches with literal wildcards, case-insensitively', async () => {
      const b = await bin({ max_requests: 10 });
      await store.inspector.addCapture(capture(b.id, { body: 'x'.repeat(1000), size: 1000 }), 10);
      await store.inspector.addCapture(capture(b.id, { body: 'Sconto 100% APPLICATO', size: 21 }), 10);
      await store.inspector.addCapture(capture(b.id, { body: 'sconto 100 per cento', size: 20, method: 'PUT' }), 10);
      await store.inspector.addCapture(capture(b.id, { body: 'under_score', size: 11 }), 10);
      const all = await store.inspector.listCaptures(b.id, { order: 'asc' }, { limit: 10 }, 100);
      assert.equal(all.items[0].body.length, 100);
      assert.equal(all.items[0].body_truncated, true);
      assert.equal(all.items[1].body_truncated, false);
      const full = await store.inspector.getCapture(b.id, all.items[0].id);
      assert.equal(full?.body.length, 1000);
      const find = async (q: string, method?: string) => (await store.inspector.listCaptures(b.id, { q, method }, { limit: 10 }, 100)).items.map((c) => c.body);
      assert.deepEqual(await find('100%'), ['Sconto 100% APPLICATO']);
      assert.deepEqual(await find('applicato'), ['Sconto 100% APPLICATO']);
      assert.deepEqual(await find('r_s'), ['under_score']);
      assert.deepEqual(await find('x-repeat', 'put'), ['sconto 100 per cento']);
    });

    it('deletes one, all, and purges expired bins in batches', async () => {
      const b = await bin({ max_requests: 100 });
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await store.inspector.addCapture(capture(b.id), 100)).id);
      assert.equal(await store.inspector.deleteCapture(b.id, ids[0]), true);
      assert.equal(await store.inspector.deleteCapture(b.id, ids[0]), false);
      assert.equal(await store.inspector.clearCaptures(b.id), 6);
      for (let i = 0; i < 7; i++) await store.inspector.addCapture(capture(b.id), 100);
      assert.equal(await store.inspector.deleteBin('someone-else', b.id), false);
      assert.equal(await store.inspector.deleteBin(tenantId, b.id), true);
      assert.equal(await store.inspector.getBin(tenantId, b.id), null);
      let total = 0;
      let bins = 0;
      for (let i = 0; i < 10; i++) {
        const done = await store.inspector.purgeExpired(Date.now(), { batch: 3 });
        total += done.captures;
        bins += done.bins;
        if (done.bins === 0 && done.captures === 0) break;
      }
      assert.ok(total >= 7);
      assert.ok(bins >= 1);
      assert.equal((await store.inspector.capturesAfter(b.id, 0, 100, 10)).length, 0);
    });
  });
}

contract('sqlite', () => freshSqliteStore('messo-inspector-'));

await describeOnPg('inspector store on postgres', () => {
  contract('postgres', () => freshPgStore());

  it("a capture waits for another process's uncommitted capture in the same bin: seq order is commit order", async () => {
    const schema = await freshPgSchema();
    const store = await openStore(schema.url);
    // A second "process": its own connection, holding a capture transaction open.
    const other = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema.schema}` });
    await other.connect();
    try {
      const t = await store.createTenant({ id: `t-order-${process.pid}`, name: 'Comune', slug: 'ordine', external_id: null });
      const b = await store.inspector.createBin({ id: 'bin_order', tenant_id: t.id, name: null, secret: null, responses: null, max_requests: 10, created_at: Date.now(), expires_at: Date.now() + 60_000 });
      await other.query('BEGIN');
      await other.query('UPDATE inspector_bins SET hits = hits + 1 WHERE id = $1', [b.id]);
      // This process's capture must wait for the other's to commit before taking its seq.
      const mine = store.inspector.recordCapture(b.id, Date.now(), () => capture(b.id, { body: 'second' }));
      // Watched from outside the open transaction: inside one, pg_stat_activity is a snapshot.
      await waitUntil(async () => (await pgAdmin((c) => c.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE inspector_bins%'",
      ))).rowCount! > 0, 5000, 'the second capture to wait for the bin lock');
      const first = await other.query(
        `INSERT INTO inspector_captures (id, bin_id, method, path, query, http_version, headers, content_type, body, body_encoding, size, client_ip, received_at, response_status)
         VALUES ('req_first', $1, 'POST', '', '', '1.1', '[]', NULL, 'first', 'utf8', 5, NULL, $2, 200) RETURNING seq`, [b.id, Date.now()]);
      // Before the commit a reader sees nothing past the cursor; after it, both, in order.
      assert.deepEqual(await store.inspector.capturesAfter(b.id, 0, 10, 10), []);
      await other.query('COMMIT');
      const second = await mine;
      assert.ok(second!.capture.seq > Number(first.rows[0].seq));
      assert.deepEqual((await store.inspector.capturesAfter(b.id, 0, 10, 10)).map((c) => c.body), ['first', 'second']);
    } finally {
      await other.end();
      await store.close();
      await schema.drop();
    }
  });

  describe('inspector over HTTP on postgres', () => {
    let server: TestServer;
    let pg: PgSchema;
    before(async () => {
      pg = await freshPgSchema();
      server = await startTestServer({ MESSO_DATABASE_URL: pg.url });
    });
    after(async () => {
      await server?.close();
      await pg?.drop();
    });

    it('captures, caps, searches and streams', async () => {
      assert.equal(server.store.dialect, 'postgres');
      const t = await createTenant(server);
      const bin = await newBin(t.client, { max_requests: 5 });
      const stream = await SseReader.open(`${server.config.publicUrl}/api/inspector/bins/${bin.id}/stream`, { authorization: `Bearer ${t.key}` });
      assert.equal((await stream.next()).event, 'ready');
      for (let i = 0; i < 8; i++) await send(bin.url, { headers: ['content-type', 'text/plain'], body: `Pratica ${i} ACQUISITA` });
      await send(bin.url, { headers: ['content-type', 'application/octet-stream'], body: Buffer.from([0, 0xff]) });
      const events = await stream.requests(9);
      assert.deepEqual(events.slice(0, 8).map((e) => e.capture.body), Array.from({ length: 8 }, (_, i) => `Pratica ${i} ACQUISITA`));
      stream.close();
      const got = await t.client.get(`/api/inspector/bins/${bin.id}`);
      assert.equal(got.body.request_count, 5);
      const found = await t.client.get(`/api/inspector/bins/${bin.id}/requests?q=pratica%207`);
      assert.deepEqual(found.body.items.map((c: any) => c.body), ['Pratica 7 ACQUISITA']);
      const bin2 = (await t.client.get(`/api/inspector/bins/${bin.id}/requests?limit=1`)).body.items[0];
      assert.equal(bin2.body_encoding, 'base64');
    });
  });
});
