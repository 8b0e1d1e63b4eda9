import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { KeySpec } from '../key-record.ts';
import { generateKeyMaterial } from './key-material.ts';
import { computeMac } from './mac.ts';
import { prepareKey, preparePublicKey, publicKeySpki, type PreparedKey } from './prepared-key.ts';
import { sign, verify } from './signing.ts';

const ASYMMETRIC: readonly KeySpec[] = ['RSA_2048', 'EC_P256', 'EC_P384', 'EC_P521', 'EC_SECP256K1', 'ED25519', 'ML_DSA_44'];
const message = { type: 'MESSAGE', message: Buffer.from('prepared') } as const;

describe('prepareKey', () => {
  it('exposes only the spec', () => {
    const key = prepareKey('AES_256', generateKeyMaterial('AES_256').material);
    assert.deepEqual(Object.keys(key), ['spec']);
    assert.equal(key.spec, 'AES_256');
    assert.ok(Object.isFrozen(key));
  });

  it('refuses symmetric material of the wrong length', () => {
    for (const length of [0, 16, 31, 33]) assert.throws(() => prepareKey('AES_256', Buffer.alloc(length)), { code: 'INVALID_KEY_MATERIAL' });
    for (const length of [0, 129]) assert.throws(() => prepareKey('HMAC_256', Buffer.alloc(length)), { code: 'INVALID_KEY_MATERIAL' });
  });

  it('accepts any stored HMAC key from 1 byte to the block size (import enforces the minimum)', () => {
    for (const length of [1, 20, 64]) assert.equal(computeMac(prepareKey('HMAC_256', Buffer.alloc(length, 1)), 'HMAC_SHA_256', Buffer.alloc(0)).length, 32);
  });

  it('refuses asymmetric material that does not parse or does not match the spec', () => {
    const p384 = generateKeyMaterial('EC_P384').material;
    for (const spec of ASYMMETRIC) {
      assert.throws(() => prepareKey(spec, Buffer.from('junk')), { code: 'INVALID_KEY_MATERIAL' }, spec);
      if (spec !== 'EC_P384') assert.throws(() => prepareKey(spec, p384), { code: 'INVALID_KEY_MATERIAL' }, spec);
    }
  });
});

describe('publicKeySpki and preparePublicKey', () => {
  it('gives the SPKI of every asymmetric key, and a public-only key verifies its signatures', () => {
    for (const spec of ASYMMETRIC) {
      const { material, publicKey } = generateKeyMaterial(spec);
      const key = prepareKey(spec, material);
      assert.deepEqual(publicKeySpki(key), publicKey, spec);
      const verifier = preparePublicKey(spec, publicKeySpki(key));
      assert.deepEqual(publicKeySpki(verifier), publicKey, spec);
      const algorithm = spec === 'RSA_2048' ? 'RSASSA_PSS_SHA_256' : spec === 'ED25519' ? 'ED25519' : spec === 'ML_DSA_44' ? 'ML_DSA' : spec === 'EC_P384' ? 'ECDSA_SHA_384' : spec === 'EC_P521' ? 'ECDSA_SHA_512' : 'ECDSA_SHA_256';
      assert.ok(verify(verifier, algorithm, message, sign(key, algorithm, message)), spec);
      // A public-only key cannot sign.
      assert.throws(() => sign(verifier, algorithm, message), { code: 'INVALID_ARGUMENT' }, spec);
    }
  });

  it('refuses symmetric specs and mismatched or malformed public keys', () => {
    assert.throws(() => publicKeySpki(prepareKey('AES_256', Buffer.alloc(32))), { code: 'INCOMPATIBLE_ALGORITHM' });
    assert.throws(() => publicKeySpki(prepareKey('HMAC_384', Buffer.alloc(48))), { code: 'INCOMPATIBLE_ALGORITHM' });
    const p256 = generateKeyMaterial('EC_P256').publicKey ?? Buffer.alloc(0);
    assert.throws(() => preparePublicKey('AES_256', p256), { code: 'INCOMPATIBLE_ALGORITHM' });
    assert.throws(() => preparePublicKey('EC_P384', p256), { code: 'INVALID_KEY_MATERIAL' });
    assert.throws(() => preparePublicKey('RSA_2048', p256), { code: 'INVALID_KEY_MATERIAL' });
    assert.throws(() => preparePublicKey('ED25519', Buffer.from('junk')), { code: 'INVALID_KEY_MATERIAL' });
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'der' });
    assert.throws(() => preparePublicKey('ED25519', x25519), { code: 'INVALID_KEY_MATERIAL' });
  });

  it('refuses a look-alike object that was not prepared here', () => {
    const forged: PreparedKey = { spec: 'ED25519' };
    assert.throws(() => sign(forged, 'ED25519', message), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => publicKeySpki(forged), { code: 'INVALID_ARGUMENT' });
  });
});
