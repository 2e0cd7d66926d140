/** Which redirect answers become a next hop, and what that hop carries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextHop } from './client.js';
import type { SendRequest, SendResult } from './sender.js';

const req: SendRequest = {
  url: 'http://hooks.example.it/in', method: 'POST', body: '{}', maxRedirects: 5,
  headers: { 'content-type': 'application/json', 'x-key': 'secret', 'webhook-id': 'msg_1', 'webhook-signature': 'v1,x', 'webhook-timestamp': '1' },
};
const answer = (statusCode: number, location?: string): SendResult => ({
  kind: 'response', ok: false, statusCode, headers: location ? { location } : {}, body: '', truncated: false, durationMs: 1,
});

test('301, 302, 307 and 308 with a Location are followed, one hop fewer left, same method and body', () => {
  for (const code of [301, 302, 307, 308]) {
    const hop = nextHop(answer(code, 'https://hooks.example.it/in'), req);
    assert.equal(hop?.url, 'https://hooks.example.it/in', String(code));
    assert.equal(hop?.method, 'POST');
    assert.equal(hop?.body, '{}');
    assert.equal(hop?.maxRedirects, 4);
  }
});

test('a relative Location resolves against the current URL; same origin keeps every header', () => {
  const hop = nextHop(answer(308, '/v2/in?x=1'), req);
  assert.equal(hop?.url, 'http://hooks.example.it/v2/in?x=1');
  assert.deepEqual(hop?.headers, req.headers);
});

test('another origin keeps only content-type, user-agent and the webhook-* headers', () => {
  const hop = nextHop(answer(307, 'https://other.example.it/in'), req);
  assert.deepEqual(Object.keys(hop?.headers ?? {}).sort(), ['content-type', 'webhook-id', 'webhook-signature', 'webhook-timestamp']);
});

test('no hop for 303, 200, an error, a missing or non-http Location', () => {
  assert.equal(nextHop(answer(303, '/x'), req), null);
  assert.equal(nextHop(answer(200, '/x'), req), null);
  assert.equal(nextHop(answer(308), req), null);
  assert.equal(nextHop(answer(308, 'file:///etc/passwd'), req), null);
  assert.equal(nextHop(answer(308, 'gopher://x/'), req), null);
  assert.equal(nextHop({ kind: 'error', ok: false, errorClass: 'timeout', message: 't', durationMs: 1 }, req), null);
});
