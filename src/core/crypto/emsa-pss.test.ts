import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { emsaPssEncode, emsaPssVerify, mgf1 } from './emsa-pss.ts';
import type { HashName } from './hash-names.ts';

const mHash = createHash('sha256').update('message').digest();

describe('MGF1 (RFC 8017 §B.2.1)', () => {
  it('concatenates Hash(seed ‖ counter) blocks and truncates', () => {
    const seed = Buffer.from('seed');
    const block = (i: number): Buffer => createHash('sha256').update(seed).update(Buffer.from([0, 0, 0, i])).digest();
    assert.deepEqual(mgf1('sha256', seed, 70), Buffer.concat([block(0), block(1), block(2)]).subarray(0, 70));
    assert.deepEqual(mgf1('sha256', seed, 32), block(0));
    assert.equal(mgf1('sha512', seed, 1).length, 1);
  });
});

describe('EMSA-PSS (RFC 8017 §9.1)', () => {
  it('round-trips for whole and partial-byte emBits with every hash', () => {
    for (const hash of ['sha256', 'sha384', 'sha512'] as HashName[]) {
      const digest = createHash(hash).update('m').digest();
      for (const emBits of [1100, 1104, 2046, 2047, 2048, 4095]) {
        const em = emsaPssEncode(hash, digest, emBits);
        assert.equal(em.length, Math.ceil(emBits / 8));
        assert.equal(em[em.length - 1], 0xbc);
        assert.equal((em[0] ?? 0) >> (emBits % 8 === 0 ? 8 : emBits % 8), 0, 'bits above emBits are clear');
        assert.ok(emsaPssVerify(hash, digest, em, emBits, digest.length), `${hash} ${emBits}`);
      }
    }
  });

  it('is deterministic for a given salt and randomised otherwise', () => {
    const salt = Buffer.alloc(32, 7);
    assert.deepEqual(emsaPssEncode('sha256', mHash, 2047, salt), emsaPssEncode('sha256', mHash, 2047, salt));
    assert.notDeepEqual(emsaPssEncode('sha256', mHash, 2047), emsaPssEncode('sha256', mHash, 2047));
  });

  it('refuses any altered byte, another digest, another salt length, set top bits and a wrong trailer', () => {
    const em = emsaPssEncode('sha256', mHash, 2047);
    for (let index = 0; index < em.length; index += 7) {
      const bad = Buffer.from(em);
      bad[index] = (bad[index] ?? 0) ^ 0x01;
      assert.equal(emsaPssVerify('sha256', mHash, bad, 2047, 32), false, `byte ${index}`);
    }
    assert.equal(emsaPssVerify('sha256', randomBytes(32), em, 2047, 32), false);
    assert.equal(emsaPssVerify('sha256', mHash, em, 2047, 20), false);
    assert.equal(emsaPssVerify('sha256', mHash, em, 2047, 0), false);
    const top = Buffer.from(em);
    top[0] = (top[0] ?? 0) | 0x80;
    assert.equal(emsaPssVerify('sha256', mHash, top, 2047, 32), false);
    assert.equal(emsaPssVerify('sha256', mHash, Buffer.concat([em.subarray(0, -1), Buffer.from([0xbd])]), 2047, 32), false);
    assert.equal(emsaPssVerify('sha256', mHash, em.subarray(1), 2047, 32), false);
    assert.equal(emsaPssVerify('sha256', mHash.subarray(1), em, 2047, 32), false);
  });

  it('refuses to encode when the modulus is too short or the digest is the wrong size', () => {
    assert.throws(() => emsaPssEncode('sha512', createHash('sha512').digest(), 8 * (64 + 64 + 1)), RangeError);
    assert.throws(() => emsaPssEncode('sha256', Buffer.alloc(31), 2047), RangeError);
    assert.equal(emsaPssVerify('sha512', createHash('sha512').digest(), Buffer.alloc(100), 799, 64), false);
  });
});
