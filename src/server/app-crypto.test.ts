// Crypto operations through the API, single and batched: signatures checked by openssl with the
// public key the API serves, ciphertexts round-tripped, and every batch item audited on its own.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openssl, ScratchDir } from '../core/algorithms/openssl-test-kit.ts';
import { createPrincipal, errorCode, openTestServer, type TestServer } from './server-test-kit.ts';

const scratch = new ScratchDir();
after(() => {
  scratch.remove();
});

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

async function newKey(server: TestServer, token: string, name: string, spec: string, usage: string): Promise<string> {
  const reply = await server.call('POST', '/v1/keys', { token, body: { project: 'alpha', name, spec, usage } });
  assert.equal(reply.status, 201, reply.text);
  return String(reply.body['id']);
}

function journal(server: TestServer): Record<string, unknown>[] {
  return readFileSync(server.node.journalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => 'operation' in e);
}

describe('crypto routes', () => {
  it('sign ECDSA P-256 (DER) and RSA-PSS signatures that openssl verifies with the served public key', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    const message = Buffer.from('release 1.2.3 artefact');
    const cases = [
      { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', sigopts: [] as string[] },
      { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256', sigopts: ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] },
    ];
    for (const { spec, algorithm, sigopts } of cases) {
      const keyId = await newKey(server, alice, spec.toLowerCase(), spec, 'SIGN_VERIFY');
      const pem = String((await server.call('GET', `/v1/keys/${keyId}/public-key`, { token: alice })).body['pem']);
      const signed = await server.call('POST', '/v1/crypto/sign', { token: alice, body: { keyId, algorithm, message: b64(message) } });
      assert.equal(signed.status, 200, signed.text);
      assert.equal(signed.body['keyVersion'], 1);
      const signature = Buffer.from(String(signed.body['signature']), 'base64');
      const pub = scratch.write(Buffer.from(pem), 'pub.pem');
      const sig = scratch.write(signature, 'sig');
      const verify = (data: Buffer) => openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, ...sigopts, scratch.write(data, 'msg')]).ok;
      assert.equal(verify(message), true, `openssl verifies the ${spec} signature`);
      assert.equal(verify(Buffer.from('release 1.2.4 artefact')), false, 'and refuses another message');

      // A digest computed by the caller signs the same message.
      const digest = createHash('sha256').update(message).digest();
      const byDigest = await server.call('POST', '/v1/crypto/sign', { token: alice, body: { keyId, algorithm, digest: b64(digest) } });
      const digestSig = scratch.write(Buffer.from(String(byDigest.body['signature']), 'base64'), 'sig');
      assert.equal(openssl(['dgst', '-sha256', '-verify', pub, '-signature', digestSig, ...sigopts, scratch.write(message, 'msg')]).ok, true);

      const good = await server.call('POST', '/v1/crypto/verify', { token: alice, body: { keyId, algorithm, message: b64(message), signature: signed.body['signature'] } });
      assert.deepEqual(good.body, { valid: true, keyId, keyVersion: 1 });
      const bad = await server.call('POST', '/v1/crypto/verify', { token: alice, body: { keyId, algorithm, message: b64('other'), signature: signed.body['signature'] } });
      assert.deepEqual(bad.body, { valid: false, keyId });
    }
    const ec = 'alpha/ec_p256';
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign', { token: alice, body: { keyId: ec, algorithm: 'ECDSA_SHA_256', digest: b64(Buffer.alloc(20)) } })), 'INVALID_DIGEST');
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign', { token: alice, body: { keyId: ec, algorithm: 'ECDSA_SHA_256' } })), 'INVALID_ARGUMENT');
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign', { token: alice, body: { keyId: ec, algorithm: 'RSASSA_PSS_SHA_256', message: 'AA==' } })), 'INCOMPATIBLE_ALGORITHM');
    const ed = await newKey(server, alice, 'ed', 'ED25519', 'SIGN_VERIFY');
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign', { token: alice, body: { keyId: ed, algorithm: 'ED25519', digest: b64(Buffer.alloc(32)) } })), 'DIGEST_NOT_SUPPORTED');
  });

  it('encrypt, decrypt, re-encrypt, data keys, MACs and random bytes', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    const officer = await server.login('olivia');
    const one = await newKey(server, alice, 'one', 'AES_256', 'ENCRYPT_DECRYPT');
    const two = await newKey(server, alice, 'two', 'AES_256', 'ENCRYPT_DECRYPT');
    const context = { purpose: 'test', tenant: 'a' };

    const sealed = await server.call('POST', '/v1/crypto/encrypt', { token: alice, body: { keyId: 'alpha/one', plaintext: b64('secret'), context } });
    assert.equal(sealed.status, 200, sealed.text);
    assert.equal(sealed.body['keyId'], one);
    assert.equal(sealed.body['algorithm'], 'AES_256_GCM');
    const ciphertext = String(sealed.body['ciphertext']);
    const opened = await server.call('POST', '/v1/crypto/decrypt', { token: alice, body: { ciphertext, context: { tenant: 'a', purpose: 'test' } } });
    assert.equal(Buffer.from(String(opened.body['plaintext']), 'base64').toString(), 'secret');
    for (const body of [{ ciphertext }, { ciphertext, context: { purpose: 'other', tenant: 'a' } }, { ciphertext, context, keyId: two }, { ciphertext: b64('not a ciphertext') }]) {
      const refused = await server.call('POST', '/v1/crypto/decrypt', { token: alice, body });
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.body, { error: { code: 'CRYPTO_DECRYPT_FAILED', message: 'decryption failed' } });
    }

    const moved = await server.call('POST', '/v1/crypto/re-encrypt', { token: alice, body: { ciphertext, sourceContext: context, keyId: two, context: { v: '2' } } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body['keyId'], two);
    assert.equal(moved.body['sourceKeyId'], one);
    assert.equal(moved.body['sourceKeyVersion'], 1);
    const reopened = await server.call('POST', '/v1/crypto/decrypt', { token: alice, body: { ciphertext: moved.body['ciphertext'], context: { v: '2' } } });
    assert.equal(Buffer.from(String(reopened.body['plaintext']), 'base64').toString(), 'secret');
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/re-encrypt', { token: alice, body: { ciphertext, keyId: two } })), 'CRYPTO_DECRYPT_FAILED');
    const operations = journal(server).filter((e) => e['requestId'] === moved.headers['x-request-id']).map((e) => e['operation']);
    assert.deepEqual(operations, ['crypto.decrypt', 'crypto.encrypt'], 're-encryption is audited as both steps');

    const dataKey = await server.call('POST', '/v1/crypto/data-key', { token: alice, body: { keyId: one, bytes: 32 } });
    const plaintext = Buffer.from(String(dataKey.body['plaintext']), 'base64');
    assert.equal(plaintext.length, 32);
    const unwrapped = await server.call('POST', '/v1/crypto/decrypt', { token: alice, body: { ciphertext: dataKey.body['ciphertext'] } });
    assert.equal(unwrapped.body['plaintext'], dataKey.body['plaintext']);
    const blind = await server.call('POST', '/v1/crypto/data-key', { token: alice, body: { keyId: one, withoutPlaintext: true } });
    assert.equal('plaintext' in blind.body, false);

    const hmac = await newKey(server, alice, 'hmac', 'HMAC_256', 'GENERATE_VERIFY_MAC');
    const mac = await server.call('POST', '/v1/crypto/mac', { token: alice, body: { keyId: hmac, message: b64('m') } });
    assert.equal(Buffer.from(String(mac.body['mac']), 'base64').length, 32);
    assert.equal((await server.call('POST', '/v1/crypto/verify-mac', { token: alice, body: { keyId: hmac, message: b64('m'), mac: mac.body['mac'] } })).body['valid'], true);
    assert.deepEqual((await server.call('POST', '/v1/crypto/verify-mac', { token: alice, body: { keyId: hmac, message: b64('n'), mac: mac.body['mac'] } })).body, { valid: false, keyId: hmac });
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/mac', { token: alice, body: { keyId: one, message: b64('m') } })), 'KEY_USAGE_NOT_ALLOWED');

    const random = await server.call('POST', '/v1/crypto/random', { token: alice, body: { bytes: 16 } });
    assert.equal(Buffer.from(String(random.body['random']), 'base64').length, 16);
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/random', { token: alice, body: { bytes: 2000 } })), 'MALFORMED_REQUEST');
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/encrypt', { token: officer, body: { keyId: one, plaintext: b64('x') } })), 'KEY_NOT_FOUND');
  });

  it('batches answer one result per item, in order, each authorised and audited', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    const ec = await newKey(server, alice, 'ec', 'EC_P256', 'SIGN_VERIFY');
    const aes = await newKey(server, alice, 'aes', 'AES_256', 'ENCRYPT_DECRYPT');
    const items = [
      { keyId: ec, algorithm: 'ECDSA_SHA_256', message: b64('a') },
      { keyId: 'alpha/missing', algorithm: 'ECDSA_SHA_256', message: b64('b') },
      { keyId: aes, algorithm: 'ECDSA_SHA_256', message: b64('c') },
      { keyId: ec, algorithm: 'ECDSA_SHA_256', message: b64('d'), format: 'RAW' },
    ];
    const reply = await server.call('POST', '/v1/crypto/sign/batch', { token: alice, body: { items }, headers: { 'x-request-id': 'batch-1' } });
    assert.equal(reply.status, 200, reply.text);
    const results = reply.body['results'] as Record<string, unknown>[];
    assert.deepEqual(results.map((r) => r['ok']), [true, false, false, true]);
    assert.deepEqual(results[1], { ok: false, error: { code: 'KEY_NOT_FOUND', message: 'key not found' } });
    assert.equal((results[2]?.['error'] as Record<string, unknown>)['code'], 'INCOMPATIBLE_ALGORITHM');
    assert.equal(Buffer.from(String(results[3]?.['signature']), 'base64').length, 64, 'raw r||s');
    const audited = journal(server).filter((e) => e['requestId'] === 'batch-1');
    assert.deepEqual(audited.map((e) => e['outcome']).sort(), ['ALLOWED', 'ALLOWED', 'FAILED', 'FAILED']);

    // A batch may be larger than a single request's body limit (256 KiB), up to its own (4 MiB).
    const big = Array.from({ length: 200 }, (_, i) => ({ keyId: aes, plaintext: b64(Buffer.alloc(2048, i)) }));
    const encrypted = await server.call('POST', '/v1/crypto/encrypt/batch', { token: alice, body: { items: big } });
    assert.equal(encrypted.status, 200);
    const ciphertexts = (encrypted.body['results'] as { ciphertext: string }[]).map((r) => ({ ciphertext: r.ciphertext }));
    const decrypted = await server.call('POST', '/v1/crypto/decrypt/batch', { token: alice, body: { items: ciphertexts } });
    const plain = (decrypted.body['results'] as { plaintext: string }[]).map((r) => Buffer.from(r.plaintext, 'base64')[0]);
    assert.deepEqual(plain, big.map((_, i) => i % 256));

    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign/batch', { token: alice, body: { items: [] } })), 'MALFORMED_REQUEST');
    const tooMany = Array.from({ length: 1001 }, () => items[0]);
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign/batch', { token: alice, body: { items: tooMany } })), 'MALFORMED_REQUEST');
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign/batch', { token: alice, body: { items: [{ ...items[0], extra: 1 }] } })), 'MALFORMED_REQUEST');
    assert.equal((await server.call('POST', '/v1/crypto/random/batch', { token: alice, body: { items: [{ bytes: 1 }] } })).status, 404);
  });
});
