import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, privateEncrypt, sign, verify } from 'node:crypto';
import { emsaPssEncode } from './emsa-pss.ts';
import { HASH_BYTES, type HashName } from './hash-names.ts';
import { pkcs1v15SignDigest, pkcs1v15VerifyDigest, pssSignDigest, pssVerifyDigest } from './rsa-digest-signature.ts';

// A 1537-bit modulus makes emLen one byte shorter than k, and 2047 bits leaves the top bit of EM
// unused (RFC 8017 §8.1.1 step 1, §9.1.1): cases whole-byte sizes never reach. (OpenSSL cannot
// make 2049-bit keys; it rounds them down to 2048.)
const PAIRS = [1537, 2047, 2048].map((bits) => {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  assert.equal(pair.publicKey.asymmetricKeyDetails?.modulusLength, bits);
  return { bits, ...pair };
});
const HASHES: readonly HashName[] = ['sha256', 'sha384', 'sha512'];
const message = Buffer.from('digest me');

describe('RSA signatures over digests', () => {
  it('PKCS#1 v1.5 gives the same bytes as node:crypto over the message, and verifies them', () => {
    for (const { bits, privateKey, publicKey } of PAIRS) {
      for (const hash of HASHES) {
        const digest = createHash(hash).update(message).digest();
        const expected = sign(hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
        assert.deepEqual(pkcs1v15SignDigest(privateKey, hash, digest), expected, `${bits} ${hash}`);
        assert.ok(pkcs1v15VerifyDigest(publicKey, hash, digest, expected, Math.ceil(bits / 8)));
        assert.equal(pkcs1v15VerifyDigest(publicKey, hash, createHash(hash).update('x').digest(), expected, Math.ceil(bits / 8)), false);
      }
    }
  });

  it('PSS signatures verify in node:crypto with salt = hash length, and node:crypto PSS signatures verify here', () => {
    for (const { bits, privateKey, publicKey } of PAIRS) {
      for (const hash of HASHES) {
        const digest = createHash(hash).update(message).digest();
        const options = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] };
        const ours = pssSignDigest(privateKey, hash, digest, bits);
        assert.equal(ours.length, Math.ceil(bits / 8));
        assert.ok(verify(hash, message, options, ours), `${bits} ${hash}`);
        const theirs = sign(hash, message, { ...options, key: privateKey });
        assert.ok(pssVerifyDigest(publicKey, hash, digest, theirs, bits), `${bits} ${hash}`);
        assert.equal(pssVerifyDigest(publicKey, hash, createHash(hash).update('x').digest(), theirs, bits), false);
      }
    }
  });

  it('answers false for signatures of the wrong length, not below n, or altered', () => {
    const { bits, privateKey, publicKey } = PAIRS[2] ?? assert.fail();
    const digest = createHash('sha256').update(message).digest();
    for (const [signer, verifier] of [[pssSignDigest, pssVerifyDigest], [(k: typeof privateKey, h: HashName, d: Buffer) => pkcs1v15SignDigest(k, h, d), (k: typeof publicKey, h: HashName, d: Buffer, s: Buffer) => pkcs1v15VerifyDigest(k, h, d, s, bits / 8)]] as const) {
      const good = signer(privateKey, 'sha256', digest, bits);
      assert.ok(verifier(publicKey, 'sha256', digest, good, bits));
      const altered = Buffer.from(good);
      altered[100] = (altered[100] ?? 0) ^ 1;
      for (const bad of [Buffer.alloc(0), good.subarray(1), Buffer.concat([Buffer.alloc(1), good]), Buffer.alloc(256, 0xff), Buffer.alloc(256), altered]) {
        assert.equal(verifier(publicKey, 'sha256', digest, bad, bits), false);
      }
      assert.equal(verifier(publicKey, 'sha256', digest.subarray(1), good, bits), false);
    }
  });

  it('refuses a PSS representative with a non-zero byte above emLen (RFC 8017 §8.1.2 step 2c)', () => {
    const { bits, privateKey, publicKey } = PAIRS[0] ?? assert.fail();
    assert.equal(bits % 8, 1, 'emLen = k − 1 only when modBits ≡ 1 (mod 8)');
    const digest = createHash('sha256').update(message).digest();
    let forged: Buffer | undefined;
    // 0x01 ‖ EM is a valid encoding behind a non-zero prefix; retry salts until it is below n.
    for (let attempt = 0; attempt < 64 && forged === undefined; attempt++) {
      try {
        forged = privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.from([1]), emsaPssEncode('sha256', digest, bits - 1)]));
      } catch { /* representative not below n */ }
    }
    assert.ok(forged !== undefined);
    assert.equal(pssVerifyDigest(publicKey, 'sha256', digest, forged, bits), false);
    assert.ok(pssVerifyDigest(publicKey, 'sha256', digest, pssSignDigest(privateKey, 'sha256', digest, bits), bits));
  });

  it('refuses digests of the wrong length when signing', () => {
    const { bits, privateKey } = PAIRS[2] ?? assert.fail();
    assert.throws(() => pssSignDigest(privateKey, 'sha256', Buffer.alloc(48), bits), RangeError);
    assert.throws(() => pkcs1v15SignDigest(privateKey, 'sha512', Buffer.alloc(32)), RangeError);
  });
});
