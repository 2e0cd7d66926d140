/**
 * Inspector reading: lists, search, deletion, the live stream (order, resume, captures from
 * another process), response rules as the sender sees them, and the exports (curl, JSON, HAR).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTenant, startTestServer, waitUntil, type Client, type TestServer } from './harness.js';
import { newBin, send, SseReader } from './inspector-helpers.js';

let server: TestServer;
let api: Client;
let key: string;

before(async () => {
  server = await startTestServer();
  const t = await createTenant(server);
  api = t.client;
  key = t.key;
});
after(() => server.close());

const auth = () => ({ authorization: `Bearer ${key}` });

describe('response rules', () => {
  test('500 three times, then 200: the sender sees the sequence, the captures record it', async () => {
    const bin = await newBin(api, { responses: [{ status: 500, times: 3, body: 'boom' }, { status: 200, body: 'fine' }] });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(bin.url, { body: `attempt ${i}` })).status);
    assert.deepEqual(statuses, [500, 500, 500, 200, 200]);
    const list = await api.get(`/api/inspector/bins/${bin.id}/requests?order=asc`);
    assert.deepEqual(list.body.items.map((c: any) => c.response_status), [500, 500, 500, 200, 200]);

    // Setting the rules again starts the sequence over.
    const patched = await api.patch(`/api/inspector/bins/${bin.id}`, { responses: [{ status: 500, times: 1 }, { status: 204 }] });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.hits, 0);
    assert.equal((await send(bin.url, { body: 'a' })).status, 500);
    assert.equal((await send(bin.url, { body: 'b' })).status, 204);
  });

  test('always 410, with the scripted headers and body, sandboxed', async () => {
    const bin = await newBin(api, { responses: [{ status: 410, headers: { 'Content-Type': 'text/html', 'X-Reason': 'gone for good' }, body: '<h1>Gone</h1>' }] });
    for (let i = 0; i < 3; i++) {
      const r = await send(bin.url, { body: '{}' });
      assert.equal(r.status, 410);
      assert.equal(r.text, '<h1>Gone</h1>');
      assert.equal(r.headers['x-reason'], 'gone for good');
      assert.equal(r.headers['content-type'], 'text/html');
      assert.equal(r.headers['content-security-policy'], 'sandbox');
    }
  });

  test('a delay holds the answer; the default answer names the capture', async () => {
    const bin = await newBin(api, { responses: [{ status: 202, delay_ms: 400, times: 1 }] });
    const started = Date.now();
    const slow = await send(bin.url, { body: 'wait' });
    assert.equal(slow.status, 202);
    assert.ok(Date.now() - started >= 390, `answered after ${Date.now() - started} ms`);
    // Counted steps used up: the default answer, 200 with the capture id.
    const r = await send(bin.url, { body: 'x' });
    assert.equal(r.status, 200);
    const newest = (await api.get(`/api/inspector/bins/${bin.id}/requests`)).body.items[0];
    assert.deepEqual(r.json, { ok: true, id: newest.id });
  });

  test('bad rules are refused naming the field, and nothing changes', async () => {
    const bin = await newBin(api, { responses: [{ status: 418 }] });
    const cases: [unknown, string][] = [
      [[{ status: 200, delay_ms: 30_001 }], 'responses.0.delay_ms'],
      [[{ status: 500 }, { status: 200 }], 'responses.0.times'],
      [[{ status: 200, headers: { 'X-Evil': 'a\r\nSet-Cookie: x=1' } }], 'responses.0.headers.X-Evil'],
      [[{ status: 200, headers: { 'Content-Length': '1' } }], 'responses.0.headers.Content-Length'],
      [[{ status: 99 }], 'responses.0.status'],
      [[{ status: 200, colour: 'red' }], 'responses.0.colour'],
    ];
    for (const [responses, field] of cases) {
      const r = await api.patch(`/api/inspector/bins/${bin.id}`, { responses });
      assert.equal(r.status, 400, JSON.stringify(responses));
      assert.equal(r.body.field, field);
    }
    assert.equal((await send(bin.url, { body: 'x' })).status, 418);
  });
});

describe('listing, search and deletion', () => {
  test('newest first, pages with a cursor, search over headers and body, method and time filters', async () => {
    const bin = await newBin(api);
    const t0 = Date.now();
    await send(bin.url, { method: 'POST', headers: ['content-type', 'application/json', 'X-Event', 'application.created'], body: '{"status":2000,"note":"Pratica ACQUISITA"}' });
    await send(bin.url, { method: 'PUT', headers: ['content-type', 'text/plain'], body: 'sconto del 100% applicato' });
    await send(`${bin.url}/callback?ente=bugliano`, { method: 'GET' });
    await send(bin.url, { method: 'POST', headers: ['content-type', 'text/plain'], body: 'sconto del 100 per cento' });

    const all = await api.get(`/api/inspector/bins/${bin.id}/requests`);
    assert.deepEqual(all.body.items.map((c: any) => c.method), ['POST', 'GET', 'PUT', 'POST']);

    const p1 = await api.get(`/api/inspector/bins/${bin.id}/requests?limit=3`);
    assert.equal(p1.body.items.length, 3);
    const p2 = await api.get(`/api/inspector/bins/${bin.id}/requests?limit=3&cursor=${p1.body.next_cursor}`);
    assert.equal(p2.body.items.length, 1);
    assert.equal(p2.body.next_cursor, null);
    assert.equal(p2.body.items[0].method, 'POST');
    assert.equal(p2.body.items[0].headers.find((h: any) => h.name === 'X-Event').value, 'application.created');

    const q = async (query: string) => (await api.get(`/api/inspector/bins/${bin.id}/requests?${query}`)).body.items.map((c: any) => c.method);
    assert.deepEqual(await q('q=acquisita'), ['POST'], 'body text, case-insensitive');
    assert.deepEqual(await q('q=APPLICATION.CREATED'), ['POST'], 'header value');
    assert.deepEqual(await q(`q=${encodeURIComponent('100%')}`), ['PUT'], '% is literal');
    assert.deepEqual(await q('q=bugliano'), ['GET'], 'query string');
    assert.deepEqual(await q('method=put'), ['PUT']);
    assert.deepEqual(await q(`since=${new Date(t0 - 1000).toISOString()}&method=POST`), ['POST', 'POST']);
    assert.deepEqual(await q(`until=${new Date(t0 - 1000).toISOString()}`), []);
    const bad = await api.get(`/api/inspector/bins/${bin.id}/requests?since=yesterday`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'since');
  });

  test('delete one, then all', async () => {
    const bin = await newBin(api);
    for (let i = 0; i < 3; i++) await send(bin.url, { body: `n${i}` });
    const items = (await api.get(`/api/inspector/bins/${bin.id}/requests`)).body.items;
    assert.equal((await api.delete(`/api/inspector/bins/${bin.id}/requests/${items[0].id}`)).status, 204);
    assert.equal((await api.get(`/api/inspector/bins/${bin.id}/requests/${items[0].id}`)).status, 404);
    assert.equal((await api.delete(`/api/inspector/bins/${bin.id}/requests/${items[0].id}`)).status, 404);
    const cleared = await api.delete(`/api/inspector/bins/${bin.id}/requests`);
    assert.deepEqual(cleared.body, { deleted: 2 });
    assert.equal((await api.get(`/api/inspector/bins/${bin.id}`)).body.request_count, 0);
  });
});

describe('live stream', () => {
  test('captures arrive in order with their seq as id; Last-Event-ID resumes exactly where it stopped', async () => {
    const bin = await newBin(api);
    const url = `${server.config.publicUrl}/api/inspector/bins/${bin.id}/stream`;
    const first = await SseReader.open(url, auth());
    assert.equal(first.status, 200);
    const ready = await first.next();
    assert.equal(ready.event, 'ready');
    assert.equal(ready.id, '0');

    for (let i = 0; i < 5; i++) await send(bin.url, { body: `live ${i}` });
    const got = await first.requests(5);
    assert.deepEqual(got.map((e) => e.capture.body), ['live 0', 'live 1', 'live 2', 'live 3', 'live 4']);
    const ids = got.map((e) => Number(e.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.deepEqual(got.map((e) => e.capture.seq), ids);
    first.close();

    // While nobody listens, three more arrive.
    for (let i = 5; i < 8; i++) await send(bin.url, { body: `live ${i}` });
    const resumed = await SseReader.open(url, { ...auth(), 'last-event-id': String(ids[4]) });
    assert.equal((await resumed.next()).event, 'ready');
    const missed = await resumed.requests(3);
    assert.deepEqual(missed.map((e) => e.capture.body), ['live 5', 'live 6', 'live 7']);
    await send(bin.url, { body: 'live 8' });
    assert.equal((await resumed.requests(1))[0].capture.body, 'live 8');
    assert.deepEqual(resumed.pending().filter((e) => e.event === 'request'), [], 'no repeats');
    resumed.close();

    // Without Last-Event-ID a stream starts from now; its ready id lets it resume later.
    const fresh = await SseReader.open(url, auth());
    const r = await fresh.next();
    assert.equal(r.event, 'ready');
    assert.equal(Number(r.id), (await api.get(`/api/inspector/bins/${bin.id}/requests?limit=1`)).body.items[0].seq);
    fresh.close();

    const badId = await SseReader.open(url, { ...auth(), 'last-event-id': 'yesterday' });
    assert.equal(badId.status, 400);
    const otherTenant = await createTenant(server, 'Altro Comune');
    const foreign = await SseReader.open(url, { authorization: `Bearer ${otherTenant.key}` });
    assert.equal(foreign.status, 404);
  });

  test('a capture written by another process arrives through the store poll', async () => {
    const bin = await newBin(api);
    const stream = await SseReader.open(`${server.config.publicUrl}/api/inspector/bins/${bin.id}/stream`, auth());
    await stream.next();
    // Straight into the store, as a process sharing the database would: no in-process notice.
    await server.store.inspector.addCapture({
      id: 'req_from_elsewhere', bin_id: bin.id, method: 'POST', path: '', query: '', http_version: '1.1',
      headers: [['content-type', 'text/plain']], content_type: 'text/plain', body: 'hello from another process',
      body_encoding: 'utf8', size: 26, client_ip: '127.0.0.1', received_at: Date.now(), response_status: 200, signature: null,
    }, 500);
    const [e] = await stream.requests(1, 3000);
    assert.equal(e.capture.id, 'req_from_elsewhere');
    stream.close();
  });

  test('live streams per bin are bounded: the one too many answers 429', async () => {
    const bin = await newBin(api);
    const url = `${server.config.publicUrl}/api/inspector/bins/${bin.id}/stream`;
    const open = await Promise.all(Array.from({ length: 20 }, () => SseReader.open(url, auth())));
    assert.ok(open.every((s) => s.status === 200));
    const extra = await SseReader.open(url, auth());
    assert.equal(extra.status, 429);
    open[0].close();
    await open[0].done;
    // The server notices the closed connection; then there is room again.
    let again: SseReader | null = null;
    await waitUntil(async () => {
      again = await SseReader.open(url, auth());
      return again.status === 200;
    }, 5000, 'room for one more stream');
    for (const s of [...open, again!]) s.close();
  });

  test('server shutdown ends open streams instead of waiting for them', async () => {
    const other = await startTestServer();
    try {
      const t = await createTenant(other);
      const bin = await newBin(t.client);
      const stream = await SseReader.open(`${other.config.publicUrl}/api/inspector/bins/${bin.id}/stream`, { authorization: `Bearer ${t.key}` });
      await stream.next();
      const started = Date.now();
      await other.close();
      await stream.done;
      assert.ok(Date.now() - started < 5000, `shutdown took ${Date.now() - started} ms`);
    } finally {
      await other.close();
    }
  });
});

describe('exports', () => {
  test('curl reproduces the capture: run it against the bin and compare', async (t) => {
    const curl = await promisify(execFile)('curl', ['--version']).then(() => true, () => false);
    const bin = await newBin(api);
    const body = `{"msg":"it's \\"quoted\\" and $HOME stays literal","n":1}`;
    await send(`${bin.url}/sub/path?a=1&b=two`, { method: 'PATCH', headers: ['Content-Type', 'application/json', 'X-One', '1', 'X-One', '2'], body });
    const [c] = (await api.get(`/api/inspector/bins/${bin.id}/requests`)).body.items;
    const r = await api.get(`/api/inspector/bins/${bin.id}/requests/${c.id}/curl`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(r.text, /^curl -X PATCH /);
    if (!curl) return t.skip('curl is not installed: the command was checked by shape only');
    await promisify(execFile)('sh', ['-c', r.text]);
    const [again] = (await api.get(`/api/inspector/bins/${bin.id}/requests`)).body.items;
    assert.notEqual(again.id, c.id);
    assert.equal(again.method, 'PATCH');
    assert.equal(again.path, '/sub/path');
    assert.equal(again.query, 'a=1&b=two');
    assert.equal(again.body, body);
    const pick = (x: any) => x.headers.filter((h: any) => /^(content-type|x-one)$/i.test(h.name)).map((h: any) => `${h.name}: ${h.value}`);
    assert.deepEqual(pick(again), pick(c));

    // A binary body goes through base64 into curl's stdin.
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x27, 0x0a]);
    await send(bin.url, { headers: ['content-type', 'application/octet-stream'], body: bytes });
    const [bc] = (await api.get(`/api/inspector/bins/${bin.id}/requests`)).body.items;
    const br = await api.get(`/api/inspector/bins/${bin.id}/requests/${bc.id}/curl`);
    await promisify(execFile)('sh', ['-c', br.text]);
    const [bagain] = (await api.get(`/api/inspector/bins/${bin.id}/requests`)).body.items;
    assert.notEqual(bagain.id, bc.id);
    assert.ok(Buffer.from(bagain.body, 'base64').equals(bytes));
  });

  test('JSON export holds the bin and every capture in full', async () => {
    const bin = await newBin(api, { name: 'export me' });
    const big = 'x'.repeat(100_000);
    await send(bin.url, { headers: ['content-type', 'text/plain'], body: big });
    await send(bin.url, { headers: ['content-type', 'application/octet-stream'], body: Buffer.from([0xff, 0x00]) });
    const r = await api.get(`/api/inspector/bins/${bin.id}/export`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-disposition') ?? '', new RegExp(`${bin.id}\\.json`));
    assert.equal(r.body.bin.name, 'export me');
    assert.equal(r.body.requests.length, 2);
    assert.equal(r.body.requests[0].body, big, 'not a preview');
    assert.equal(r.body.requests[0].body_truncated, false);
    assert.equal(r.body.requests[1].body_encoding, 'base64');
  });

  test('HAR export is valid HAR 1.2: every field the spec requires, with the right types', async () => {
    const bin = await newBin(api, { responses: [{ status: 503, times: 1 }] });
    await send(`${bin.url}/hook?ente=bugliano&x=1`, { headers: ['Content-Type', 'application/json', 'Cookie', 'a=1; b=2'], body: '{"id":1}' });
    await send(bin.url, { headers: ['content-type', 'application/x-www-form-urlencoded'], body: 'name=Mario+Rossi&city=Bugliano' });
    await send(bin.url, { method: 'GET' });
    const r = await api.get(`/api/inspector/bins/${bin.id}/export?format=har`);
    assert.equal(r.status, 200);
    validateHar(r.body);
    const [json, form, get] = r.body.log.entries;
    assert.equal(json.request.url, `${bin.url}/hook?ente=bugliano&x=1`);
    assert.deepEqual(json.request.queryString, [{ name: 'ente', value: 'bugliano' }, { name: 'x', value: '1' }]);
    assert.deepEqual(json.request.cookies, [{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
    assert.deepEqual(json.request.postData, { mimeType: 'application/json', text: '{"id":1}' });
    assert.equal(json.response.status, 503);
    assert.equal(json.response.statusText, 'Service Unavailable');
    assert.deepEqual(form.request.postData.params, [{ name: 'name', value: 'Mario Rossi' }, { name: 'city', value: 'Bugliano' }]);
    assert.equal(get.request.postData, undefined);
    assert.equal(get.request.bodySize, 0);
  });
});

/**
 * The required fields of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), with
 * their types. Optional fields, when present, are checked too.
 */
function validateHar(har: any): void {
  const is = (v: unknown, type: string, where: string) => {
    const ok = type === 'array' ? Array.isArray(v) : type === 'integer' ? Number.isInteger(v) : typeof v === type && v !== null;
    assert.ok(ok, `${where} must be ${type}, got ${JSON.stringify(v)}`);
  };
  const nameValues = (list: unknown, where: string) => {
    is(list, 'array', where);
    (list as any[]).forEach((nv, i) => { is(nv.name, 'string', `${where}[${i}].name`); is(nv.value, 'string', `${where}[${i}].value`); });
  };
  is(har.log, 'object', 'log');
  assert.equal(har.log.version, '1.2');
  is(har.log.creator, 'object', 'log.creator');
  is(har.log.creator.name, 'string', 'log.creator.name');
  is(har.log.creator.version, 'string', 'log.creator.version');
  is(har.log.entries, 'array', 'log.entries');
  assert.ok(har.log.entries.length > 0);
  har.log.entries.forEach((e: any, i: number) => {
    const at = `log.entries[${i}]`;
    is(e.startedDateTime, 'string', `${at}.startedDateTime`);
    assert.match(e.startedDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, `${at}.startedDateTime is ISO 8601`);
    is(e.time, 'number', `${at}.time`);
    is(e.cache, 'object', `${at}.cache`);
    is(e.timings, 'object', `${at}.timings`);
    for (const k of ['send', 'wait', 'receive']) {
      is(e.timings[k], 'number', `${at}.timings.${k}`);
      assert.ok(e.timings[k] >= 0, `${at}.timings.${k} must not be negative`);
    }
    const q = e.request;
    is(q, 'object', `${at}.request`);
    for (const k of ['method', 'url', 'httpVersion']) is(q[k], 'string', `${at}.request.${k}`);
    assert.doesNotThrow(() => new URL(q.url), `${at}.request.url is absolute`);
    nameValues(q.cookies, `${at}.request.cookies`);
    nameValues(q.headers, `${at}.request.headers`);
    nameValues(q.queryString, `${at}.request.queryString`);
    is(q.headersSize, 'integer', `${at}.request.headersSize`);
    is(q.bodySize, 'integer', `${at}.request.bodySize`);
    if (q.postData !== undefined) {
      is(q.postData.mimeType, 'string', `${at}.request.postData.mimeType`);
      if (q.postData.text !== undefined) is(q.postData.text, 'string', `${at}.request.postData.text`);
      if (q.postData.params !== undefined) nameValues(q.postData.params, `${at}.request.postData.params`);
    }
    const s = e.response;
    is(s, 'object', `${at}.response`);
    is(s.status, 'integer', `${at}.response.status`);
    for (const k of ['statusText', 'httpVersion', 'redirectURL']) is(s[k], 'string', `${at}.response.${k}`);
    nameValues(s.cookies, `${at}.response.cookies`);
    nameValues(s.headers, `${at}.response.headers`);
    is(s.content, 'object', `${at}.response.content`);
    is(s.content.size, 'integer', `${at}.response.content.size`);
    is(s.content.mimeType, 'string', `${at}.response.content.mimeType`);
    is(s.headersSize, 'integer', `${at}.response.headersSize`);
    is(s.bodySize, 'integer', `${at}.response.bodySize`);
    // Custom fields must start with an underscore.
    const known = new Set(['pageref', 'startedDateTime', 'time', 'request', 'response', 'cache', 'timings', 'serverIPAddress', 'connection', 'comment']);
    for (const k of Object.keys(e)) assert.ok(known.has(k) || k.startsWith('_'), `${at}.${k} is not a HAR field and lacks the _ prefix`);
  });
}
