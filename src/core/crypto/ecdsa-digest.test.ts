import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ecdsaSignDigest, ecdsaVerifyDigest, encodeRawSignature, scalarBytes, wantsLowS, type EcCurveName } from './ecdsa-digest.ts';
import type { HashName } from './hash-names.ts';

const CURVES: readonly [EcCurveName, HashName, number][] = [['prime256v1', 'sha256', 32], ['secp384r1', 'sha384', 48], ['secp521r1', 'sha512', 66], ['secp256k1', 'sha256', 32]];
const message = Buffer.from('ecdsa');

function fixture(curve: EcCurveName) {
  const pair = generateKeyPairSync('ec', { namedCurve: curve });
  const jwk = pair.privateKey.export({ format: 'jwk' });
  const width = scalarBytes(curve);
  const pad = (value: string | undefined): Buffer => {
    const bytes = Buffer.from(value ?? assert.fail(), 'base64url');
    return Buffer.concat([Buffer.alloc(width - bytes.length), bytes]);
  };
  return { ...pair, scalar: pad(jwk.d), point: Buffer.concat([Buffer.from([4]), pad(jwk.x), pad(jwk.y)]) };
}

describe('ECDSA over digests', () => {
  it('knows each curve width and which curves want low S', () => {
    assert.deepEqual(CURVES.map(([curve]) => scalarBytes(curve)), CURVES.map(([, , width]) => width));
    assert.deepEqual(CURVES.map(([curve]) => wantsLowS(curve)), [false, false, false, true]);
  });

  it('signs digests that node:crypto verifies over the message, and verifies what node:crypto signs', () => {
    for (const [curve, hash, width] of CURVES) {
      const { privateKey, publicKey, scalar, point } = fixture(curve);
      const digest = createHash(hash).update(message).digest();
      const der = ecdsaSignDigest(curve, scalar, digest, 'der');
      const raw = ecdsaSignDigest(curve, scalar, digest, 'raw');
      assert.equal(raw.length, 2 * width);
      assert.ok(verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, der), curve);
      assert.ok(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw), curve);
      assert.ok(ecdsaVerifyDigest(curve, point, digest, sign(hash, message, { key: privateKey, dsaEncoding: 'der' }), 'der'), curve);
      assert.ok(ecdsaVerifyDigest(curve, point, digest, sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' }), 'raw'), curve);
      assert.equal(ecdsaVerifyDigest(curve, point, createHash(hash).update('x').digest(), der, 'der'), false, curve);
    }
  });

  it('answers false for malformed signatures in either encoding', () => {
    const { scalar, point } = fixture('prime256v1');
    const digest = createHash('sha256').update(message).digest();
    const raw = ecdsaSignDigest('prime256v1', scalar, digest, 'raw');
    const der = ecdsaSignDigest('prime256v1', scalar, digest, 'der');
    for (const bad of [Buffer.alloc(0), raw.subarray(1), Buffer.concat([raw, Buffer.alloc(1)]), Buffer.alloc(64), Buffer.alloc(64, 0xff), der]) {
      assert.equal(ecdsaVerifyDigest('prime256v1', point, digest, bad, 'raw'), false);
    }
    for (const bad of [Buffer.alloc(0), Buffer.from([0x30, 0x00]), der.subarray(0, der.length - 1), Buffer.concat([der, Buffer.alloc(1)]), raw]) {
      assert.equal(ecdsaVerifyDigest('prime256v1', point, digest, bad, 'der'), false);
    }
    assert.equal(ecdsaVerifyDigest('prime256v1', Buffer.alloc(65, 4), digest, der, 'der'), false, 'a point off the curve');
  });

  it('re-encodes raw signatures as DER and folds S to the low half on request', () => {
    const { privateKey, publicKey } = fixture('secp256k1');
    const n = secp256k1.Point.Fn.ORDER;
    let sawHigh = false;
    for (let i = 0; i < 24; i++) {
      const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const parsed = secp256k1.Signature.fromBytes(raw, 'compact');
      sawHigh ||= parsed.hasHighS();
      const low = encodeRawSignature('secp256k1', raw, 'raw', true);
      assert.ok(secp256k1.Signature.fromBytes(low, 'compact').s <= n / 2n);
      assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, low));
      const der = encodeRawSignature('secp256k1', raw, 'der', false);
      assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der));
      assert.equal(secp256k1.Signature.fromBytes(der, 'der').s, parsed.s, 'no folding unless asked');
      assert.deepEqual(encodeRawSignature('secp256k1', raw, 'raw', false), raw);
    }
    assert.ok(sawHigh, 'OpenSSL produced at least one high-S signature to fold');
  });
});
