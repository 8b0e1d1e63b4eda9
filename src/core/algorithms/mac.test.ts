import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeySpec } from '../key-record.ts';
import { generateKeyMaterial } from './key-material.ts';
import { computeMac, verifyMac } from './mac.ts';
import type { MacAlgorithm } from './names.ts';
import { prepareKey } from './prepared-key.ts';

// RFC 4231 §4.2–4.3 (test cases 1 and 2). Their keys are shorter than import allows; stored keys
// of any length up to the block size are accepted by prepareKey, which is what lets these run.
const RFC4231 = [
  {
    key: Buffer.alloc(20, 0x0b), data: Buffer.from('Hi There'),
    HMAC_SHA_256: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    HMAC_SHA_384: 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
    HMAC_SHA_512: '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
  },
  {
    key: Buffer.from('Jefe'), data: Buffer.from('what do ya want for nothing?'),
    HMAC_SHA_256: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    HMAC_SHA_384: 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
    HMAC_SHA_512: '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
  },
] as const;
const SPECS: readonly [KeySpec, MacAlgorithm][] = [['HMAC_256', 'HMAC_SHA_256'], ['HMAC_384', 'HMAC_SHA_384'], ['HMAC_512', 'HMAC_SHA_512']];

describe('HMAC', () => {
  for (const [index, vector] of RFC4231.entries()) {
    it(`matches RFC 4231 test case ${index + 1} for SHA-256, SHA-384 and SHA-512`, () => {
      for (const [spec, algorithm] of SPECS) {
        const key = prepareKey(spec, vector.key);
        assert.equal(computeMac(key, algorithm, vector.data).toString('hex'), vector[algorithm], algorithm);
        assert.ok(verifyMac(key, algorithm, vector.data, Buffer.from(vector[algorithm], 'hex')), algorithm);
      }
    });
  }

  it('verifies only the exact full-length MAC', () => {
    for (const [spec, algorithm] of SPECS) {
      const key = prepareKey(spec, generateKeyMaterial(spec).material);
      const message = Buffer.from('message');
      const mac = computeMac(key, algorithm, message);
      assert.ok(verifyMac(key, algorithm, message, mac));
      assert.equal(verifyMac(key, algorithm, Buffer.from('messagf'), mac), false);
      for (const index of [0, mac.length - 1]) {
        const bad = Buffer.from(mac);
        bad[index] = (bad[index] ?? 0) ^ 1;
        assert.equal(verifyMac(key, algorithm, message, bad), false);
      }
      for (const bad of [Buffer.alloc(0), mac.subarray(0, 16), mac.subarray(0, mac.length - 1), Buffer.concat([mac, Buffer.alloc(1)])]) {
        assert.equal(verifyMac(key, algorithm, message, bad), false, `${algorithm} length ${bad.length}`);
      }
      assert.equal(verifyMac(prepareKey(spec, generateKeyMaterial(spec).material), algorithm, message, mac), false, 'other key');
    }
  });

  it('refuses a MAC algorithm of another hash, or a non-HMAC key, with INCOMPATIBLE_ALGORITHM', () => {
    const key256 = prepareKey('HMAC_256', generateKeyMaterial('HMAC_256').material);
    for (const algorithm of ['HMAC_SHA_384', 'HMAC_SHA_512'] as const) {
      assert.throws(() => computeMac(key256, algorithm, Buffer.from('m')), { code: 'INCOMPATIBLE_ALGORITHM' });
      assert.throws(() => verifyMac(key256, algorithm, Buffer.from('m'), Buffer.alloc(48)), { code: 'INCOMPATIBLE_ALGORITHM' });
    }
    for (const spec of ['AES_256', 'EC_P256'] as const) {
      assert.throws(() => computeMac(prepareKey(spec, generateKeyMaterial(spec).material), 'HMAC_SHA_256', Buffer.from('m')), { code: 'INCOMPATIBLE_ALGORITHM' });
    }
  });

  it('limits messages to 16 MiB with INPUT_TOO_LARGE', () => {
    const key = prepareKey('HMAC_256', generateKeyMaterial('HMAC_256').material);
    assert.equal(computeMac(key, 'HMAC_SHA_256', Buffer.alloc(16 * 1024 * 1024)).length, 32);
    assert.throws(() => computeMac(key, 'HMAC_SHA_256', Buffer.alloc(16 * 1024 * 1024 + 1)), { code: 'INPUT_TOO_LARGE' });
    assert.throws(() => verifyMac(key, 'HMAC_SHA_256', Buffer.alloc(16 * 1024 * 1024 + 1), Buffer.alloc(32)), { code: 'INPUT_TOO_LARGE' });
  });
});
