import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { XaesKey } from '../crypto/xaes-256-gcm.ts';
import { decrypt, decryptAsync, encrypt, oaepPlaintextLimit } from './encryption.ts';
import { generateKeyMaterial } from './key-material.ts';
import type { EncryptionAlgorithm } from './names.ts';
import { openssl, opensslOrThrow, ScratchDir } from './openssl-test-kit.ts';
import { prepareKey, preparePublicKey } from './prepared-key.ts';

const scratch = new ScratchDir();
after(() => { scratch.remove(); });

const aesMaterial = generateKeyMaterial('AES_256').material;
const aes = prepareKey('AES_256', aesMaterial);
const rsaMaterial = generateKeyMaterial('RSA_2048');
const rsa = prepareKey('RSA_2048', rsaMaterial.material);
const rsaPublic = preparePublicKey('RSA_2048', rsaMaterial.publicKey ?? assert.fail());
const OAEP = [['RSAES_OAEP_SHA_256', 'sha256', 32], ['RSAES_OAEP_SHA_384', 'sha384', 48], ['RSAES_OAEP_SHA_512', 'sha512', 64]] as const;
const plaintext = Buffer.from('attack at dawn');

function flip(data: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(data);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe('AES_256_GCM', () => {
  it('seals as XAES-256-GCM (nonce ‖ ciphertext ‖ tag) under the key material', () => {
    const aad = Buffer.from('context');
    const sealed = encrypt(aes, 'AES_256_GCM', plaintext, aad);
    assert.equal(sealed.length, 24 + plaintext.length + 16);
    assert.deepEqual(new XaesKey(aesMaterial).open(sealed, aad), plaintext);
    assert.deepEqual(decrypt(aes, 'AES_256_GCM', sealed, aad), plaintext);
    assert.notDeepEqual(encrypt(aes, 'AES_256_GCM', plaintext, aad), sealed, 'fresh nonce each time');
    assert.deepEqual(decrypt(aes, 'AES_256_GCM', encrypt(aes, 'AES_256_GCM', Buffer.alloc(0))), Buffer.alloc(0));
  });

  it('fails with CRYPTO_DECRYPT_FAILED for any altered byte, wrong or missing AAD, wrong key or bad length', () => {
    const aad = Buffer.from('context');
    const sealed = encrypt(aes, 'AES_256_GCM', plaintext, aad);
    for (let index = 0; index < sealed.length; index++) {
      assert.throws(() => decrypt(aes, 'AES_256_GCM', flip(sealed, index), aad), { code: 'CRYPTO_DECRYPT_FAILED' }, `byte ${index}`);
    }
    assert.throws(() => decrypt(aes, 'AES_256_GCM', sealed, Buffer.from('other')), { code: 'CRYPTO_DECRYPT_FAILED' });
    assert.throws(() => decrypt(aes, 'AES_256_GCM', sealed), { code: 'CRYPTO_DECRYPT_FAILED' });
    assert.throws(() => decrypt(prepareKey('AES_256', generateKeyMaterial('AES_256').material), 'AES_256_GCM', sealed, aad), { code: 'CRYPTO_DECRYPT_FAILED' });
    for (const bad of [Buffer.alloc(0), sealed.subarray(0, 39), sealed.subarray(1), Buffer.alloc(4 * 1024 * 1024 + 41)]) {
      assert.throws(() => decrypt(aes, 'AES_256_GCM', bad, aad), { code: 'CRYPTO_DECRYPT_FAILED' });
    }
  });

  it('limits plaintexts to 4 MiB: INPUT_TOO_LARGE to encrypt, CRYPTO_DECRYPT_FAILED for a larger ciphertext', () => {
    const atLimit = Buffer.alloc(4 * 1024 * 1024, 3);
    assert.deepEqual(decrypt(aes, 'AES_256_GCM', encrypt(aes, 'AES_256_GCM', atLimit)), atLimit);
    assert.throws(() => encrypt(aes, 'AES_256_GCM', Buffer.alloc(atLimit.length + 1)), { code: 'INPUT_TOO_LARGE' });
    // Authentic but over the limit (sealed with the primitive directly): still refused.
    const oversize = new XaesKey(aesMaterial).seal(Buffer.alloc(atLimit.length + 1));
    assert.throws(() => decrypt(aes, 'AES_256_GCM', oversize), { code: 'CRYPTO_DECRYPT_FAILED' });
  });
});

describe('RSAES_OAEP', () => {
  it('round-trips with every hash, and encrypts with the public key alone', () => {
    for (const [algorithm] of OAEP) {
      const sealed = encrypt(rsa, algorithm, plaintext);
      assert.equal(sealed.length, 256);
      assert.deepEqual(decrypt(rsa, algorithm, sealed), plaintext, algorithm);
      assert.deepEqual(decrypt(rsa, algorithm, encrypt(rsaPublic, algorithm, plaintext)), plaintext, algorithm);
    }
  });

  it('interoperates with openssl pkeyutl (OAEP and MGF1 on the same hash) both ways', () => {
    const keyFile = scratch.write(rsaMaterial.material, 'key.der');
    const publicFile = scratch.write(rsaMaterial.publicKey ?? assert.fail(), 'pub.der');
    for (const [algorithm, hash] of OAEP) {
      const options = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`];
      const ours = scratch.write(encrypt(rsa, algorithm, plaintext), 'ct');
      assert.deepEqual(opensslOrThrow(['pkeyutl', '-decrypt', '-keyform', 'DER', '-inkey', keyFile, '-in', ours, ...options]), plaintext, algorithm);
      // openssl refuses when the MGF1 hash differs, so the check above really pins MGF1.
      const otherMgf = hash === 'sha256' ? 'sha384' : 'sha256';
      assert.equal(openssl(['pkeyutl', '-decrypt', '-keyform', 'DER', '-inkey', keyFile, '-in', ours, ...options.slice(0, 4), '-pkeyopt', `rsa_mgf1_md:${otherMgf}`]).ok, false);
      const theirs = opensslOrThrow(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', publicFile, '-in', scratch.write(plaintext, 'pt'), ...options]);
      assert.deepEqual(decrypt(rsa, algorithm, theirs), plaintext, algorithm);
    }
  });

  it('decrypts on the thread pool (decryptAsync) with the same results and the same failures', async () => {
    for (const [algorithm, hash] of OAEP) {
      assert.deepEqual(await decryptAsync(rsa, algorithm, encrypt(rsa, algorithm, plaintext)), plaintext, algorithm);
      // Ciphertext made by openssl with OAEP and MGF1 on the same hash: pins Web Crypto's parameters too.
      const options = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`];
      const theirs = opensslOrThrow(['pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', scratch.write(rsaMaterial.publicKey ?? assert.fail(), 'pub.der'), '-in', scratch.write(plaintext, 'pt'), ...options]);
      assert.deepEqual(await decryptAsync(rsa, algorithm, theirs), plaintext, algorithm);
    }
    const sealed = encrypt(rsa, 'RSAES_OAEP_SHA_256', plaintext);
    for (const bad of [flip(sealed, 0), flip(sealed, 255), sealed.subarray(1), Buffer.alloc(256, 0xff)]) {
      await assert.rejects(decryptAsync(rsa, 'RSAES_OAEP_SHA_256', bad), { code: 'CRYPTO_DECRYPT_FAILED' });
    }
    await assert.rejects(decryptAsync(rsa, 'RSAES_OAEP_SHA_384', sealed), { code: 'CRYPTO_DECRYPT_FAILED' });
    await assert.rejects(decryptAsync(rsa, 'RSAES_OAEP_SHA_256', sealed, Buffer.alloc(0)), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(decryptAsync(rsaPublic, 'RSAES_OAEP_SHA_256', sealed), { code: 'INVALID_ARGUMENT' });
    // AES goes through the same function, inline.
    const aad = Buffer.from('context');
    assert.deepEqual(await decryptAsync(aes, 'AES_256_GCM', encrypt(aes, 'AES_256_GCM', plaintext, aad), aad), plaintext);
    await assert.rejects(decryptAsync(aes, 'AES_256_GCM', encrypt(aes, 'AES_256_GCM', plaintext, aad)), { code: 'CRYPTO_DECRYPT_FAILED' });
  });

  it('enforces the OAEP length limit k − 2·hLen − 2 with INPUT_TOO_LARGE', () => {
    for (const [algorithm, , hLen] of OAEP) {
      const limit = 256 - 2 * hLen - 2;
      assert.equal(oaepPlaintextLimit(256, algorithm), limit);
      assert.deepEqual(decrypt(rsa, algorithm, encrypt(rsa, algorithm, Buffer.alloc(limit, 1))), Buffer.alloc(limit, 1), algorithm);
      assert.throws(() => encrypt(rsa, algorithm, Buffer.alloc(limit + 1)), { code: 'INPUT_TOO_LARGE' }, algorithm);
    }
  });

  it('fails with CRYPTO_DECRYPT_FAILED for altered, truncated or foreign ciphertexts and the wrong hash', () => {
    const sealed = encrypt(rsa, 'RSAES_OAEP_SHA_256', plaintext);
    for (const index of [0, 1, 100, 255]) assert.throws(() => decrypt(rsa, 'RSAES_OAEP_SHA_256', flip(sealed, index)), { code: 'CRYPTO_DECRYPT_FAILED' });
    for (const bad of [Buffer.alloc(0), sealed.subarray(1), Buffer.concat([sealed, Buffer.alloc(1)]), Buffer.alloc(256, 0xff)]) {
      assert.throws(() => decrypt(rsa, 'RSAES_OAEP_SHA_256', bad), { code: 'CRYPTO_DECRYPT_FAILED' });
    }
    assert.throws(() => decrypt(rsa, 'RSAES_OAEP_SHA_384', sealed), { code: 'CRYPTO_DECRYPT_FAILED' });
    assert.throws(() => decrypt(prepareKey('RSA_2048', generateKeyMaterial('RSA_2048').material), 'RSAES_OAEP_SHA_256', sealed), { code: 'CRYPTO_DECRYPT_FAILED' });
  });

  it('refuses associated data with INVALID_ARGUMENT, and decryption without the private key', () => {
    assert.throws(() => encrypt(rsa, 'RSAES_OAEP_SHA_256', plaintext, Buffer.from('aad')), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => decrypt(rsa, 'RSAES_OAEP_SHA_256', encrypt(rsa, 'RSAES_OAEP_SHA_256', plaintext), Buffer.alloc(0)), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => decrypt(rsaPublic, 'RSAES_OAEP_SHA_256', encrypt(rsa, 'RSAES_OAEP_SHA_256', plaintext)), { code: 'INVALID_ARGUMENT' });
  });
});

describe('encryption errors', () => {
  it('refuses algorithms that do not fit the key with INCOMPATIBLE_ALGORITHM', () => {
    const cases: readonly [ReturnType<typeof prepareKey>, EncryptionAlgorithm][] = [
      [aes, 'RSAES_OAEP_SHA_256'], [rsa, 'AES_256_GCM'],
      [prepareKey('HMAC_256', generateKeyMaterial('HMAC_256').material), 'AES_256_GCM'],
      [prepareKey('EC_P256', generateKeyMaterial('EC_P256').material), 'RSAES_OAEP_SHA_256'],
    ];
    for (const [key, algorithm] of cases) {
      assert.throws(() => encrypt(key, algorithm, plaintext), { code: 'INCOMPATIBLE_ALGORITHM' }, `${key.spec} ${algorithm}`);
      assert.throws(() => decrypt(key, algorithm, Buffer.alloc(300)), { code: 'INCOMPATIBLE_ALGORITHM' }, `${key.spec} ${algorithm}`);
    }
  });
});
