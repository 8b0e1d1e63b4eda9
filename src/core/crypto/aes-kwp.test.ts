import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { kwpUnwrap, kwpWrap, kwpWrappedLength } from './aes-kwp.ts';

// RFC 5649 §6: both examples use a 192-bit KEK, which exercises the same code path as AES-256.
const KEK = Buffer.from('5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', 'hex');
const VECTORS = [
  { key: 'c37b7e6492584340bed12207808941155068f738', wrapped: '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a' },
  { key: '466f7250617369', wrapped: 'afbeb0f07dfbf5419200f2ccb50bb24f' },
];

describe('AES-KWP (RFC 5649)', () => {
  for (const [index, vector] of VECTORS.entries()) {
    it(`matches RFC 5649 §6 example ${index + 1} both ways`, () => {
      assert.equal(kwpWrap(KEK, Buffer.from(vector.key, 'hex')).toString('hex'), vector.wrapped);
      assert.equal(kwpUnwrap(KEK, Buffer.from(vector.wrapped, 'hex'))?.toString('hex'), vector.key);
      assert.equal(kwpUnwrap(createSecretKey(KEK), Buffer.from(vector.wrapped, 'hex'))?.toString('hex'), vector.key, 'KeyObject KEK');
    });
  }

  it('round-trips with 128, 192 and 256-bit keys and predicts the wrapped length', () => {
    for (const keyBytes of [16, 24, 32]) {
      const kek = randomBytes(keyBytes);
      for (const length of [1, 8, 9, 15, 16, 17, 100]) {
        const plain = randomBytes(length);
        const wrapped = kwpWrap(createSecretKey(kek), plain);
        assert.equal(wrapped.length, kwpWrappedLength(length));
        assert.deepEqual(kwpUnwrap(kek, wrapped), plain);
      }
    }
    assert.equal(kwpWrappedLength(1), 16);
    assert.equal(kwpWrappedLength(8), 16);
    assert.equal(kwpWrappedLength(9), 24);
  });

  it('answers undefined for altered, mis-sized or foreign input', () => {
    const wrapped = Buffer.from(VECTORS[0]?.wrapped ?? '', 'hex');
    for (let index = 0; index < wrapped.length; index++) {
      const bad = Buffer.from(wrapped);
      bad[index] = (bad[index] ?? 0) ^ 0x80;
      assert.equal(kwpUnwrap(KEK, bad), undefined, `byte ${index}`);
    }
    for (const bad of [Buffer.alloc(0), Buffer.alloc(8), wrapped.subarray(0, 31), Buffer.concat([wrapped, Buffer.alloc(8)])]) assert.equal(kwpUnwrap(KEK, bad), undefined);
    assert.equal(kwpUnwrap(randomBytes(24), wrapped), undefined, 'other key');
  });

  it('refuses key sizes other than AES and an empty plaintext', () => {
    assert.throws(() => kwpWrap(Buffer.alloc(20), Buffer.alloc(8)), RangeError);
    assert.throws(() => kwpUnwrap(Buffer.alloc(31), Buffer.alloc(16)), RangeError);
    assert.throws(() => kwpWrap(KEK, Buffer.alloc(0)), RangeError);
  });
});
