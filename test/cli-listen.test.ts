/**
 * `messo listen` end to end: a real server, the real CLI as a child process, and a local
 * receiver on 127.0.0.1. Captures must reach the receiver unchanged (method, sub-path, query,
 * headers with repeats and order, body bytes), one printed line each, in order; and a stream cut
 * mid-run must resume without losing or repeating a capture.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTenant, startTestServer, waitUntil, type TestServer } from './harness.js';
import { CliProcess } from './cli-helpers.js';
import { send } from './inspector-helpers.js';

interface Seen {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

async function rawReceiver(status = 201): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('thanks');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const pairsOf = (raw: string[]) => Array.from({ length: raw.length / 2 }, (_, i) => `${raw[2 * i]}: ${raw[2 * i + 1]}`);

describe('messo listen', () => {
  let server: TestServer;
  let key: string;

  before(async () => {
    server = await startTestServer();
    key = (await createTenant(server)).key;
  });
  after(() => server.close());

  test('forwards each capture unchanged and survives a dropped stream without loss or repeats', async () => {
    const local = await rawReceiver(201);
    const cli = CliProcess.start(['listen', '--server', server.config.publicUrl, '--forward-to', `${local.url}/hook?src=messo`], { MESSO_API_KEY: key });
    try {
      await waitUntil(() => cli.lines.some((l) => l.includes('public URL:')), 10_000, `the bin URL (stderr: ${cli.errLines.join(' | ')})`);
      const binUrl = cli.lines.find((l) => l.includes('public URL:'))!.split('public URL:')[1].trim();
      assert.match(binUrl, new RegExp(`^${server.config.publicUrl}/in/bin_`));

      const binary = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]);
      await send(binUrl, { method: 'POST', headers: ['Content-Type', 'application/json', 'X-Trace', 'a', 'Accept', '*/*', 'x-trace', 'b'], body: '{"n":0}' });
      await send(`${binUrl}/nested/path?x=1&y=%C3%A9`, { method: 'PUT', headers: ['content-type', 'application/octet-stream'], body: binary });
      await send(binUrl, { method: 'GET' });
      await waitUntil(() => local.seen.length >= 3, 10_000, `3 forwarded (got ${local.seen.length}; ${cli.errLines.join(' | ')})`);

      const [json, bin, get] = local.seen;
      assert.equal(json.method, 'POST');
      assert.equal(json.url, '/hook?src=messo');
      assert.equal(json.body.toString(), '{"n":0}');
      const sent = ['Content-Type: application/json', 'X-Trace: a', 'Accept: */*', 'x-trace: b'];
      const forwarded = pairsOf(json.rawHeaders);
      const start = forwarded.indexOf(sent[0]);
      assert.deepEqual(forwarded.slice(start, start + sent.length), sent, 'names, order and repeats kept');
      assert.equal(bin.method, 'PUT');
      assert.equal(bin.url, '/hook/nested/path?src=messo&x=1&y=%C3%A9');
      assert.ok(bin.body.equals(binary), 'binary body byte for byte');
      assert.equal(get.method, 'GET');
      assert.equal(get.body.length, 0);

      await waitUntil(() => cli.lines.filter((l) => /→\s+201/.test(l)).length >= 3, 5000, 'three result lines');
      const results = cli.lines.filter((l) => /→/.test(l));
      assert.match(results[0], /^\d\d:\d\d:\d\d {2}POST \/ {2}→ {2}201 {2}\(\d+ ms\)$/);
      assert.match(results[1], /PUT \/nested\/path\?x=1&y=%C3%A9 {2}→ {2}201/);

      // Cut every connection to the server: the stream drops, listen must come back.
      server.app.server.closeAllConnections();
      for (let i = 1; i <= 5; i++) await send(binUrl, { headers: ['content-type', 'application/json'], body: `{"n":${i}}` });
      await waitUntil(() => local.seen.length >= 8, 15_000, `8 forwarded (got ${local.seen.length}; ${cli.errLines.join(' | ')})`);
      assert.ok(cli.errLines.some((l) => /reconnecting/.test(l)), `the stream was dropped and resumed: ${cli.errLines.join(' | ')}`);
      for (let i = 6; i <= 7; i++) await send(binUrl, { headers: ['content-type', 'application/json'], body: `{"n":${i}}` });
      await waitUntil(() => local.seen.length >= 10, 10_000, `10 forwarded (got ${local.seen.length})`);
      const bodies = local.seen.filter((s) => s.method === 'POST').map((s) => s.body.toString());
      assert.deepEqual(bodies, Array.from({ length: 8 }, (_, i) => `{"n":${i}}`), 'all, in order, none twice');
    } finally {
      await cli.stop();
      await local.close();
    }
  });

  test('--bin reuses a bin; a local receiver that is down is reported and listening goes on', async () => {
    const created = await server.api.as(key).post('/api/inspector/bins', { name: 'kept across runs' });
    const downUrl = 'http://127.0.0.1:9/never';
    const cli = CliProcess.start(['listen', '--server', server.config.publicUrl, '--token', key, '--bin', created.body.id, '--forward-to', downUrl]);
    try {
      await waitUntil(() => cli.lines.some((l) => l.includes('public URL:')), 10_000, 'the bin URL');
      assert.ok(cli.lines.some((l) => l.includes(created.body.url)));
      // A reused bin streams from "now": wait until the stream is open before sending.
      await waitUntil(async () => {
        await send(created.body.url, { body: 'probe' });
        return cli.lines.some((l) => /→\s+error/.test(l));
      }, 10_000, 'an error line for the receiver that is down');
      assert.equal(cli.child.exitCode, null, 'still listening');
    } finally {
      await cli.stop();
    }
  });

  test('an unknown --bin is an error, exit 1', async () => {
    const cli = CliProcess.start(['listen', '--server', server.config.publicUrl, '--token', key, '--bin', 'bin_nope', '--forward-to', 'http://127.0.0.1:9/']);
    const code = await cli.exited;
    assert.equal(code, 1);
    assert.match(cli.errLines.join('\n'), /bin bin_nope: 404/);
  });
});
