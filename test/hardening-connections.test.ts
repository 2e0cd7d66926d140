/**
 * Slow and hostile connections (issue 12, item 5): a request whose body (or headers) does not
 * arrive in time is answered 408 and closed, and while hundreds of slow sockets are open from
 * one address, other clients are still served at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startTestServer, waitUntil, type TestServer } from './harness.js';

let server: TestServer;
let port: number;
before(async () => {
  server = await startTestServer({
    MESSO_SERVER_REQUEST_TIMEOUT_MS: '600',
    MESSO_SERVER_HEADERS_TIMEOUT_MS: '400',
    MESSO_MAX_CONNECTIONS_PER_ADDRESS: '20',
  });
  port = Number(new URL(server.url).port);
});
after(async () => { await server.close(); });

interface Slow { socket: Socket; data: string; closedAt: number | null }

function open(localAddress = '127.0.0.1'): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const s: Slow = { socket: connect({ port, host: '127.0.0.1', localAddress }), data: '', closedAt: null };
    s.socket.setEncoding('utf8');
    s.socket.on('data', (d: string) => { s.data += d; });
    s.socket.on('close', () => { s.closedAt = Date.now(); });
    s.socket.on('error', () => undefined);
    s.socket.once('connect', () => resolve(s));
    s.socket.once('error', reject);
  });
}

describe('slow clients', () => {
  it('closes a request whose body trickles in, with 408 problem+json', async () => {
    const s = await open();
    const started = Date.now();
    s.socket.write('POST /ingest/opencity/ingt_whatever/applications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    // One byte every 100 ms: each arrives well within any idle timeout, the whole never does.
    const drip = setInterval(() => { if (!s.socket.destroyed) s.socket.write(' '); }, 100);
    try {
      await waitUntil(() => s.closedAt !== null, 10_000, 'the slow request to be closed');
    } finally {
      clearInterval(drip);
    }
    const took = s.closedAt! - started;
    assert.ok(took >= 500 && took < 3000, `closed after ${took} ms (timeout 600 ms)`);
    assert.match(s.data, /^HTTP\/1\.1 408 /);
    assert.match(s.data, /application\/problem\+json/);
    assert.match(s.data, /urn:messo:problem:request_timeout/);
  });

  it('closes a connection whose headers never finish', async () => {
    const s = await open();
    const started = Date.now();
    s.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => { if (!s.socket.destroyed) s.socket.write('X-A: b\r\n'); }, 100);
    try {
      await waitUntil(() => s.closedAt !== null, 10_000, 'the slow headers to be closed');
    } finally {
      clearInterval(drip);
    }
    assert.ok(s.closedAt! - started < 3000, `closed after ${s.closedAt! - started} ms`);
  });

  it('serves other clients at once while 300 slow sockets come from one address', async () => {
    // 127.0.0.2 is loopback too: the hostile client has an address of its own.
    const slow: Slow[] = [];
    for (let i = 0; i < 300; i++) {
      const s = await open('127.0.0.2');
      s.socket.write('POST /in/whatever HTTP/1.1\r\nHost: x\r\n');
      slow.push(s);
    }
    try {
      // Past the per-address cap (20) the server closes them at once.
      await waitUntil(() => slow.filter((s) => s.closedAt === null).length <= 20, 5000, 'the excess slow sockets to be closed');
      for (let i = 0; i < 20; i++) {
        const t0 = Date.now();
        const r = await fetch(`${server.url}/healthz`);
        assert.equal(r.status, 200);
        assert.ok(Date.now() - t0 < 1000, 'answered at once');
      }
      // And the ones that stayed are closed by the headers timeout.
      await waitUntil(() => slow.every((s) => s.closedAt !== null), 5000, 'every slow socket to be closed');
    } finally {
      for (const s of slow) s.socket.destroy();
    }
  });
});
