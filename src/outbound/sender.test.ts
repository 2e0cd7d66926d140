// The sender's error classification, pure; the sender itself is tested against real servers
// on loopback in test/delivery-sender.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifySendError } from './sender.js';

test('classifySendError maps by code, through cause and AggregateError, never by message', () => {
  const withCode = (code: string, message = 'whatever') => Object.assign(new Error(message), { code });
  const cases: [unknown, string][] = [
    [withCode('UND_ERR_CONNECT_TIMEOUT'), 'connect_timeout'],
    [withCode('ETIMEDOUT'), 'connect_timeout'],
    [withCode('UND_ERR_HEADERS_TIMEOUT'), 'timeout'],
    [withCode('UND_ERR_BODY_TIMEOUT'), 'timeout'],
    [withCode('ECONNREFUSED'), 'connection_refused'],
    [withCode('ECONNRESET'), 'connection_reset'],
    [withCode('UND_ERR_SOCKET'), 'connection_reset'],
    [withCode('EPIPE'), 'connection_reset'],
    [withCode('ENOTFOUND'), 'dns'],
    [withCode('EAI_AGAIN'), 'dns'],
    [withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls'],
    [withCode('SELF_SIGNED_CERT_IN_CHAIN'), 'tls'],
    [withCode('CERT_HAS_EXPIRED'), 'tls'],
    [withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tls'],
    [withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls'],
    [withCode('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls'],
    [withCode('MESSO_REFUSED_TARGET'), 'refused_target'],
    [withCode('UND_ERR_ABORTED'), 'aborted'],
    [withCode('SOMETHING_NEW', 'ECONNREFUSED timeout certificate'), 'other'],
    [new Error('connect ECONNREFUSED 127.0.0.1:1'), 'other'],
    [new TypeError('fetch failed', { cause: withCode('ECONNRESET') }), 'connection_reset'],
    [new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), 'connection_refused'],
    ['a string', 'other'],
    [null, 'other'],
  ];
  for (const [err, expected] of cases) assert.equal(classifySendError(err), expected, String((err as Error)?.message ?? err));
});
