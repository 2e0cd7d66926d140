/**
 * No 5xx from bad input, on SQLite and PostgreSQL alike (issue 12, item 6): NUL in path and
 * query values, integers no column holds, JSON nested deeper than 64, oversized headers (431
 * as problem+json), and a store that is out of reach (503 with Retry-After, not 500).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { startTestServer, createTenant, type TestServer } from './harness.js';
import { assertProblem, createService } from './api-helpers.js';
import { describeOnPg, freshPgSchema, PG_URL, type PgSchema } from './pg.js';

const NUL_URLS: [string, string][] = [
  ['/api/applications?status=2000&service_id=%00', 'service_id'],
  ['/api/applications/%00', 'id'],
  ['/api/applications/ab%00cd/messages', 'id'],
  ['/api/services/%00', 'id'],
  ['/api/webhooks/%00', 'id'],
  ['/api/deliveries/%00', 'id'],
  ['/api/deliveries?webhook_id=%00', 'webhook_id'],
  ['/api/deliveries?event_id=x%00', 'event_id'],
  ['/api/events/%00', 'id'],
  ['/api/events?type=%00', 'type'],
  ['/api/events?subject=%00', 'subject'],
  ['/api/inspector/bins/%00', 'id'],
];

function nested(depth: number): string {
  return `{"name":"x","description":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}}`;
}

function suite(name: string, env: () => Promise<Record<string, string>>) {
  describe(name, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(await env()); });
    after(async () => { await server.close(); });

    it('answers NUL in any path or query value with 400 naming it', async () => {
      const { client } = await createTenant(server, `NUL ${name}`);
      for (const [url, field] of NUL_URLS) assertProblem(await client.get(url), 400, field);
      assertProblem(await client.delete('/api/webhooks/%00'), 400, 'id');
      assertProblem(await client.patch('/api/webhooks/%00', {}), 400, 'id');
      assertProblem(await client.patch('/api/services/%00', {}), 400, 'id');
      // No route at all: the path itself is named.
      assertProblem(await client.delete('/api/services/%00'), 400, 'path');
      assertProblem(await server.api.get('/in/%00'), 400);
    });

    it('answers integers no column can hold with 400', async () => {
      const { client } = await createTenant(server, `ints ${name}`);
      for (const q of ['status=99999999999999999999', 'status=2147483648', 'status=-99999999999', 'limit=99999999999999999999']) {
        assertProblem(await client.get(`/api/applications?${q}`), 400, q.split('=')[0]);
      }
      assert.equal((await client.get('/api/applications?status=2000')).status, 200);
      const svc = await createService(client);
      const r = await client.post('/api/applications', { service_id: svc.id, status: 1e20 });
      assertProblem(r, 400, 'status');
    });

    it('answers JSON nested deeper than 64 with 400, and takes 64', async () => {
      const { client } = await createTenant(server, `deep ${name}`);
      for (const depth of [65, 5000, 200_000]) {
        const r = await client.post('/api/services', nested(depth));
        assertProblem(r, 400, 'body');
        assert.match(r.body.detail, /64/);
      }
      const ok = await client.post('/api/events', { event_id: crypto.randomUUID(), type: 'meeting.created', data: JSON.parse(`${'{"a":'.repeat(60)}1${'}'.repeat(60)}`) });
      assert.equal(ok.status, 201, ok.text);
    });

    it('answers oversized headers with 431 problem+json', async () => {
      const r = await fetch(`${server.url}/api/services`, { headers: { 'x-big': 'a'.repeat(40_000) } });
      assert.equal(r.status, 431);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      const body = await r.json() as { type: string; status: number };
      assert.equal(body.type, 'urn:messo:problem:headers_too_large');
      assert.equal(body.status, 431);
    });
  });
}

suite('bad input on SQLite', async () => ({}));
let schema: PgSchema | null = null;
await describeOnPg('bad input on PostgreSQL', () => {
  suite('PostgreSQL', async () => {
    schema = await freshPgSchema();
    return { MESSO_DATABASE_URL: schema.url };
  });
  after(async () => { await schema?.drop(); });
});

/** A loopback TCP relay to PostgreSQL that the test can cut: "the store is down" without touching the server. */
async function relay(target: URL): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname);
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => { inbound.destroy(); outbound.destroy(); };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

await describeOnPg('store out of reach', () => {
  it('answers 503 with Retry-After (not 500) when PostgreSQL goes away, and the process lives', async () => {
    const pg = await freshPgSchema();
    const link = await relay(new URL(PG_URL));
    const url = new URL(pg.url);
    url.hostname = '127.0.0.1';
    url.port = String(link.port);
    const server = await startTestServer({ MESSO_DATABASE_URL: url.toString() }, { engine: false });
    try {
      const { client } = await createTenant(server, 'Comune che perde il database');
      assert.equal((await client.get('/api/services')).status, 200);
      await link.cut();
      for (const path of ['/api/services', '/api/applications', '/api/webhooks']) {
        const r = await client.get(path);
        assertProblem(r, 503);
        assert.equal(r.headers.get('retry-after'), '5', path);
      }
      assert.equal((await server.api.get('/healthz')).status, 200, 'the process is still up');
    } finally {
      await server.close().catch(() => undefined);
      await pg.drop();
    }
  });
});

describe('store closed (SQLite)', () => {
  it('answers 503 with Retry-After once the store is closed', async () => {
    const server = await startTestServer({}, { engine: false });
    try {
      const { client } = await createTenant(server, 'Comune chiuso');
      await server.store.close();
      const r = await client.get('/api/services');
      assertProblem(r, 503);
      assert.equal(r.headers.get('retry-after'), '5');
    } finally {
      await server.close().catch(() => undefined);
    }
  });
});
