// Key management through the API: create and import, list with filters and a cursor, describe by
// id or name, update, the life-cycle actions, sharing and public keys. Codes, not messages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPrincipal, errorCode, openTestServer } from './server-test-kit.ts';

type Key = Record<string, unknown> & { id: string; name: string; state: string };

describe('key routes', () => {
  it('create, find, list, update and run the life cycle', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user', ['alpha']);
    const bob = await createPrincipal(server, 'bob', 'user', ['beta']);
    const officer = await server.login('olivia');
    const create = (body: Record<string, unknown>, token = alice) => server.call('POST', '/v1/keys', { token, body: { project: 'alpha', ...body } });

    const created = await create({ name: 'signing', spec: 'EC_P256', usage: 'SIGN_VERIFY', description: 'release signing', tags: { team: 'build' } });
    assert.equal(created.status, 201, created.text);
    const key = created.body as Key;
    assert.equal(key.state, 'ENABLED');
    assert.equal(key['owner'], 'alice');
    assert.equal(key['exportable'], false);
    assert.equal('material' in key || 'versions' in key && JSON.stringify(key['versions']).includes('material'), false);
    assert.equal(errorCode(await create({ name: 'signing', spec: 'EC_P256', usage: 'SIGN_VERIFY' })), 'KEY_ALREADY_EXISTS');
    assert.equal(errorCode(await create({ name: 'des', spec: 'DES_3', usage: 'ENCRYPT_DECRYPT' })), 'UNSUPPORTED_ALGORITHM');
    assert.equal(errorCode(await create({ name: 'odd', spec: 'EC_P256', usage: 'ENCRYPT_DECRYPT' })), 'KEY_USAGE_NOT_ALLOWED');
    assert.equal(errorCode(await create({ name: 'x', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, bob)), 'ACCESS_DENIED');
    assert.equal(errorCode(await create({ name: 'x', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, officer)), 'ACCESS_DENIED');
    for (const name of ['aes-1', 'aes-2', 'hmac']) {
      const reply = await create({ name, spec: name === 'hmac' ? 'HMAC_256' : 'AES_256', usage: name === 'hmac' ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT' });
      assert.equal(reply.status, 201);
    }

    assert.equal((await server.call('GET', `/v1/keys/${key.id}`, { token: alice })).body['name'], 'signing');
    assert.equal((await server.call('GET', '/v1/projects/alpha/keys/signing', { token: alice })).body['id'], key.id);
    const hidden = await server.call('GET', `/v1/keys/${key.id}`, { token: bob });
    assert.equal(hidden.status, 404);
    assert.equal(errorCode(hidden), 'KEY_NOT_FOUND');

    // Listing: the caller's default project, a cursor, filters.
    const names = (reply: { body: Record<string, unknown> }) => (reply.body['keys'] as Key[]).map((k) => k.name);
    const first = await server.call('GET', '/v1/keys?limit=2', { token: alice });
    assert.deepEqual(names(first), ['aes-1', 'aes-2']);
    assert.equal(first.body['next'], 'aes-2');
    const second = await server.call('GET', `/v1/keys?limit=2&after=${first.body['next']}`, { token: alice });
    assert.deepEqual(names(second), ['hmac', 'signing']);
    assert.deepEqual(names(await server.call('GET', '/v1/keys?project=alpha&spec=AES_256', { token: alice })), ['aes-1', 'aes-2']);
    assert.equal(errorCode(await server.call('GET', '/v1/keys?project=alpha', { token: bob })), 'ACCESS_DENIED');
    assert.equal(errorCode(await server.call('GET', '/v1/keys?state=GONE', { token: alice })), 'MALFORMED_REQUEST');

    const updated = await server.call('PATCH', `/v1/keys/${key.id}`, { token: alice, body: { description: 'v2', tags: { team: 'release' } } });
    assert.equal(updated.body['description'], 'v2');
    assert.deepEqual(updated.body['tags'], { team: 'release' });
    assert.equal(errorCode(await server.call('PATCH', `/v1/keys/${key.id}`, { token: alice, body: { exportable: true } })), 'MALFORMED_REQUEST');

    const rotated = await server.call('POST', `/v1/keys/${key.id}/rotate`, { token: alice });
    assert.equal(rotated.body['currentVersion'], 2);
    const min = await server.call('POST', `/v1/keys/${key.id}/min-decrypt-version`, { token: alice, body: { version: 2 } });
    assert.equal(min.body['minDecryptVersion'], 2);
    assert.equal(errorCode(await server.call('POST', `/v1/keys/${key.id}/min-decrypt-version`, { token: alice, body: { version: 3 } })), 'INVALID_ARGUMENT');
    assert.equal(errorCode(await server.call('POST', `/v1/keys/${key.id}/rotate`, { token: bob })), 'KEY_NOT_FOUND');

    assert.equal((await server.call('POST', `/v1/keys/${key.id}/disable`, { token: alice })).body['state'], 'DISABLED');
    const sign = { keyId: key.id, algorithm: 'ECDSA_SHA_256', message: Buffer.from('x').toString('base64') };
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign', { token: alice, body: sign })), 'KEY_DISABLED');
    assert.equal((await server.call('POST', `/v1/keys/${key.id}/enable`, { token: alice })).body['state'], 'ENABLED');
    assert.equal(errorCode(await server.call('POST', `/v1/keys/${key.id}/cancel-deletion`, { token: alice })), 'INVALID_STATE_TRANSITION');
    assert.equal(errorCode(await server.call('POST', `/v1/keys/${key.id}/schedule-deletion`, { token: alice, body: { waitingDays: 3 } })), 'MALFORMED_REQUEST');
    const pending = await server.call('POST', `/v1/keys/${key.id}/schedule-deletion`, { token: alice, body: { waitingDays: 7 } });
    assert.equal(pending.body['state'], 'PENDING_DELETION');
    assert.ok(Date.parse(String(pending.body['deletionDate'])) > Date.now() + 6 * 86_400_000);
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/sign', { token: alice, body: sign })), 'KEY_PENDING_DELETION');
    assert.deepEqual(names(await server.call('GET', '/v1/keys?state=PENDING_DELETION', { token: alice })), ['signing']);
    assert.equal((await server.call('POST', `/v1/keys/${key.id}/cancel-deletion`, { token: alice })).body['state'], 'DISABLED');
    assert.equal((await server.call('POST', `/v1/keys/${key.id}/schedule-deletion`, { token: alice })).status, 200, 'no body: 30 days');

    // Sharing across projects: bob may use, never manage; unsharing takes it back.
    const aes = (await server.call('GET', '/v1/projects/alpha/keys/aes-1', { token: alice })).body as Key;
    const shared = await server.call('POST', `/v1/keys/${aes.id}/shares`, { token: alice, body: { principal: 'bob' } });
    assert.deepEqual(shared.body['sharedWith'], ['bob']);
    const encrypted = await server.call('POST', '/v1/crypto/encrypt', { token: bob, body: { keyId: aes.id, plaintext: 'aGk=' } });
    assert.equal(encrypted.status, 200);
    assert.equal(errorCode(await server.call('POST', `/v1/keys/${aes.id}/rotate`, { token: bob })), 'ACCESS_DENIED');
    const unshared = await server.call('DELETE', `/v1/keys/${aes.id}/shares/bob`, { token: alice });
    assert.deepEqual(unshared.body['sharedWith'], []);
    assert.equal(errorCode(await server.call('POST', '/v1/crypto/encrypt', { token: bob, body: { keyId: aes.id, plaintext: 'aGk=' } })), 'KEY_NOT_FOUND');
  });

  it('share only with an active principal: an unknown, deleted or disabled name is PRINCIPAL_NOT_FOUND, audited as key.share', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user', ['alpha']);
    const bob = await createPrincipal(server, 'bob', 'user', ['beta']);
    const mallory = await createPrincipal(server, 'mallory', 'user', ['alpha']);
    for (const name of ['dora', 'gone']) await createPrincipal(server, name, 'user', ['beta']);
    const officer = await server.login('olivia');
    assert.equal((await server.call('PATCH', '/v1/principals/dora', { token: officer, body: { status: 'DISABLED' } })).status, 200);
    assert.equal((await server.call('DELETE', '/v1/principals/gone', { token: officer })).status, 204);
    const key = (await server.call('POST', '/v1/keys', { token: alice, body: { project: 'alpha', name: 'k', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' } })).body as Key;
    const share = (principal: string, token = alice) => server.call('POST', `/v1/keys/${key.id}/shares`, { token, body: { principal } });

    for (const name of ['ghost', 'gone', 'dora']) {
      const refused = await share(name);
      assert.deepEqual([refused.status, errorCode(refused)], [404, 'PRINCIPAL_NOT_FOUND'], name);
    }
    const entries = readFileSync(server.node.journalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const refusals = entries.filter((e) => e['operation'] === 'key.share');
    assert.deepEqual(refusals.map((e) => [e['outcome'], e['errorCode'], e['keyId'], (e['detail'] as Record<string, unknown> | undefined)?.['principal']]),
      ['ghost', 'gone', 'dora'].map((name) => ['FAILED', 'PRINCIPAL_NOT_FOUND', key.id, name]));
    // Nobody but the key's manager learns whether a name exists: the key is refused first.
    assert.equal(errorCode(await share('ghost', bob)), 'KEY_NOT_FOUND');
    assert.equal(errorCode(await share('ghost', mallory)), 'ACCESS_DENIED');
    assert.deepEqual((await server.call('GET', `/v1/keys/${key.id}`, { token: alice })).body['sharedWith'], []);
    assert.deepEqual((await share('bob')).body['sharedWith'], ['bob']);
  });

  it('serve public keys and import key material wrapped under an RSA wrapping key', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user', ['alpha']);
    const wrapping = (await server.call('POST', '/v1/keys', { token: alice, body: { project: 'alpha', name: 'wrap', spec: 'RSA_2048', usage: 'WRAP_UNWRAP' } })).body as Key;
    const publicKey = await server.call('GET', `/v1/keys/${wrapping.id}/public-key`, { token: alice });
    assert.equal(publicKey.status, 200, publicKey.text);
    assert.match(String(publicKey.body['pem']), /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(publicKey.body['keyVersion'], 1);
    assert.equal(errorCode(await server.call('GET', `/v1/keys/${wrapping.id}/public-key?version=2`, { token: alice })), 'KEY_VERSION_NOT_FOUND');

    const material = randomBytes(32);
    const wrappedMaterial = publicEncrypt({ key: String(publicKey.body['pem']), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material).toString('base64');
    const imported = await server.call('POST', '/v1/keys', {
      token: alice,
      body: { project: 'alpha', name: 'imported', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', import: { wrappingKeyId: 'alpha/wrap', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedMaterial } },
    });
    assert.equal(imported.status, 201, imported.text);
    assert.deepEqual((imported.body['versions'] as { origin: string }[]).map((v) => v.origin), ['IMPORTED']);
    const garbage = await server.call('POST', '/v1/keys', {
      token: alice,
      body: { project: 'alpha', name: 'bad', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', import: { wrappingKeyId: wrapping.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedMaterial: randomBytes(256).toString('base64') } },
    });
    assert.equal(errorCode(garbage), 'CRYPTO_DECRYPT_FAILED');

    const aes = (await server.call('POST', '/v1/keys', { token: alice, body: { project: 'alpha', name: 'sym', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' } })).body as Key;
    assert.equal(errorCode(await server.call('GET', `/v1/keys/${aes.id}/public-key`, { token: alice })), 'INCOMPATIBLE_ALGORITHM');
  });
});
