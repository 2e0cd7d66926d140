import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curlCommand, harEntry, resendHeaders, shellQuote } from './export.js';
import { splitTarget } from './capture.js';
import { encodeBody } from './views.js';
import type { Capture } from '../store/index.js';

const capture = (over: Partial<Capture> = {}): Capture => ({
  seq: 1, id: 'req_1', bin_id: 'bin_x', method: 'POST', path: '', query: '', http_version: '1.1',
  headers: [['Host', 'example'], ['Content-Type', 'text/plain'], ['Content-Length', '2'], ['Connection', 'keep-alive'], ['X-A', '1']],
  content_type: 'text/plain', body: 'hi', body_encoding: 'utf8', body_truncated: false, size: 2, client_ip: '127.0.0.1',
  received_at: Date.UTC(2025, 0, 2, 3, 4, 5), response_status: 200, signature: null, ...over,
});

test('shell quoting survives quotes, dollars and newlines', () => {
  assert.equal(shellQuote(`it's $HOME`), `'it'\\''s $HOME'`);
  assert.equal(shellQuote('a\nb'), `'a\nb'`);
});

test('resends drop the headers of the old connection, keep the rest in order', () => {
  assert.deepEqual(resendHeaders(capture().headers), [['Content-Type', 'text/plain'], ['X-A', '1']]);
});

test('curl: GET without body has no -X, HEAD uses --head, binary goes through base64', () => {
  assert.match(curlCommand(capture({ method: 'GET', size: 0, body: '' }), 'http://h/x'), /^curl 'http:\/\/h\/x'/);
  assert.match(curlCommand(capture({ method: 'HEAD', size: 0, body: '' }), 'http://h/x'), /^curl --head /);
  const bin = curlCommand(capture({ body: '/w==', body_encoding: 'base64', size: 2 }), 'http://h/[x]');
  assert.match(bin, /^printf %s '\/w==' \| base64 --decode \| curl -X POST --globoff 'http:\/\/h\/\[x\]'/);
  assert.match(bin, /--data-binary @-\n$/);
});

test('HAR entry: base64 bodies are marked with an underscore field', () => {
  const e = harEntry(capture({ body: '/w==', body_encoding: 'base64' }), 'http://pub');
  assert.deepEqual(e.request.postData, { mimeType: 'text/plain', text: '/w==', _encoding: 'base64' });
  assert.equal(e.startedDateTime, '2025-01-02T03:04:05.000Z');
  assert.equal(e.request.url, 'http://pub/in/bin_x');
});

test('the sub-path and query are taken exactly as sent', () => {
  assert.deepEqual(splitTarget('/in/bin_x'), { path: '', query: '' });
  assert.deepEqual(splitTarget('/in/bin_x/'), { path: '/', query: '' });
  assert.deepEqual(splitTarget('/in/bin_x/a%20b/c?x=1&y'), { path: '/a%20b/c', query: 'x=1&y' });
});

test('bodies: UTF-8 without NUL is text, anything else base64', () => {
  assert.deepEqual(encodeBody(Buffer.from('città')), { body: 'città', encoding: 'utf8' });
  assert.deepEqual(encodeBody(Buffer.from([0xc3])), { body: 'ww==', encoding: 'base64' });
  assert.deepEqual(encodeBody(Buffer.from('a\0b')), { body: 'YQBi', encoding: 'base64' });
});
