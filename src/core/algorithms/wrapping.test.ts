import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPrivateKey, createPublicKey, publicEncrypt } from 'node:crypto';
import { kwpWrap } from '../crypto/aes-kwp.ts';
import { rsaAesKeyWrap } from '../crypto/rsa-aes-key-wrap.ts';
import { generateKeyMaterial } from './key-material.ts';
import type { WrappingAlgorithm } from './names.ts';
import { opensslOrThrow, ScratchDir } from './openssl-test-kit.ts';
import { prepareKey, preparePublicKey } from './prepared-key.ts';
import { unwrap, wrap } from './wrapping.ts';

const scratch = new ScratchDir();
after(() => { scratch.remove(); });

const aesMaterial = generateKeyMaterial('AES_256').material;
const aes = prepareKey('AES_256', aesMaterial);
const rsaMaterial = generateKeyMaterial('RSA_2048');
const rsa = prepareKey('RSA_2048', rsaMaterial.material);
const rsaPublic = preparePublicKey('RSA_2048', rsaMaterial.publicKey ?? assert.fail());
const targets = {
  aes: generateKeyMaterial('AES_256').material,
  hmac: generateKeyMaterial('HMAC_512').material,
  ec: generateKeyMaterial('EC_P384').material,
  mlDsa87: generateKeyMaterial('ML_DSA_87').material,
};
const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

function flip(data: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(data);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe('AES_KWP', () => {
  it('round-trips material of every length class and pads to whole 64-bit blocks plus 8 (RFC 5649 §4.1)', () => {
    for (const length of [1, 7, 8, 9, 16, 32, 33, 64, 1000]) {
      const material = Buffer.alloc(length, length);
      const wrapped = wrap(aes, 'AES_KWP', material);
      assert.equal(wrapped.length, 8 * Math.ceil(length / 8) + 8, `length ${length}`);
      assert.deepEqual(unwrap(aes, 'AES_KWP', wrapped), material);
    }
    for (const material of Object.values(targets)) assert.deepEqual(unwrap(aes, 'AES_KWP', wrap(aes, 'AES_KWP', material)), material);
  });

  // openssl enc feeds the cipher 4 KiB at a time and so wraps longer inputs as several pieces:
  // the interop checks use targets below that size.
  it('interoperates with openssl enc -id-aes256-wrap-pad both ways', () => {
    const kek = ['-K', hex(aesMaterial), '-iv', 'A65959A6'];
    const ours = wrap(aes, 'AES_KWP', targets.ec);
    assert.deepEqual(opensslOrThrow(['enc', '-d', '-id-aes256-wrap-pad', ...kek, '-in', scratch.write(ours, 'wrapped')]), targets.ec);
    const theirs = opensslOrThrow(['enc', '-id-aes256-wrap-pad', ...kek, '-in', scratch.write(targets.hmac, 'plain')]);
    assert.deepEqual(theirs, wrap(aes, 'AES_KWP', targets.hmac), 'KWP is deterministic: identical bytes');
    assert.deepEqual(unwrap(aes, 'AES_KWP', theirs), targets.hmac);
  });

  it('fails with CRYPTO_DECRYPT_FAILED for any altered byte, bad length or wrong key', () => {
    const wrapped = wrap(aes, 'AES_KWP', targets.aes);
    for (let index = 0; index < wrapped.length; index++) assert.throws(() => unwrap(aes, 'AES_KWP', flip(wrapped, index)), { code: 'CRYPTO_DECRYPT_FAILED' }, `byte ${index}`);
    for (const bad of [Buffer.alloc(0), Buffer.alloc(8), wrapped.subarray(0, 16), wrapped.subarray(1), Buffer.concat([wrapped, Buffer.alloc(8)]), Buffer.alloc(16 * 1024 + 24)]) {
      assert.throws(() => unwrap(aes, 'AES_KWP', bad), { code: 'CRYPTO_DECRYPT_FAILED' }, `length ${bad.length}`);
    }
    assert.throws(() => unwrap(prepareKey('AES_256', generateKeyMaterial('AES_256').material), 'AES_KWP', wrapped), { code: 'CRYPTO_DECRYPT_FAILED' });
  });
});

describe('RSA_AES_KEY_WRAP_SHA_256', () => {
  it('wraps any material, including the largest private keys, with the public key alone', () => {
    for (const material of Object.values(targets)) {
      const wrapped = wrap(rsaPublic, 'RSA_AES_KEY_WRAP_SHA_256', material);
      assert.equal(wrapped.length, 256 + 8 * Math.ceil(material.length / 8) + 8);
      assert.deepEqual(unwrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', wrapped), material);
    }
  });

  it('is what openssl reads as CKM_RSA_AES_KEY_WRAP: OAEP-SHA-256 ephemeral key ‖ AES-256 KWP', () => {
    const keyFile = scratch.write(rsaMaterial.material, 'key.der');
    const oaep = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'];
    const wrapped = wrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', targets.ec);
    const ephemeral = opensslOrThrow(['pkeyutl', '-decrypt', '-keyform', 'DER', '-inkey', keyFile, '-in', scratch.write(wrapped.subarray(0, 256), 'rsa'), ...oaep]);
    assert.equal(ephemeral.length, 32);
    const material = opensslOrThrow(['enc', '-d', '-id-aes256-wrap-pad', '-K', hex(ephemeral), '-iv', 'A65959A6', '-in', scratch.write(wrapped.subarray(256), 'kwp')]);
    assert.deepEqual(material, targets.ec);
    assert.equal(createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).asymmetricKeyDetails?.namedCurve, 'secp384r1');
  });

  it('unwraps what openssl builds the same way', () => {
    const publicFile = scratch.write(rsaMaterial.publicKey ?? assert.fail(), 'pub.der');
    const ephemeral = generateKeyMaterial('AES_256').material;
    const rsaPart = opensslOrThrow(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', publicFile, '-in', scratch.write(ephemeral, 'eph'),
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
    const kwpPart = opensslOrThrow(['enc', '-id-aes256-wrap-pad', '-K', hex(ephemeral), '-iv', 'A65959A6', '-in', scratch.write(targets.ec, 'target')]);
    assert.deepEqual(unwrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', Buffer.concat([rsaPart, kwpPart])), targets.ec);
  });

  it('fails with CRYPTO_DECRYPT_FAILED when either part is altered or cut', () => {
    const wrapped = wrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', targets.aes);
    for (const index of [0, 128, 255, 256, 270, wrapped.length - 1]) {
      assert.throws(() => unwrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', flip(wrapped, index)), { code: 'CRYPTO_DECRYPT_FAILED' }, `byte ${index}`);
    }
    for (const bad of [Buffer.alloc(0), wrapped.subarray(0, 256), wrapped.subarray(0, 271), wrapped.subarray(1), Buffer.alloc(300)]) {
      assert.throws(() => unwrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', bad), { code: 'CRYPTO_DECRYPT_FAILED' }, `length ${bad.length}`);
    }
  });
});

describe('RSAES_OAEP_SHA_256 wrapping', () => {
  it('wraps small material directly and refuses what does not fit with INPUT_TOO_LARGE', () => {
    for (const material of [targets.aes, targets.hmac, Buffer.alloc(190, 1)]) {
      const wrapped = wrap(rsaPublic, 'RSAES_OAEP_SHA_256', material);
      assert.equal(wrapped.length, 256);
      assert.deepEqual(unwrap(rsa, 'RSAES_OAEP_SHA_256', wrapped), material);
    }
    // k − 2·32 − 2 = 190 bytes for RSA-2048 (RFC 8017 §7.1.1).
    assert.throws(() => wrap(rsa, 'RSAES_OAEP_SHA_256', Buffer.alloc(191)), { code: 'INPUT_TOO_LARGE' });
    assert.throws(() => wrap(rsa, 'RSAES_OAEP_SHA_256', targets.mlDsa87), { code: 'INPUT_TOO_LARGE' });
  });

  it('fails with CRYPTO_DECRYPT_FAILED for altered or mis-sized input, and for empty material anyone could encrypt', () => {
    const empty = publicEncrypt({ key: createPublicKey(createPrivateKey({ key: rsaMaterial.material, format: 'der', type: 'pkcs8' })), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.alloc(0));
    assert.throws(() => unwrap(rsa, 'RSAES_OAEP_SHA_256', empty), { code: 'CRYPTO_DECRYPT_FAILED' });
    const wrapped = wrap(rsa, 'RSAES_OAEP_SHA_256', targets.aes);
    for (const bad of [flip(wrapped, 0), flip(wrapped, 200), wrapped.subarray(1), Buffer.concat([wrapped, Buffer.alloc(1)]), Buffer.alloc(0)]) {
      assert.throws(() => unwrap(rsa, 'RSAES_OAEP_SHA_256', bad), { code: 'CRYPTO_DECRYPT_FAILED' });
    }
  });
});

describe('wrapping errors', () => {
  it('refuses algorithms that do not fit the key with INCOMPATIBLE_ALGORITHM', () => {
    const cases: readonly [ReturnType<typeof prepareKey>, WrappingAlgorithm][] = [
      [aes, 'RSA_AES_KEY_WRAP_SHA_256'], [aes, 'RSAES_OAEP_SHA_256'], [rsa, 'AES_KWP'],
      [prepareKey('HMAC_256', generateKeyMaterial('HMAC_256').material), 'AES_KWP'],
      [prepareKey('ED25519', generateKeyMaterial('ED25519').material), 'RSAES_OAEP_SHA_256'],
    ];
    for (const [key, algorithm] of cases) {
      assert.throws(() => wrap(key, algorithm, targets.aes), { code: 'INCOMPATIBLE_ALGORITHM' }, `${key.spec} ${algorithm}`);
      assert.throws(() => unwrap(key, algorithm, Buffer.alloc(300)), { code: 'INCOMPATIBLE_ALGORITHM' }, `${key.spec} ${algorithm}`);
    }
  });

  it('refuses empty material with INVALID_ARGUMENT and material over 16 KiB with INPUT_TOO_LARGE', () => {
    for (const algorithm of ['RSA_AES_KEY_WRAP_SHA_256', 'RSAES_OAEP_SHA_256'] as const) assert.throws(() => wrap(rsa, algorithm, Buffer.alloc(0)), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => wrap(aes, 'AES_KWP', Buffer.alloc(0)), { code: 'INVALID_ARGUMENT' });
    assert.equal(unwrap(aes, 'AES_KWP', wrap(aes, 'AES_KWP', Buffer.alloc(16 * 1024, 1))).length, 16 * 1024);
    assert.throws(() => wrap(aes, 'AES_KWP', Buffer.alloc(16 * 1024 + 1)), { code: 'INPUT_TOO_LARGE' });
    assert.throws(() => wrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', Buffer.alloc(16 * 1024 + 1)), { code: 'INPUT_TOO_LARGE' });
  });

  it('refuses to unwrap authentic material over 16 KiB (wrapped with the primitives directly)', () => {
    const big = Buffer.alloc(16 * 1024 + 1, 2);
    assert.throws(() => unwrap(aes, 'AES_KWP', kwpWrap(aesMaterial, big)), { code: 'CRYPTO_DECRYPT_FAILED' });
    assert.throws(() => unwrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', rsaAesKeyWrap(createPublicKey(createPrivateKey({ key: rsaMaterial.material, format: 'der', type: 'pkcs8' })), 'sha256', big)), { code: 'CRYPTO_DECRYPT_FAILED' });
  });

  it('needs the private key to unwrap', () => {
    assert.throws(() => unwrap(rsaPublic, 'RSA_AES_KEY_WRAP_SHA_256', wrap(rsa, 'RSA_AES_KEY_WRAP_SHA_256', targets.aes)), { code: 'INVALID_ARGUMENT' });
  });
});
