import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isUuid, prefixedId, sha256, SORTED_ALPHABET, timeOrderedId } from './ids.js';

describe('ids', () => {
  it('hashes tokens as the stored key hashes were written (hex SHA-256)', () => {
    assert.equal(sha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const token of ['', 'mk_live_0123456789abcdef', 'è ✓ 🙂', 'x'.repeat(10_000)]) {
      assert.equal(sha256(token), createHash('sha256').update(token).digest('hex'), token.slice(0, 20));
    }
  });

  it('makes prefixed ids of 96 random bits, none twice across refills of the pool', () => {
    // Time-ordered ids draw 6 bytes of the same pool: ordinary ids stay whole across its refills.
    const ids = Array.from({ length: 2000 }, (_, i) => (timeOrderedId('msg', Date.now() + 1e6 + i), prefixedId('dlv')));
    for (const id of ids) assert.match(id, /^dlv_[A-Za-z0-9_-]{16}$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.match(prefixedId('itk', 24), /^itk_[A-Za-z0-9_-]{32}$/);
    assert.ok(isUuid('123e4567-e89b-12d3-a456-426614174000') && !isUuid('dlv_x'));
  });

  it('makes time-ordered ids that sort as they were made, none twice, also within a millisecond and with the clock going back', () => {
    assert.deepEqual([...SORTED_ALPHABET].sort(), [...SORTED_ALPHABET], 'each character sorts at its value');
    assert.equal(new Set(SORTED_ALPHABET).size, 64);
    const t0 = Date.now();
    // Many in each millisecond, a clock that stops and goes back, then years ahead.
    const times = [...Array.from({ length: 3000 }, (_, i) => t0 + Math.floor(i / 1000)), t0 - 5000, t0 - 5000, t0 + 2, t0 + 86_400_000 * 365 * 30];
    const ids = times.map((t) => timeOrderedId('msg', t));
    for (const id of ids) assert.match(id, /^msg_[A-Za-z0-9_-]{16}$/);
    assert.equal(new Set(ids).size, ids.length, 'none twice');
    // Plain string order (SQLite's BINARY collation) is the order they were made in.
    assert.deepEqual([...ids].sort(), ids);
    // The time is in the id: one made later, in a later millisecond, sorts after.
    assert.ok(timeOrderedId('msg', t0 + 86_400_000 * 365 * 31) > ids[ids.length - 1]);
    // The random part is drawn again in each new millisecond.
    const a = timeOrderedId('msg', t0 + 86_400_000 * 365 * 40);
    const b = timeOrderedId('msg', t0 + 86_400_000 * 365 * 40 + 1);
    assert.notEqual(a.slice(12), b.slice(12));
  });
});
