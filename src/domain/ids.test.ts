import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isUuid, prefixedId, sha256 } from './ids.js';

describe('ids', () => {
  it('hashes tokens as the stored key hashes were written (hex SHA-256)', () => {
    assert.equal(sha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const token of ['', 'mk_live_0123456789abcdef', 'è ✓ 🙂', 'x'.repeat(10_000)]) {
      assert.equal(sha256(token), createHash('sha256').update(token).digest('hex'), token.slice(0, 20));
    }
  });

  it('makes prefixed ids of 96 random bits, none twice across refills of the pool', () => {
    const ids = Array.from({ length: 2000 }, () => prefixedId('dlv'));
    for (const id of ids) assert.match(id, /^dlv_[A-Za-z0-9_-]{16}$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.match(prefixedId('itk', 24), /^itk_[A-Za-z0-9_-]{32}$/);
    assert.ok(isUuid('123e4567-e89b-12d3-a456-426614174000') && !isUuid('dlv_x'));
  });
});
