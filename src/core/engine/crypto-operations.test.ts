import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { alice, bob, newEngine, sha } from './engine-test-kit.ts';
import type { KeyEngine } from './key-engine.ts';
import type { KeyMetadata } from './key-metadata.ts';

const message = Buffer.from('release artifact v1.2.3');

const SIGNING: readonly { spec: string; algorithms: readonly string[]; digest: 'sha256' | 'sha384' | 'sha512' | undefined }[] = [
  { spec: 'RSA_2048', algorithms: ['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_384'], digest: 'sha256' },
  { spec: 'EC_P256', algorithms: ['ECDSA_SHA_256'], digest: 'sha256' },
  { spec: 'EC_P384', algorithms: ['ECDSA_SHA_384'], digest: 'sha384' },
  { spec: 'EC_P521', algorithms: ['ECDSA_SHA_512'], digest: 'sha512' },
  { spec: 'EC_SECP256K1', algorithms: ['ECDSA_SHA_256'], digest: 'sha256' },
  { spec: 'ED25519', algorithms: ['ED25519'], digest: undefined },
  { spec: 'ML_DSA_44', algorithms: ['ML_DSA'], digest: undefined },
  { spec: 'ML_DSA_65', algorithms: ['ML_DSA'], digest: undefined },
  { spec: 'ML_DSA_87', algorithms: ['ML_DSA'], digest: undefined },
];

const HASH_OF: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  RSASSA_PSS_SHA_256: 'sha256', RSASSA_PKCS1_V1_5_SHA_256: 'sha256', RSASSA_PSS_SHA_512: 'sha512', RSASSA_PKCS1_V1_5_SHA_384: 'sha384',
  ECDSA_SHA_256: 'sha256', ECDSA_SHA_384: 'sha384', ECDSA_SHA_512: 'sha512',
};

describe('crypto operations through the engine', () => {
  let engine: KeyEngine;
  before(() => {
    ({ engine } = newEngine());
  });

  for (const { spec, algorithms } of SIGNING) {
    it(`${spec}: signs and verifies messages${HASH_OF[algorithms[0] ?? ''] === undefined ? '' : ' and digests'}; public key verifies independently`, async () => {
      const key = await engine.keys.create(alice, { project: 'alpha', name: `sign-${spec}`, spec, usage: 'SIGN_VERIFY' });
      const pub = await engine.crypto.getPublicKey(alice, key.id);
      assert.match(pub.pem, /^-----BEGIN PUBLIC KEY-----/);
      for (const algorithm of algorithms) {
        const signed = await engine.crypto.sign(alice, key.id, { algorithm, message });
        assert.equal(signed.keyVersion, 1);
        assert.equal((await engine.crypto.verify(alice, key.id, { algorithm, message, signature: signed.signature })).valid, true);
        const hash = HASH_OF[algorithm];
        const publicKey = createPublicKey({ key: pub.der, format: 'der', type: 'spki' });
        if (hash === undefined) {
          assert.equal(nodeVerify(null, message, publicKey, signed.signature), true, 'independent verify');
          continue;
        }
        const padding = algorithm.startsWith('RSASSA_PSS') ? { padding: 6, saltLength: -1 } : {};
        assert.equal(nodeVerify(hash, message, { key: publicKey, ...padding }, signed.signature), true, `independent verify ${algorithm}`);
        const digest = sha(hash, message);
        const fromDigest = await engine.crypto.sign(alice, key.id, { algorithm, digest });
        assert.equal((await engine.crypto.verify(alice, key.id, { algorithm, message, signature: fromDigest.signature })).valid, true);
        assert.equal((await engine.crypto.verify(alice, key.id, { algorithm, digest, signature: signed.signature })).valid, true);
        const tampered = Buffer.from(signed.signature);
        tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
        assert.equal((await engine.crypto.verify(alice, key.id, { algorithm, message, signature: tampered })).valid, false);
      }
    });
  }

  it('ECDSA signs in raw r‖s form on request', async () => {
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'ec-raw', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const signed = await engine.crypto.sign(alice, key.id, { algorithm: 'ECDSA_SHA_256', message, format: 'RAW' });
    assert.equal(signed.signature.length, 64);
    assert.equal((await engine.crypto.verify(alice, key.id, { algorithm: 'ECDSA_SHA_256', message, signature: signed.signature, format: 'RAW' })).valid, true);
    await assert.rejects(engine.crypto.sign(alice, key.id, { algorithm: 'ECDSA_SHA_256', message, format: 'PEM' as 'RAW' }), { code: 'INVALID_ARGUMENT' });
  });

  it('refuses digests for message-only algorithms and digests of the wrong length', async () => {
    const ed = await engine.keys.create(alice, { project: 'alpha', name: 'ed-digest', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    await assert.rejects(engine.crypto.sign(alice, ed.id, { algorithm: 'ED25519', digest: sha('sha256', message) }), { code: 'DIGEST_NOT_SUPPORTED' });
    const ec = await engine.keys.create(alice, { project: 'alpha', name: 'ec-digest', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    await assert.rejects(engine.crypto.sign(alice, ec.id, { algorithm: 'ECDSA_SHA_256', digest: Buffer.alloc(20) }), { code: 'INVALID_DIGEST' });
    await assert.rejects(engine.crypto.sign(alice, ec.id, { algorithm: 'ECDSA_SHA_256' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.crypto.sign(alice, ec.id, { algorithm: 'ECDSA_SHA_384', message }), { code: 'INCOMPATIBLE_ALGORITHM' });
    await assert.rejects(engine.crypto.sign(alice, ec.id, { algorithm: 'ECDSA_SHA_1', message }), { code: 'UNSUPPORTED_ALGORITHM' });
  });

  for (const spec of ['AES_256', 'RSA_2048', 'RSA_3072']) {
    it(`${spec}: encrypts and decrypts with self-describing ciphertexts`, async () => {
      const key = await engine.keys.create(alice, { project: 'alpha', name: `enc-${spec}`, spec, usage: 'ENCRYPT_DECRYPT' });
      const algorithms = spec === 'AES_256' ? [undefined] : ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_384', 'RSAES_OAEP_SHA_512'];
      for (const algorithm of algorithms) {
        const encrypted = await engine.crypto.encrypt(alice, key.id, Buffer.from('secret'), algorithm === undefined ? {} : { algorithm });
        const decrypted = await engine.crypto.decrypt(alice, encrypted.ciphertext);
        assert.equal(decrypted.plaintext.toString(), 'secret');
        assert.equal(decrypted.keyId, key.id);
      }
    });
  }

  it('AES ciphertexts bind the encryption context, key and version; every alteration is CRYPTO_DECRYPT_FAILED', async () => {
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'ctx', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const other = await engine.keys.create(alice, { project: 'alpha', name: 'ctx-other', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const context = { tenant: 't1', purpose: 'backup' };
    const { ciphertext } = await engine.crypto.encrypt(alice, key.id, Buffer.from('payload'), { context });
    const reordered = { purpose: 'backup', tenant: 't1' };
    assert.equal((await engine.crypto.decrypt(alice, ciphertext, { context: reordered })).plaintext.toString(), 'payload');
    const fails = async (input: Uint8Array, options: Parameters<KeyEngine['crypto']['decrypt']>[2] = { context }): Promise<void> => {
      await assert.rejects(engine.crypto.decrypt(alice, input, options), { code: 'CRYPTO_DECRYPT_FAILED' });
    };
    await fails(ciphertext, {});
    await fails(ciphertext, { context: { tenant: 't2', purpose: 'backup' } });
    await fails(ciphertext, { context, keyId: other.id });
    await fails(ciphertext.subarray(0, ciphertext.length - 1));
    await fails(ciphertext.subarray(0, 10));
    for (const index of [0, 1, 2, 5, 20, 22, 30, ciphertext.length - 1]) {
      const altered = Buffer.from(ciphertext);
      altered[index] = (altered[index] ?? 0) ^ 0x01;
      await fails(altered);
    }
    // A ciphertext re-labelled as another key's (header swapped) still fails.
    const relabelled = Buffer.from(ciphertext);
    Buffer.from(other.id.replaceAll('-', ''), 'hex').copy(relabelled, 3);
    await fails(relabelled);
  });

  it('RSA refuses an encryption context and oversize plaintext', async () => {
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'rsa-limits', spec: 'RSA_2048', usage: 'ENCRYPT_DECRYPT' });
    await assert.rejects(engine.crypto.encrypt(alice, key.id, Buffer.from('x'), { context: { a: 'b' } }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.crypto.encrypt(alice, key.id, Buffer.alloc(300)), { code: 'INPUT_TOO_LARGE' });
  });

  it('HMAC keys generate and verify MACs (constant-time compare), across versions', async () => {
    for (const spec of ['HMAC_256', 'HMAC_384', 'HMAC_512']) {
      const key = await engine.keys.create(alice, { project: 'alpha', name: `mac-${spec}`, spec, usage: 'GENERATE_VERIFY_MAC' });
      const { mac } = await engine.crypto.generateMac(alice, key.id, message);
      assert.equal(mac.length, Number(spec.slice(5)) / 8);
      assert.equal((await engine.crypto.verifyMac(alice, key.id, message, mac)).valid, true);
      await engine.keys.rotate(alice, key.id);
      assert.deepEqual(await engine.crypto.verifyMac(alice, key.id, message, mac), { valid: true, keyId: key.id, keyVersion: 1 });
      assert.equal((await engine.crypto.verifyMac(alice, key.id, Buffer.from('other'), mac)).valid, false);
      assert.equal((await engine.crypto.verifyMac(alice, key.id, message, mac.subarray(1))).valid, false);
    }
  });

  it('data keys: plaintext decrypts from the ciphertext; without-plaintext form omits it', async () => {
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'dk', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const dataKey = await engine.crypto.generateDataKey(alice, key.id, { context: { file: 'a.bin' } });
    assert.equal(dataKey.plaintext?.length, 32);
    const opened = await engine.crypto.decrypt(alice, dataKey.ciphertext, { context: { file: 'a.bin' } });
    assert.deepEqual(opened.plaintext, dataKey.plaintext);
    const bare = await engine.crypto.generateDataKey(alice, key.id, { withoutPlaintext: true, bytes: 16 });
    assert.equal(bare.plaintext, undefined);
    assert.equal((await engine.crypto.decrypt(alice, bare.ciphertext)).plaintext.length, 16);
    await assert.rejects(engine.crypto.generateDataKey(alice, key.id, { bytes: 8 }), { code: 'INVALID_ARGUMENT' });
  });

  it('wraps exportable keys for export and imports wrapped material as a new key', async () => {
    const kek = await engine.keys.create(alice, { project: 'alpha', name: 'kek', spec: 'AES_256', usage: 'WRAP_UNWRAP' });
    const sealed = await engine.keys.create(alice, { project: 'alpha', name: 'not-exportable', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    await assert.rejects(engine.crypto.wrapKey(alice, kek.id, sealed.id, { algorithm: 'AES_KWP' }), { code: 'KEY_NOT_EXPORTABLE' });
    const movable: KeyMetadata = await engine.keys.create(alice, { project: 'alpha', name: 'movable', spec: 'EC_P256', usage: 'SIGN_VERIFY', exportable: true });
    const wrapped = await engine.crypto.wrapKey(alice, kek.id, movable.id, { algorithm: 'AES_KWP' });
    const imported = await engine.keys.import(alice, {
      project: 'alpha', name: 'imported', spec: 'EC_P256', usage: 'SIGN_VERIFY',
      wrappingKey: kek.id, wrappingAlgorithm: 'AES_KWP', wrappedMaterial: wrapped.wrappedKey,
    });
    assert.equal(imported.versions[0]?.origin, 'IMPORTED');
    assert.equal(imported.exportable, false);
    // Same material: a signature from the import verifies under the original.
    const signed = await engine.crypto.sign(alice, imported.id, { algorithm: 'ECDSA_SHA_256', message });
    assert.equal((await engine.crypto.verify(alice, movable.id, { algorithm: 'ECDSA_SHA_256', message, signature: signed.signature })).valid, true);
    const altered = Buffer.from(wrapped.wrappedKey);
    altered[3] = (altered[3] ?? 0) ^ 1;
    await assert.rejects(engine.keys.import(alice, {
      project: 'alpha', name: 'bad-import', spec: 'EC_P256', usage: 'SIGN_VERIFY', wrappingKey: kek.id, wrappingAlgorithm: 'AES_KWP', wrappedMaterial: altered,
    }), { code: 'CRYPTO_DECRYPT_FAILED' });
    await assert.rejects(engine.keys.import(alice, {
      project: 'alpha', name: 'wrong-spec', spec: 'EC_P384', usage: 'SIGN_VERIFY', wrappingKey: kek.id, wrappingAlgorithm: 'AES_KWP', wrappedMaterial: wrapped.wrappedKey,
    }), { code: 'INVALID_KEY_MATERIAL' });
  });

  it('RSA wrapping keys import material wrapped with RSA-AES key wrap', async () => {
    const rsaKek = await engine.keys.create(alice, { project: 'alpha', name: 'rsa-kek', spec: 'RSA_2048', usage: 'WRAP_UNWRAP' });
    const hmac = await engine.keys.create(alice, { project: 'alpha', name: 'hmac-export', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', exportable: true });
    const wrapped = await engine.crypto.wrapKey(alice, rsaKek.id, hmac.id, { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    const imported = await engine.keys.import(alice, {
      project: 'alpha', name: 'hmac-imported', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC',
      wrappingKey: rsaKek.id, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedMaterial: wrapped.wrappedKey,
    });
    const { mac } = await engine.crypto.generateMac(alice, hmac.id, message);
    assert.equal((await engine.crypto.verifyMac(alice, imported.id, message, mac)).valid, true);
  });

  it('uses keys only for their usage', async () => {
    const signing = await engine.keys.create(alice, { project: 'alpha', name: 'usage-sign', spec: 'RSA_2048', usage: 'SIGN_VERIFY' });
    await assert.rejects(engine.crypto.encrypt(alice, signing.id, Buffer.from('x')), { code: 'KEY_USAGE_NOT_ALLOWED' });
    await assert.rejects(engine.crypto.generateMac(alice, signing.id, Buffer.from('x')), { code: 'KEY_USAGE_NOT_ALLOWED' });
    const aes = await engine.keys.create(alice, { project: 'alpha', name: 'usage-aes', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await assert.rejects(engine.crypto.sign(alice, aes.id, { algorithm: 'ECDSA_SHA_256', message }), { code: 'INCOMPATIBLE_ALGORITHM' });
    await assert.rejects(engine.crypto.getPublicKey(alice, aes.id), { code: 'INCOMPATIBLE_ALGORITHM' });
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'bad-usage', spec: 'ED25519', usage: 'ENCRYPT_DECRYPT' }), { code: 'KEY_USAGE_NOT_ALLOWED' });
  });

  it('random bytes are bounded and need a key-using role', async () => {
    assert.equal((await engine.crypto.random(alice, 32)).length, 32);
    await assert.rejects(engine.crypto.random(alice, 0), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.crypto.random(alice, 1025), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.crypto.random({ ...bob, roles: ['auditor'] }, 16), { code: 'ACCESS_DENIED' });
  });

  it('bounds input sizes', async () => {
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'sizes', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await assert.rejects(engine.crypto.encrypt(alice, key.id, Buffer.alloc(4 * 1024 * 1024 + 1)), { code: 'INPUT_TOO_LARGE' });
    await assert.rejects(engine.crypto.encrypt(alice, key.id, 'text' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.crypto.decrypt(alice, Buffer.alloc(0)), { code: 'INVALID_ARGUMENT' });
  });
});
