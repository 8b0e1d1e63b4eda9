// Key transport over a real node with mutual TLS, checked against the real openssl binary: material
// wrapped by openssl (RSA-OAEP, and the CKM_RSA_AES_KEY_WRAP construction: OAEP for an ephemeral AES
// key + `openssl enc -id-aes256-wrap-pad`) imports through an import token and works; an exported key
// unwrapped by openssl equals what was imported; every refusal is asserted by its code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { opensslOrThrow, ScratchDir } from '../src/core/algorithms/openssl-test-kit.ts';
import type { CofferClient, ImportToken } from '../src/client/index.ts';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { coffer, failsWith, ok } from './coffer-command-kit.ts';
import { refused, startReadyNode } from './tls-node-kit.ts';

/** RFC 5649 §3: the alternative initial value, as openssl's id-aes256-wrap-pad takes it. */
const AIV = 'A65959A6';
const OAEP = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'];

function oaepWrap(dir: ScratchDir, publicPem: string, data: Uint8Array): Buffer {
  return opensslOrThrow(['pkeyutl', '-encrypt', '-pubin', '-inkey', dir.write(Buffer.from(publicPem), 'pub.pem'), ...OAEP, '-in', dir.write(data, 'in')]);
}

function kwpWrap(dir: ScratchDir, aesKey: Uint8Array, data: Uint8Array): Buffer {
  return opensslOrThrow(['enc', '-id-aes256-wrap-pad', '-K', Buffer.from(aesKey).toString('hex'), '-iv', AIV, '-in', dir.write(data, 'in')]);
}

function kwpUnwrap(dir: ScratchDir, aesKey: Uint8Array, wrapped: Uint8Array): Buffer {
  return opensslOrThrow(['enc', '-d', '-id-aes256-wrap-pad', '-K', Buffer.from(aesKey).toString('hex'), '-iv', AIV, '-in', dir.write(wrapped, 'wrapped')]);
}

/** CKM_RSA_AES_KEY_WRAP with openssl alone: a fresh AES-256 key from `openssl rand`, OAEP-wrapped, then KWP of the material. */
function rsaAesWrap(dir: ScratchDir, publicPem: string, material: Uint8Array): Buffer {
  const ephemeral = opensslOrThrow(['rand', '32']);
  return Buffer.concat([oaepWrap(dir, publicPem, ephemeral), kwpWrap(dir, ephemeral, material)]);
}

function wrapFor(dir: ScratchDir, token: ImportToken, material: Uint8Array): Buffer {
  return token.wrappingAlgorithm === 'RSAES_OAEP_SHA_256' ? oaepWrap(dir, token.wrappingPublicKey, material) : rsaAesWrap(dir, token.wrappingPublicKey, material);
}

/** A PKCS#8 DER private key made by openssl, and its public half as PEM. */
function opensslKey(dir: ScratchDir, args: readonly string[]): { der: Buffer; publicPem: string } {
  // genpkey writes PEM PKCS#8; `pkcs8 -topk8 -nocrypt` gives its DER (genpkey's own DER may be the traditional form).
  const pem = opensslOrThrow(['genpkey', ...args]);
  const der = opensslOrThrow(['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', dir.write(pem, 'key.pem')]);
  const publicPem = opensslOrThrow(['pkey', '-inform', 'DER', '-in', dir.write(der, 'key.der'), '-pubout']).toString();
  return { der, publicPem };
}

function opensslVerifies(dir: ScratchDir, publicPem: string, message: Buffer, signature: Uint8Array, extra: readonly string[] = []): void {
  const out = opensslOrThrow(['dgst', '-sha256', ...extra, '-verify', dir.write(Buffer.from(publicPem), 'pub.pem'), '-signature', dir.write(signature, 'sig'), dir.write(message, 'msg')]);
  assert.match(out.toString(), /Verified OK/);
}

async function importWith(user: CofferClient, dir: ScratchDir, name: string, spec: 'EC_P256' | 'RSA_2048' | 'AES_256', usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT',
  wrappingAlgorithm: 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256', material: Buffer): Promise<string> {
  const token = await user.keys.importToken({ project: 'alpha', spec, wrappingAlgorithm });
  const key = await user.keys.importWrapped({ importToken: token.importToken, project: 'alpha', name, spec, usage, wrappedMaterial: wrapFor(dir, token, material) });
  assert.equal(key.exportable, false);
  assert.equal(key.versions[0]?.origin, 'IMPORTED');
  // Single use: the same token again is refused.
  await refused(user.keys.importWrapped({ importToken: token.importToken, project: 'alpha', name: `${name}-again`, spec, usage, wrappedMaterial: wrapFor(dir, token, material) }), 'IMPORT_TOKEN_NOT_FOUND', 404);
  return key.id;
}

describe('key transport with openssl', () => {
  it('imports a P-256, an RSA-2048 and an AES-256 key wrapped by openssl (both schemes) and uses them', async (t) => {
    const node = await startReadyNode(t);
    const dir = new ScratchDir();
    t.after(() => {
      dir.remove();
    });
    const user = node.client(node.pki.user);
    const message = Buffer.from('firmware image 1.2.3');

    const ec = opensslKey(dir, ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const rsa = opensslKey(dir, ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    const aes = opensslOrThrow(['rand', '32']);
    for (const scheme of ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const) {
      const ecId = await importWith(user, dir, `ec-${scheme}`, 'EC_P256', 'SIGN_VERIFY', scheme, ec.der);
      const signed = await user.crypto.sign({ keyId: ecId, algorithm: 'ECDSA_SHA_256', message });
      opensslVerifies(dir, ec.publicPem, message, signed.signature);

      const aesId = await importWith(user, dir, `aes-${scheme}`, 'AES_256', 'ENCRYPT_DECRYPT', scheme, aes);
      const sealed = await user.crypto.encrypt({ keyId: aesId, plaintext: message });
      assert.deepEqual((await user.crypto.decrypt({ ciphertext: sealed.ciphertext })).plaintext, message);
    }
    // PKCS#8 RSA-2048 (about 1.2 KB) is too long for RSA-OAEP alone: only the RSA-AES scheme carries it.
    const rsaId = await importWith(user, dir, 'rsa', 'RSA_2048', 'SIGN_VERIFY', 'RSA_AES_KEY_WRAP_SHA_256', rsa.der);
    const rsaSigned = await user.crypto.sign({ keyId: rsaId, algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', message });
    opensslVerifies(dir, rsa.publicPem, message, rsaSigned.signature);

    // Material that does not match the declared spec: a P-256 key declared as RSA-2048.
    const wrong = await user.keys.importToken({ project: 'alpha', spec: 'RSA_2048', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    await refused(user.keys.importWrapped({ importToken: wrong.importToken, project: 'alpha', name: 'wrong', spec: 'RSA_2048', usage: 'SIGN_VERIFY', wrappedMaterial: wrapFor(dir, wrong, ec.der) }), 'INVALID_KEY_MATERIAL', 400);
    // A token for one spec does not import another.
    const p256 = await user.keys.importToken({ project: 'alpha', spec: 'EC_P256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    await refused(user.keys.importWrapped({ importToken: p256.importToken, project: 'alpha', name: 'other', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', wrappedMaterial: wrapFor(dir, p256, aes) }), 'INVALID_ARGUMENT', 400);
    // Altered wrapping: unwrapping fails, vaguely.
    const altered = await user.keys.importToken({ project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    const bad = wrapFor(dir, altered, aes);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    await refused(user.keys.importWrapped({ importToken: altered.importToken, project: 'alpha', name: 'altered', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', wrappedMaterial: bad }), 'CRYPTO_DECRYPT_FAILED', 400);
    await refused(user.keys.importWrapped({ importToken: '00000000-0000-4000-8000-000000000000', project: 'alpha', name: 'none', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', wrappedMaterial: bad }), 'IMPORT_TOKEN_NOT_FOUND', 404);
    // Officers manage; they do not import keys.
    await refused(node.client(node.pki.officer).keys.importToken({ project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), 'ACCESS_DENIED', 403);
  });

  it('imports a public key alone: it verifies openssl signatures and never signs', async (t) => {
    const node = await startReadyNode(t);
    const dir = new ScratchDir();
    t.after(() => {
      dir.remove();
    });
    const user = node.client(node.pki.user);
    const ec = opensslKey(dir, ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const key = await user.keys.importPublic({ project: 'alpha', name: 'vendor-root', spec: 'EC_P256', usage: 'SIGN_VERIFY', publicKey: ec.publicPem });
    const message = Buffer.from('signed elsewhere');
    const signature = opensslOrThrow(['dgst', '-sha256', '-sign', dir.write(Buffer.from(opensslOrThrow(['pkey', '-inform', 'DER', '-in', dir.write(ec.der, 'k.der')])), 'k.pem'), dir.write(message, 'm')]);
    assert.equal((await user.crypto.verify({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message, signature })).valid, true);
    assert.equal((await user.crypto.verify({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message: Buffer.from('other'), signature })).valid, false);
    await refused(user.crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message }), 'KEY_PUBLIC_ONLY', 400);
    await refused(user.keys.rotate(key.id), 'KEY_PUBLIC_ONLY', 400);
    assert.match((await user.keys.publicKey(key.id)).pem, /BEGIN PUBLIC KEY/);
    // An RSA public key encrypts; decrypting needs the private half it never had.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const enc = await user.keys.importPublic({ project: 'alpha', name: 'partner', spec: 'RSA_2048', usage: 'ENCRYPT_DECRYPT', publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const ciphertext = (await user.crypto.encrypt({ keyId: enc.id, plaintext: Buffer.from('hi') })).ciphertext;
    await refused(user.crypto.decrypt({ ciphertext }), 'KEY_PUBLIC_ONLY', 400);
    // The public key must be of the declared spec.
    await refused(user.keys.importPublic({ project: 'alpha', name: 'mismatch', spec: 'EC_P384', usage: 'SIGN_VERIFY', publicKey: ec.publicPem }), 'INVALID_KEY_MATERIAL', 400);
    await refused(user.keys.importPublic({ project: 'alpha', name: 'junk', spec: 'EC_P256', usage: 'SIGN_VERIFY', publicKey: 'not a key' }), 'INVALID_KEY_MATERIAL', 400);
  });

  it('exports an exportable key that openssl unwraps to exactly what was imported, and refuses the rest', async (t) => {
    const node = await startReadyNode(t);
    const dir = new ScratchDir();
    t.after(() => {
      dir.remove();
    });
    const user = node.client(node.pki.user);
    // A wrapping key whose material the test knows: imported through a token.
    const kek = randomBytes(32);
    const kekToken = await user.keys.importToken({ project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    const wrapping = await user.keys.importWrapped({ importToken: kekToken.importToken, project: 'alpha', name: 'kek', spec: 'AES_256', usage: 'WRAP_UNWRAP', wrappedMaterial: wrapFor(dir, kekToken, kek) });
    // An exportable key of known material, imported under that wrapping key (the existing import form).
    const secret = randomBytes(32);
    const key = await user.keys.create({
      project: 'alpha', name: 'portable', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', exportable: true,
      import: { wrappingKeyId: wrapping.id, wrappingAlgorithm: 'AES_KWP', wrappedMaterial: kwpWrap(dir, kek, secret) },
    });
    const viaKwp = await user.keys.export(key.id, { wrappingKeyId: wrapping.id, algorithm: 'AES_KWP' });
    assert.deepEqual([viaKwp.keyId, viaKwp.keyVersion, viaKwp.wrappingKeyId], [key.id, 1, wrapping.id]);
    assert.deepEqual(kwpUnwrap(dir, kek, viaKwp.wrappedKey), secret);

    // RSA-AES to a public key whose private key only openssl holds (an external HSM's, say).
    const external = opensslKey(dir, ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']);
    const privatePem = dir.write(opensslOrThrow(['pkey', '-inform', 'DER', '-in', dir.write(external.der, 'x.der')]), 'x.pem');
    const viaRsa = await user.keys.export(key.id, { wrappingPublicKey: external.publicPem, algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    assert.match(viaRsa.wrappingKeyFingerprint ?? '', /^[0-9a-f]{64}$/);
    const ephemeral = opensslOrThrow(['pkeyutl', '-decrypt', '-inkey', privatePem, ...OAEP, '-in', dir.write(viaRsa.wrappedKey.subarray(0, 384), 'head')]);
    assert.deepEqual(kwpUnwrap(dir, ephemeral, viaRsa.wrappedKey.subarray(384)), secret);
    const viaOaep = await user.keys.export(key.id, { wrappingPublicKey: external.publicPem, algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual(opensslOrThrow(['pkeyutl', '-decrypt', '-inkey', privatePem, ...OAEP, '-in', dir.write(viaOaep.wrappedKey, 'oaep')]), secret);

    // A given version: after a rotation, version 1 is still the imported material.
    await user.keys.rotate(key.id);
    const v1 = await user.keys.export(key.id, { wrappingKeyId: wrapping.id, algorithm: 'AES_KWP', version: 1 });
    assert.deepEqual([v1.keyVersion, kwpUnwrap(dir, kek, v1.wrappedKey)], [1, secret]);
    assert.equal((await user.keys.export(key.id, { wrappingKeyId: wrapping.id, algorithm: 'AES_KWP' })).keyVersion, 2);
    await refused(user.keys.export(key.id, { wrappingKeyId: wrapping.id, algorithm: 'AES_KWP', version: 9 }), 'KEY_VERSION_NOT_FOUND', 404);

    // Refusals: a non-exportable key (every token import is one), AES_KWP to a public key, both or neither wrapping key.
    await refused(user.keys.export(wrapping.id, { wrappingKeyId: wrapping.id, algorithm: 'AES_KWP' }), 'KEY_NOT_EXPORTABLE', 403);
    await refused(user.keys.export(key.id, { wrappingPublicKey: external.publicPem, algorithm: 'AES_KWP' }), 'INCOMPATIBLE_ALGORITHM', 400);
    await refused(user.keys.export(key.id, { algorithm: 'AES_KWP' }), 'INVALID_ARGUMENT', 400);
    await refused(user.keys.export(key.id, { wrappingPublicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), 'INVALID_ARGUMENT', 400);
    // Officers see no keys, so cannot export them.
    await refused(node.client(node.pki.officer).keys.export(key.id, { wrappingKeyId: wrapping.id, algorithm: 'AES_KWP' }), 'KEY_NOT_FOUND', 404);

    // Under a quorum policy for key.export the direct route is refused.
    const olivia = node.client(node.pki.officer);
    const approvalKey = generateKeyPairSync('ed25519');
    await olivia.quorum.registerApprovalKey(approvalKey.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    await olivia.quorum.initializePolicy({ 'key.export': { threshold: 1, approvers: ['olivia'] }, 'quorum.policy-change': { threshold: 1, approvers: ['olivia'] } });
    await refused(user.keys.export(key.id, { wrappingKeyId: wrapping.id, algorithm: 'AES_KWP' }), 'QUORUM_REQUIRED');
  });

  it('through the coffer command: import-token, openssl wraps, import, export, import-public', async (t) => {
    const node = await startReadyNode(t);
    const dir = new ScratchDir();
    t.after(() => {
      dir.remove();
    });
    const file = (name: string): string => join(node.dir, name);
    const env = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath, COFFER_CERT: node.pki.user.certPath, COFFER_KEY: node.pki.user.keyPath };
    const token = JSON.parse(ok(await coffer(['keys', 'import-token', '--project', 'alpha', '--spec', 'EC_P256', '--algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--public-key-out', file('token.pem'), '--json'], env), 'import-token')) as ImportToken;
    const ec = opensslKey(dir, ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    writeFileSync(file('ec.wrapped'), wrapFor(dir, token, ec.der));
    const imported = JSON.parse(ok(await coffer(['keys', 'import', 'alpha/cli-ec', '--import-token', token.importToken, '--wrapped-file', file('ec.wrapped'), '--spec', 'EC_P256', '--usage', 'SIGN_VERIFY', '--json'], env), 'import')) as { id: string; exportable: boolean };
    assert.equal(imported.exportable, false);
    failsWith(await coffer(['keys', 'import', 'alpha/cli-ec2', '--import-token', token.importToken, '--wrapped-file', file('ec.wrapped'), '--spec', 'EC_P256', '--usage', 'SIGN_VERIFY'], env), 'IMPORT_TOKEN_NOT_FOUND', 'a token imports once');
    failsWith(await coffer(['keys', 'export', 'alpha/cli-ec', '--algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--public-key', file('token.pem')], env), 'KEY_NOT_EXPORTABLE', 'imported keys stay');
    writeFileSync(file('ec.pub'), ec.publicPem);
    const publicOnly = JSON.parse(ok(await coffer(['keys', 'import-public', 'alpha/cli-pub', '--public-key', file('ec.pub'), '--spec', 'EC_P256', '--json'], env), 'import-public')) as { usage: string };
    assert.equal(publicOnly.usage, 'SIGN_VERIFY');

    const user = node.client(node.pki.user);
    const portable = await user.keys.create({ project: 'alpha', name: 'cli-portable', spec: 'EC_P256', usage: 'SIGN_VERIFY', exportable: true });
    const external = opensslKey(dir, ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']);
    writeFileSync(file('external.pem'), external.publicPem);
    ok(await coffer(['keys', 'export', 'alpha/cli-portable', '--algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--public-key', file('external.pem'), '--out', file('portable.wrapped')], env), 'export');
    const privatePem = dir.write(opensslOrThrow(['pkey', '-inform', 'DER', '-in', dir.write(external.der, 'x.der')]), 'x.pem');
    const wrapped = dir.read(file('portable.wrapped'));
    const ephemeral = opensslOrThrow(['pkeyutl', '-decrypt', '-inkey', privatePem, ...OAEP, '-in', dir.write(wrapped.subarray(0, 384), 'head')]);
    const pkcs8 = kwpUnwrap(dir, ephemeral, wrapped.subarray(384));
    // The exported private key's public half is the key's public key.
    const derived = opensslOrThrow(['pkey', '-inform', 'DER', '-in', dir.write(pkcs8, 'p8'), '-pubout']).toString();
    assert.equal(derived, (await user.keys.publicKey(portable.id)).pem);
  });
});
