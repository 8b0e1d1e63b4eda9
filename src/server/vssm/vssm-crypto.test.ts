// VssmService through the API: the seed's own example round-trips, each endpoint's happy path,
// weak algorithms refused on every endpoint, wrong key types, unknown keys and malformed bodies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, publicEncrypt } from 'node:crypto';
import { b64, errorCode, openVssmServer, WEAK_NAMES } from './vssm-test-kit.ts';

const SEED_BODY = '{"input":"AAAA", "keyName":"foo", "algorithm": "AES/GCM/NoPadding"}';

describe('VSSM crypto endpoints', () => {
  it('run the seed example: symmetric/encrypt output decrypts back through symmetric/decrypt', async (t) => {
    const { server, alice, post, generate } = await openVssmServer(t);
    await generate('foo', 'SYMMETRIC', undefined, 32);
    const encrypted = await server.call('POST', '/REST/v1/symmetric/encrypt', { token: alice, body: SEED_BODY, headers: { 'content-type': 'application/json' } });
    assert.equal(encrypted.status, 200, encrypted.text);
    assert.deepEqual(Object.keys(encrypted.body), ['output']);
    const output = String(encrypted.body['output']);
    // Exactly as the seed's `curl -d` sends it: JSON labelled as a form body. Accepted from
    // non-browser clients on /REST/v1 only; a browser's cross-site form post (Origin) is refused.
    const asCurl = await server.call('POST', '/REST/v1/symmetric/encrypt', { token: alice, body: SEED_BODY, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(asCurl.status, 200, asCurl.text);
    const fromPage = await server.call('POST', '/REST/v1/symmetric/encrypt', { token: alice, body: SEED_BODY, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' } });
    assert.equal(errorCode(fromPage), 'UNSUPPORTED_MEDIA_TYPE');
    const nativeAsForm = await server.call('POST', '/v1/crypto/random', { token: alice, body: '{"bytes":16}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(errorCode(nativeAsForm), 'UNSUPPORTED_MEDIA_TYPE');
    const decrypted = await post('symmetric/decrypt', { input: output, keyName: 'foo', algorithm: 'AES/GCM/NoPadding' });
    assert.equal(decrypted.status, 200, decrypted.text);
    assert.deepEqual(decrypted.body, { output: 'AAAA' });
    // proto3 JSON: .proto field names, URL-safe unpadded base64 and an empty input all work.
    const snake = await post('symmetric/decrypt', { input: Buffer.from(output, 'base64').toString('base64url'), key_name: 'foo', algorithm: 'AES/GCM/NoPadding' });
    assert.deepEqual(snake.body, { output: 'AAAA' });
    const empty = await post('symmetric/encrypt', { keyName: 'foo', algorithm: 'AES/GCM/NoPadding' });
    assert.deepEqual((await post('symmetric/decrypt', { input: empty.body['output'], keyName: 'foo', algorithm: 'AES/GCM/NoPadding' })).body, { output: '' });

    // A ciphertext under another key does not decrypt under this name, nor does an altered one.
    await generate('bar', 'SYMMETRIC');
    const other = await post('symmetric/encrypt', { input: 'AAAA', keyName: 'bar', algorithm: 'AES/GCM/NoPadding' });
    assert.equal(errorCode(await post('symmetric/decrypt', { input: other.body['output'], keyName: 'foo', algorithm: 'AES/GCM/NoPadding' })), 'CRYPTO_DECRYPT_FAILED');
    const altered = Buffer.from(output, 'base64');
    altered[altered.length - 1] = (altered.at(-1) ?? 0) ^ 1;
    assert.equal(errorCode(await post('symmetric/decrypt', { input: b64(altered), keyName: 'foo', algorithm: 'AES/GCM/NoPadding' })), 'CRYPTO_DECRYPT_FAILED');
  });

  it('encrypt and decrypt with RSA-OAEP in raw RFC 8017 form, as VSSM and offline encrypters produce it', async (t) => {
    const { server, alice, post } = await openVssmServer(t);
    // VSSM-generated RSA keys sign; an encryption key is created through the native API.
    const created = await server.call('POST', '/v1/keys', { token: alice, body: { project: 'alpha', name: 'rsa-enc', spec: 'RSA_2048', usage: 'ENCRYPT_DECRYPT' } });
    assert.equal(created.status, 201, created.text);
    const body = { input: b64('secret'), keyName: 'rsa-enc', algorithm: 'RSA-OAEP/SHA256' };
    const encrypted = await post('asymmetric/encrypt', body);
    assert.equal(encrypted.status, 200, encrypted.text);
    assert.equal(Buffer.from(String(encrypted.body['output']), 'base64').length, 256, 'raw OAEP: exactly k bytes');
    assert.deepEqual((await post('asymmetric/decrypt', { ...body, input: encrypted.body['output'] })).body, { output: b64('secret') });

    const pem = String((await server.call('GET', `/v1/keys/${String(created.body['id'])}/public-key`, { token: alice })).body['pem']);
    const offline = publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('made offline'));
    assert.deepEqual((await post('asymmetric/decrypt', { ...body, input: b64(offline) })).body, { output: b64('made offline') });
    // A native (self-describing) ciphertext of the same key is accepted too.
    const native = await server.call('POST', '/v1/crypto/encrypt', { token: alice, body: { keyId: 'alpha/rsa-enc', plaintext: b64('native'), algorithm: 'RSAES_OAEP_SHA_256' } });
    assert.deepEqual((await post('asymmetric/decrypt', { ...body, input: native.body['ciphertext'] })).body, { output: b64('native') });

    // The named hash must be the one used; an extension hash works end to end.
    assert.equal(errorCode(await post('asymmetric/decrypt', { ...body, input: b64(offline), algorithm: 'RSA-OAEP/SHA512' })), 'CRYPTO_DECRYPT_FAILED');
    const sha512 = await post('asymmetric/encrypt', { ...body, algorithm: 'RSA-OAEP/SHA512' });
    assert.deepEqual((await post('asymmetric/decrypt', { ...body, input: sha512.body['output'], algorithm: 'RSA-OAEP/SHA512' })).body, { output: b64('secret') });
  });

  it('sign and verify messages and precomputed digests (hashed), with ECDSA, RSA PKCS#1 v1.5, RSA-PSS and Ed25519', async (t) => {
    const { post, generate } = await openVssmServer(t);
    await generate('ec', 'ASYMMETRIC', 'EC', 256);
    await generate('rsa', 'ASYMMETRIC', 'RSA', '2048');
    await generate('ed', 'ASYMMETRIC', 'ED25519');
    const message = Buffer.from('release 1.2.3');
    const digest = createHash('sha256').update(message).digest();
    for (const [keyName, algorithm] of [['ec', 'SHA256withECDSA'], ['rsa', 'SHA256withRSA'], ['rsa', 'SHA512withRSA'], ['rsa', 'SHA256withRSA/PSS'], ['ed', 'Ed25519']] as const) {
      const signed = await post('asymmetric/sign', { input: b64(message), keyName, algorithm });
      assert.equal(signed.status, 200, `${algorithm}: ${signed.text}`);
      const signature = String(signed.body['output']);
      assert.deepEqual((await post('asymmetric/verify', { input: b64(message), signature, keyName, algorithm })).body, { valid: true }, algorithm);
      assert.deepEqual((await post('asymmetric/verify', { input: b64('another'), signature, keyName, algorithm })).body, { valid: false }, algorithm);
    }
    // hashed: the digest is signed as is, and verifies against the whole message.
    for (const [keyName, algorithm] of [['ec', 'SHA256withECDSA'], ['rsa', 'SHA256withRSA']] as const) {
      const signed = await post('asymmetric/sign', { hashed: b64(digest), keyName, algorithm });
      assert.equal(signed.status, 200, signed.text);
      assert.deepEqual((await post('asymmetric/verify', { input: b64(message), signature: signed.body['output'], keyName, algorithm })).body, { valid: true });
      assert.deepEqual((await post('asymmetric/verify', { hashed: b64(digest), signature: signed.body['output'], keyName, algorithm })).body, { valid: true });
    }
    assert.equal(errorCode(await post('asymmetric/sign', { hashed: b64(digest.subarray(1)), keyName: 'ec', algorithm: 'SHA256withECDSA' })), 'INVALID_DIGEST');
    assert.equal(errorCode(await post('asymmetric/sign', { hashed: b64(digest), keyName: 'ed', algorithm: 'Ed25519' })), 'DIGEST_NOT_SUPPORTED');
    // A P-256 key signs with SHA-256 only; an EC key cannot take an RSA algorithm.
    assert.equal(errorCode(await post('asymmetric/sign', { input: b64(message), keyName: 'ec', algorithm: 'SHA384withECDSA' })), 'INCOMPATIBLE_ALGORITHM');
    assert.equal(errorCode(await post('asymmetric/sign', { input: b64(message), keyName: 'ec', algorithm: 'SHA256withRSA' })), 'INCOMPATIBLE_ALGORITHM');
  });

  it('create and verify HMACs in constant time', async (t) => {
    const { post, generate } = await openVssmServer(t);
    await generate('mac', 'MAC', undefined, 32);
    const created = await post('hmac/create', { input: b64('data'), keyName: 'mac', algorithm: 'SHA256' });
    assert.equal(created.status, 200, created.text);
    assert.equal(Buffer.from(String(created.body['output']), 'base64').length, 32);
    assert.deepEqual((await post('hmac/verify', { input: b64('data'), hmac: created.body['output'], keyName: 'mac', algorithm: 'SHA256' })).body, { valid: true });
    assert.deepEqual((await post('hmac/verify', { input: b64('datA'), hmac: created.body['output'], keyName: 'mac', algorithm: 'SHA256' })).body, { valid: false });
    // An HMAC key is bound to its hash.
    assert.equal(errorCode(await post('hmac/create', { input: b64('data'), keyName: 'mac', algorithm: 'SHA512' })), 'INCOMPATIBLE_ALGORITHM');
  });

  it('refuse weak algorithms on every endpoint, and keys of the wrong type or that do not exist', async (t) => {
    const { post, generate } = await openVssmServer(t);
    await generate('sym', 'SYMMETRIC');
    await generate('ec', 'ASYMMETRIC', 'EC');
    await generate('mac', 'MAC');
    const endpoints = [
      { path: 'symmetric/encrypt', kind: 'symmetric', key: 'sym', body: {} },
      { path: 'symmetric/decrypt', kind: 'symmetric', key: 'sym', body: {} },
      { path: 'asymmetric/encrypt', kind: 'asymmetric', key: 'ec', body: {} },
      { path: 'asymmetric/decrypt', kind: 'asymmetric', key: 'ec', body: {} },
      { path: 'asymmetric/sign', kind: 'signature', key: 'ec', body: {} },
      { path: 'asymmetric/verify', kind: 'signature', key: 'ec', body: { signature: 'AAAA' } },
      { path: 'hmac/create', kind: 'hmac', key: 'mac', body: {} },
      { path: 'hmac/verify', kind: 'hmac', key: 'mac', body: { hmac: 'AAAA' } },
    ] as const;
    for (const { path, kind, key, body } of endpoints) {
      for (const algorithm of WEAK_NAMES[kind]) {
        const reply = await post(path, { input: 'AAAA', keyName: key, algorithm, ...body });
        assert.equal(reply.status, 400, `${path} ${algorithm}`);
        assert.equal(errorCode(reply), 'UNSUPPORTED_ALGORITHM', `${path} ${algorithm}`);
      }
      assert.equal(errorCode(await post(path, { input: 'AAAA', keyName: 'missing', algorithm: good(kind), ...body })), 'KEY_NOT_FOUND', path);
    }
    for (const name of ['AES/CBC/PKCS5Padding', 'AES/CTR/NoPadding']) {
      assert.equal(errorCode(await post('symmetric/encrypt', { input: 'AAAA', keyName: 'sym', algorithm: name })), 'UNSUPPORTED_ALGORITHM', name);
    }
    // Wrong key types: the engine's spec check answers.
    assert.equal(errorCode(await post('symmetric/encrypt', { input: 'AAAA', keyName: 'ec', algorithm: 'AES/GCM/NoPadding' })), 'INCOMPATIBLE_ALGORITHM');
    assert.equal(errorCode(await post('symmetric/decrypt', { input: 'AAAA', keyName: 'mac', algorithm: 'AES/GCM/NoPadding' })), 'INCOMPATIBLE_ALGORITHM');
    assert.equal(errorCode(await post('asymmetric/encrypt', { input: 'AAAA', keyName: 'sym', algorithm: 'RSA-OAEP/SHA256' })), 'INCOMPATIBLE_ALGORITHM');
    assert.equal(errorCode(await post('asymmetric/sign', { input: 'AAAA', keyName: 'mac', algorithm: 'SHA256withECDSA' })), 'INCOMPATIBLE_ALGORITHM');
    assert.equal(errorCode(await post('hmac/create', { input: 'AAAA', keyName: 'sym', algorithm: 'SHA256' })), 'INCOMPATIBLE_ALGORITHM');
  });

  it('answer malformed requests with a 4xx code, before touching a key', async (t) => {
    const { server, alice, post, generate } = await openVssmServer(t);
    await generate('foo', 'SYMMETRIC');
    const ok = { input: 'AAAA', keyName: 'foo', algorithm: 'AES/GCM/NoPadding' };
    const cases: [unknown, string][] = [
      [{ ...ok, extra: 1 }, 'MALFORMED_REQUEST'],
      [{ ...ok, input: 5 }, 'MALFORMED_REQUEST'],
      [{ ...ok, keyName: ['foo'] }, 'MALFORMED_REQUEST'],
      [{ ...ok, input: 'not base64!' }, 'MALFORMED_REQUEST'],
      [{ ...ok, input: 'AAAAA' }, 'INVALID_ARGUMENT'],
      [{ ...ok, input: 'AB==' }, 'INVALID_ARGUMENT'],
      [{ ...ok, key_name: 'foo' }, 'MALFORMED_REQUEST'],
      [{ input: 'AAAA', algorithm: 'AES/GCM/NoPadding' }, 'INVALID_ARGUMENT'],
      [{ ...ok, keyName: 'no spaces allowed' }, 'INVALID_ARGUMENT'],
      [{ ...ok, algorithm: '' }, 'INVALID_ARGUMENT'],
      [[ok], 'MALFORMED_REQUEST'],
    ];
    for (const [body, code] of cases) {
      const reply = await post('symmetric/encrypt', body);
      assert.ok(reply.status >= 400 && reply.status < 500, JSON.stringify(body));
      assert.equal(errorCode(reply), code, JSON.stringify(body));
    }
    assert.equal(errorCode(await server.call('POST', '/REST/v1/symmetric/encrypt', { token: alice, body: 'input=AAAA', headers: { 'content-type': 'text/plain' } })), 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal(errorCode(await server.call('POST', '/REST/v1/symmetric/encrypt', { token: alice, body: '{"input":', headers: { 'content-type': 'application/json' } })), 'MALFORMED_REQUEST');
    assert.equal(errorCode(await server.call('GET', '/REST/v1/symmetric/encrypt', { token: alice })), 'METHOD_NOT_ALLOWED');
    assert.equal(errorCode(await server.call('POST', '/REST/v1/symmetric/encrypt', { body: ok })), 'AUTH_REQUIRED');
    assert.equal(errorCode(await server.call('POST', '/REST/v1/symmetric/encrypt', { token: 'forged', body: ok })), 'AUTH_FAILED');
    assert.equal(errorCode(await server.call('POST', '/REST/v1/admin/bootstrap', { token: alice, body: { rpcPrivateKey: 'AAAA' } })), 'ROUTE_NOT_FOUND');
  });
});

function good(kind: 'symmetric' | 'asymmetric' | 'signature' | 'hmac'): string {
  return { symmetric: 'AES/GCM/NoPadding', asymmetric: 'RSA-OAEP/SHA256', signature: 'SHA256withECDSA', hmac: 'SHA256' }[kind];
}
