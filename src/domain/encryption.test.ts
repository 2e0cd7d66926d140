import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  EncryptionError, fingerprintKid, generateKeyEntry, isSealed, kidOf, open, OPENED_KEPT, openOrPlain, parseKeyring, seal, sealedWithCurrent,
} from './encryption.js';

const b64 = () => randomBytes(32).toString('base64');

describe('encryption', () => {
  it('seals to enc:v1:<kid>:<iv>:<ct+tag> and opens back, a fresh iv every time', () => {
    const ring = parseKeyring(`main:${b64()}`);
    const a = seal(ring, 'whsec_c2VjcmV0');
    const b = seal(ring, 'whsec_c2VjcmV0');
    assert.match(a, /^enc:v1:main:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    assert.notEqual(a, b, 'a random iv per value');
    assert.ok(!a.includes('c2VjcmV0'));
    assert.equal(open(ring, a), 'whsec_c2VjcmV0');
    assert.equal(kidOf(a), 'main');
    assert.equal(isSealed('whsec_x'), false);
    assert.equal(openOrPlain(ring, 'whsec_plain'), 'whsec_plain');
    assert.equal(open(ring, seal(ring, '')), '');
    assert.equal(open(ring, seal(ring, '{"x":"è ✓"}')), '{"x":"è ✓"}');
  });

  it('rotates: the first key seals, every key opens', () => {
    const oldRing = parseKeyring(`old:${b64()}`);
    const sealedOld = seal(oldRing, 'secret');
    const both = parseKeyring(`new:${b64()},old:${oldRing.keys[0].key.toString('base64')}`);
    assert.equal(open(both, sealedOld), 'secret');
    assert.equal(sealedWithCurrent(both, sealedOld), false);
    const sealedNew = seal(both, 'secret');
    assert.equal(kidOf(sealedNew), 'new');
    assert.equal(sealedWithCurrent(both, sealedNew), true);
    assert.throws(() => open(oldRing, sealedNew), (e: unknown) => e instanceof EncryptionError && /key id new.*not among/.test(e.message));
  });

  it('refuses a wrong key under the same kid, and a damaged value', () => {
    const ring = parseKeyring(`k1:${b64()}`);
    const other = parseKeyring(`k1:${b64()}`);
    const v = seal(ring, 'secret');
    assert.throws(() => open(other, v), (e: unknown) => e instanceof EncryptionError && /does not open/.test(e.message));
    const flipped = v.slice(0, -2) + (v.endsWith('AA') ? 'BA' : 'AA');
    assert.throws(() => open(ring, flipped), EncryptionError);
    assert.throws(() => open(ring, 'enc:v1:k1:short'), EncryptionError);
    assert.throws(() => open(ring, 'enc:v1:k1:AAAA:AAAA'), EncryptionError);
  });

  it('keeps what a keyring opened for that keyring only, a bounded number of values', () => {
    const ring = parseKeyring(`k1:${b64()}`);
    const other = parseKeyring(`k1:${b64()}`);
    const v = seal(ring, 'secret');
    assert.equal(open(ring, v), 'secret');
    assert.equal(open(ring, v), 'secret', 'again, from what it kept');
    // Another keyring under the same kid never gets the value the first one opened.
    assert.throws(() => open(other, v), (e: unknown) => e instanceof EncryptionError && /does not open/.test(e.message));
    // Past the bound the oldest go, and are opened again when asked.
    const many = Array.from({ length: OPENED_KEPT + 10 }, (_, i) => seal(ring, `s${i}`));
    for (const [i, s] of many.entries()) assert.equal(open(ring, s), `s${i}`);
    assert.equal(open(ring, many[0]), 's0');
    assert.equal(open(ring, v), 'secret');
  });

  it('parses keyrings and names the entry at fault, never the key', () => {
    const key = b64();
    const bare = parseKeyring(key);
    assert.equal(bare.keys[0].kid, fingerprintKid(Buffer.from(key, 'base64')));
    assert.equal(parseKeyring(`a:${key}, b:${Buffer.from(key, 'base64').toString('base64url')}`).keys.length, 2);
    const bad: [string, RegExp][] = [
      ['', /no key/], ['a:', /key 1.*base64/], [`a:${randomBytes(16).toString('base64')}`, /key 1.*32 bytes/],
      [`a:${key},a:${b64()}`, /key 2.*twice/], [`bad kid!:${key}`, /key 1.*key id/], [`a:${key},b:not*base64`, /key 2.*base64/],
    ];
    for (const [text, re] of bad) {
      assert.throws(() => parseKeyring(text), (e: unknown) => e instanceof EncryptionError && re.test(e.message) && !e.message.includes(key), text);
    }
    const entry = generateKeyEntry();
    const ring = parseKeyring(entry);
    assert.equal(`${ring.keys[0].kid}:${ring.keys[0].key.toString('base64')}`, entry);
  });
});
