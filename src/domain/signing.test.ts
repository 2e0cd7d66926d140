import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { generateSecret, sign, signatureHeader, verify } from './signing.js';

// The reference vector published with the Standard Webhooks spec.
const REF = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  ts: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

function headersFor(secrets: string[], id: string, ts: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signatureHeader(secrets, id, ts, body),
  };
}

test('sign reproduces the Standard Webhooks reference vector', () => {
  assert.equal(sign(REF.secret, REF.id, REF.ts, REF.body), REF.signature);
});

test('sign agrees with the standardwebhooks library on the reference vector', () => {
  const lib = new StandardWebhook(REF.secret);
  assert.equal(lib.sign(REF.id, new Date(REF.ts * 1000), REF.body), REF.signature);
});

test('generateSecret gives whsec_ + base64 of 32 random bytes, different each time', () => {
  const a = generateSecret();
  const b = generateSecret();
  assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(Buffer.from(a.slice(6), 'base64').length, 32);
  assert.notEqual(a, b);
  // A generated secret must be usable by our signer and by the reference library.
  const now = Math.floor(Date.now() / 1000);
  assert.equal(sign(a, 'msg_1', now, 'x'), new StandardWebhook(a).sign('msg_1', new Date(now * 1000), 'x'));
});

test('signatureHeader lists one signature per secret, space-separated', () => {
  const other = generateSecret();
  const header = signatureHeader([REF.secret, other], REF.id, REF.ts, REF.body);
  const parts = header.split(' ');
  assert.equal(parts.length, 2);
  assert.equal(parts[0], REF.signature);
  assert.equal(parts[1], sign(other, REF.id, REF.ts, REF.body));
  assert.throws(() => signatureHeader([], REF.id, REF.ts, REF.body), /at least one secret/);
});

test('sign rejects bad secrets and timestamps', () => {
  assert.throws(() => sign('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'm', 1, ''), /whsec_/);
  assert.throws(() => sign('whsec_not*base64!', 'm', 1, ''), /base64/);
  assert.throws(() => sign('whsec_AAAA', 'm', 1, ''), /24-64 bytes/);
  assert.throws(() => sign(REF.secret, 'm', 1.5, ''), /integer/);
  assert.throws(() => sign(REF.secret, 'm', -1, ''), /integer/);
});

test('our headers pass verification by the standardwebhooks library, with one and two secrets', () => {
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ id: 'app_1', status: 2000 });
  const newSecret = generateSecret();
  for (const receiverSecret of [REF.secret, newSecret]) {
    const lib = new StandardWebhook(receiverSecret);
    // Only the receiver's own secret in the header, then both (rotation overlap).
    assert.deepEqual(lib.verify(body, headersFor([receiverSecret], 'msg_a', now, body)), { id: 'app_1', status: 2000 });
    assert.deepEqual(lib.verify(body, headersFor([REF.secret, newSecret], 'msg_a', now, body)), { id: 'app_1', status: 2000 });
  }
  assert.throws(() => new StandardWebhook(generateSecret()).verify(body, headersFor([REF.secret], 'msg_a', now, body)));
});

test('our headers pass verification by the svix library, with one and two secrets', () => {
  const now = Math.floor(Date.now() / 1000);
  const body = '{"event_id":"e1"}';
  const newSecret = generateSecret();
  for (const receiverSecret of [REF.secret, newSecret]) {
    const lib = new SvixWebhook(receiverSecret);
    assert.deepEqual(lib.verify(body, headersFor([REF.secret, newSecret], 'msg_b', now, body)), { event_id: 'e1' });
  }
  assert.deepEqual(new SvixWebhook(REF.secret).verify(body, headersFor([REF.secret], 'msg_b', now, body)), { event_id: 'e1' });
  assert.throws(() => new SvixWebhook(generateSecret()).verify(body, headersFor([REF.secret], 'msg_b', now, body)));
});

test('verify accepts the reference vector and headers signed by the standardwebhooks library', () => {
  const headers = { 'webhook-id': REF.id, 'webhook-timestamp': String(REF.ts), 'webhook-signature': REF.signature };
  assert.deepEqual(verify(REF.secret, headers, REF.body, { nowSec: REF.ts }), { valid: true });

  const now = Math.floor(Date.now() / 1000);
  const libSig = new StandardWebhook(REF.secret).sign('msg_c', new Date(now * 1000), 'hello');
  const libHeaders = { 'webhook-id': 'msg_c', 'webhook-timestamp': String(now), 'webhook-signature': libSig };
  assert.deepEqual(verify(REF.secret, libHeaders, 'hello'), { valid: true });
});

test('verify reads header names case-insensitively and accepts repeated signature headers', () => {
  const other = generateSecret();
  const headers = {
    'Webhook-Id': REF.id,
    'WEBHOOK-TIMESTAMP': String(REF.ts),
    'Webhook-Signature': [sign(other, REF.id, REF.ts, REF.body), REF.signature],
  };
  assert.deepEqual(verify(REF.secret, headers, REF.body, { nowSec: REF.ts }), { valid: true });
});

test('verify: missing_headers', () => {
  const full = { 'webhook-id': REF.id, 'webhook-timestamp': String(REF.ts), 'webhook-signature': REF.signature };
  for (const name of Object.keys(full) as (keyof typeof full)[]) {
    const headers: Record<string, string | undefined> = { ...full, [name]: undefined };
    const result = verify(REF.secret, headers, REF.body, { nowSec: REF.ts });
    assert.equal(result.valid, false);
    assert.ok(!result.valid && result.reason === 'missing_headers' && result.detail.includes(name), JSON.stringify(result));
  }
  const empty = verify(REF.secret, {}, REF.body, { nowSec: REF.ts });
  assert.ok(!empty.valid && empty.reason === 'missing_headers');
  const twoIds = verify(REF.secret, { ...full, 'webhook-id': [REF.id, 'msg_other'] }, REF.body, { nowSec: REF.ts });
  assert.ok(!twoIds.valid && twoIds.reason === 'missing_headers');
});

test('verify: invalid_timestamp', () => {
  for (const ts of ['abc', '1614265330.5', '-1', '1e9']) {
    const headers = { 'webhook-id': REF.id, 'webhook-timestamp': ts, 'webhook-signature': REF.signature };
    const result = verify(REF.secret, headers, REF.body, { nowSec: REF.ts });
    assert.ok(!result.valid && result.reason === 'invalid_timestamp', `${ts}: ${JSON.stringify(result)}`);
  }
});

test('verify: timestamp_out_of_tolerance, both directions, default 300 s and custom', () => {
  const headers = { 'webhook-id': REF.id, 'webhook-timestamp': String(REF.ts), 'webhook-signature': REF.signature };
  assert.deepEqual(verify(REF.secret, headers, REF.body, { nowSec: REF.ts + 300 }), { valid: true });
  assert.deepEqual(verify(REF.secret, headers, REF.body, { nowSec: REF.ts - 300 }), { valid: true });
  const old = verify(REF.secret, headers, REF.body, { nowSec: REF.ts + 301 });
  assert.ok(!old.valid && old.reason === 'timestamp_out_of_tolerance' && old.detail.includes('old'));
  const future = verify(REF.secret, headers, REF.body, { nowSec: REF.ts - 301 });
  assert.ok(!future.valid && future.reason === 'timestamp_out_of_tolerance' && future.detail.includes('future'));
  const strict = verify(REF.secret, headers, REF.body, { nowSec: REF.ts + 11, toleranceSec: 10 });
  assert.ok(!strict.valid && strict.reason === 'timestamp_out_of_tolerance');
  // Without nowSec the real clock is used: a 2021 timestamp is far out.
  const real = verify(REF.secret, headers, REF.body);
  assert.ok(!real.valid && real.reason === 'timestamp_out_of_tolerance');
});

test('verify: no_matching_signature for a wrong secret, body, id, version or truncated signature', () => {
  const base = { 'webhook-id': REF.id, 'webhook-timestamp': String(REF.ts), 'webhook-signature': REF.signature };
  const cases: [string, Record<string, string>, string][] = [
    ['other secret', base, REF.body],
    ['changed body', base, REF.body + ' '],
    ['changed id', { ...base, 'webhook-id': 'msg_x' }, REF.body],
    ['unknown version', { ...base, 'webhook-signature': REF.signature.replace('v1,', 'v2,') }, REF.body],
    ['truncated', { ...base, 'webhook-signature': REF.signature.slice(0, -2) }, REF.body],
    ['no comma', { ...base, 'webhook-signature': 'garbage' }, REF.body],
  ];
  for (const [name, headers, body] of cases) {
    const secret = name === 'other secret' ? generateSecret() : REF.secret;
    const result = verify(secret, headers, body, { nowSec: REF.ts });
    assert.ok(!result.valid && result.reason === 'no_matching_signature', `${name}: ${JSON.stringify(result)}`);
  }
});

test('verify: invalid_secret', () => {
  const headers = { 'webhook-id': REF.id, 'webhook-timestamp': String(REF.ts), 'webhook-signature': REF.signature };
  for (const secret of ['', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_', 'whsec_%%%', 'whsec_AAAA']) {
    const result = verify(secret, headers, REF.body, { nowSec: REF.ts });
    assert.ok(!result.valid && result.reason === 'invalid_secret', `${secret}: ${JSON.stringify(result)}`);
  }
});
