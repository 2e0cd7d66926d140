import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, maskUrl } from './logger.js';

test('credentials in URLs are masked: ingest tokens, anonymous bin ids, secret query values', () => {
  assert.equal(maskUrl('/ingest/opencity/ingt_abcdefghijklmnopqrstuvwxyz/applications'), '/ingest/opencity/ingt_abcd…/applications');
  assert.equal(maskUrl('/in/bin_0123456789abcdef0123456789abcdef/x?y=1'), '/in/bin_0123…/x?y=1');
  assert.equal(maskUrl('/public/inspector/bins/bin_0123456789abcdef/stream'), '/public/inspector/bins/bin_0123…/stream');
  assert.equal(maskUrl('/in/bin_0123456789abcdef?token=s3cr3t&api_key=k&sig=v&page=2&access%5Ftoken=z'), '/in/bin_0123…?token=***&api_key=***&sig=***&page=2&access%5Ftoken=***');
  assert.equal(maskUrl('/api/applications?status=2000&cursor=abc'), '/api/applications?status=2000&cursor=abc');
});

test('a request log line carries the masked URL and no Authorization header', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger('info', sink);
  log.info({ req: { method: 'GET', url: '/ingest/opencity/ingt_secretsecretsecret/applications?token=abc', headers: { authorization: 'Bearer k' } } }, 'incoming request');
  const line = lines.join('');
  assert.doesNotMatch(line, /secretsecret|token=abc|Bearer k/);
  assert.match(line, /ingt_secr…/);
});
