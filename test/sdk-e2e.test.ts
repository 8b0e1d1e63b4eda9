// The SDK against a real node over mutual TLS on loopback: domain init and a 2-of-2 unseal by
// custodians through the SDK, the first officer, projects and principals, keys and their life cycle,
// every crypto operation single and batched, and the refusals as typed errors with their codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { createCustodianKeyPair } from '../src/barrier/index.ts';
import { CofferApiError, type KeyMetadata } from '../src/client/index.ts';
import { startReadyNode, startTlsNode, USER_PASSWORD } from './tls-node-kit.ts';

/** Asserts an SDK call fails with this code (and the API's error details). */
async function refused(call: Promise<unknown>, code: string, status?: number): Promise<CofferApiError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CofferApiError, `expected CofferApiError ${code}, got ${String(error)}`);
  assert.equal(error.code, code);
  if (status !== undefined) assert.equal(error.status, status);
  assert.ok(error.requestId !== undefined && error.requestId.length > 0, 'the node request id');
  return error;
}

describe('the SDK against a real node over mutual TLS', () => {
  it('initialises and unseals the domain with custodians, then the first officer manages identities', async (t) => {
    const node = await startTlsNode(t);
    const anonymous = node.client();
    assert.equal((await anonymous.domain.status()).state, 'UNINITIALIZED');
    await refused(anonymous.keys.list(), 'DOMAIN_UNINITIALIZED', 503);

    const custodians = [createCustodianKeyPair(), createCustodianKeyPair()];
    const descriptor = await anonymous.domain.init({
      custodians: custodians.map((c, i) => ({ name: `custodian-${i}`, publicKey: c.publicKey })), threshold: 2,
      initialOfficer: { name: 'olivia', certificateFingerprint: node.pki.officer.fingerprint },
    });
    assert.equal(descriptor.custodians.length, 2);
    await refused(anonymous.domain.init({ custodians: [{ name: 'x', publicKey: custodians[0]?.publicKey ?? '' }], threshold: 1, initialOfficer: { name: 'eve', certificateFingerprint: node.pki.user.fingerprint } }), 'DOMAIN_ALREADY_INITIALIZED', 409);
    await refused(anonymous.keys.list(), 'DOMAIN_SEALED', 503);

    const [first, second] = custodians;
    assert.ok(first !== undefined && second !== undefined);
    // A key that is not this custodian's cannot open the share; nothing is submitted.
    await assert.rejects(anonymous.domain.unsealAsCustodian({ privateKey: createCustodianKeyPair().privateKey, publicKey: first.publicKey }), { code: 'UNSEAL_SHARE_INVALID' });
    assert.deepEqual(await anonymous.domain.unsealAsCustodian(first), { state: 'SEALED', received: 1, threshold: 2 });
    await refused(anonymous.domain.unsealAsCustodian(first), 'UNSEAL_SHARE_DUPLICATE', 409);
    assert.equal((await anonymous.domain.unsealAsCustodian({ privateKey: second.privateKey, custodianId: descriptor.custodians[1]?.id ?? '' })).state, 'UNSEALED');
    await refused(anonymous.domain.unsealSession(), 'DOMAIN_ALREADY_UNSEALED', 409);

    const officer = node.client(node.pki.officer);
    const me = await officer.auth.whoami();
    assert.equal(me.name, 'olivia');
    assert.equal(me.role, 'officer');
    for (const name of ['alpha', 'beta', 'gamma']) await officer.projects.create({ name });
    await refused(officer.projects.create({ name: 'alpha' }), 'PROJECT_ALREADY_EXISTS', 409);
    const ursula = await officer.principals.create({ name: 'ursula', role: 'user', projects: ['alpha'], certificates: [{ fingerprint: node.pki.user.fingerprint }], password: USER_PASSWORD });
    assert.equal(ursula.hasPassword, true);
    await officer.principals.create({ name: 'sam', role: 'service', projects: ['beta'] });
    assert.deepEqual((await officer.principals.update('sam', { projects: ['beta', 'gamma'] })).projects, ['beta', 'gamma']);
    await officer.principals.setPassword('sam', 'another long password');

    // The iterator follows `next` across pages until the listing ends.
    const projects: string[] = [];
    for await (const project of officer.projects.listAll({ limit: 2 })) projects.push(project.name);
    assert.deepEqual(projects, ['alpha', 'beta', 'gamma']);
    const page = await officer.projects.list({ limit: 2 });
    assert.equal(page.items.length, 2);
    assert.equal(page.next, 'beta');
    const principals: string[] = [];
    for await (const p of officer.principals.listAll({ limit: 1 })) principals.push(p.name);
    assert.deepEqual(principals, ['olivia', 'sam', 'ursula']);
    assert.equal((await officer.principals.get('sam')).role, 'service');
    await officer.principals.delete('sam');
    await refused(officer.principals.get('sam'), 'PRINCIPAL_NOT_FOUND', 404);
    // Key policies name principals, so a deleted principal's name is never given out again.
    await refused(officer.principals.create({ name: 'sam', role: 'service', projects: ['beta'] }), 'PRINCIPAL_ALREADY_EXISTS', 409);
    await officer.projects.delete('gamma');
    await refused(officer.projects.get('gamma'), 'PROJECT_NOT_FOUND', 404);

    // Sealing ends the API for everyone but the custodians.
    assert.equal((await officer.domain.seal()).state, 'SEALED');
    await refused(officer.auth.whoami(), 'DOMAIN_SEALED', 503);
  });

  it('manages keys and runs every crypto operation, single and batched', async (t) => {
    const node = await startReadyNode(t);
    const user = node.client(node.pki.user);
    const create = (name: string, spec: KeyMetadata['spec'], usage: KeyMetadata['usage']): Promise<KeyMetadata> => user.keys.create({ project: 'alpha', name, spec, usage });
    const aes = await create('aes', 'AES_256', 'ENCRYPT_DECRYPT');
    const aes2 = await create('aes-2', 'AES_256', 'ENCRYPT_DECRYPT');
    const ec = await create('ec', 'EC_P256', 'SIGN_VERIFY');
    const hmac = await create('hmac', 'HMAC_256', 'GENERATE_VERIFY_MAC');
    await create('ed', 'ED25519', 'SIGN_VERIFY');
    await refused(create('aes', 'AES_256', 'ENCRYPT_DECRYPT'), 'KEY_ALREADY_EXISTS', 409);
    assert.equal((await user.keys.get('alpha/aes')).id, aes.id);
    assert.equal((await user.keys.get(aes.id)).name, 'aes');
    await refused(user.keys.get('alpha/missing'), 'KEY_NOT_FOUND', 404);
    const names: string[] = [];
    for await (const key of user.keys.listAll({ limit: 2 })) names.push(key.name);
    assert.deepEqual(names, ['aes', 'aes-2', 'ec', 'ed', 'hmac']);
    assert.deepEqual((await user.keys.list({ project: 'alpha', spec: 'AES_256' })).items.map((k) => k.name), ['aes', 'aes-2']);

    // encrypt / decrypt with an encryption context; binary-safe both ways.
    const plaintext = Buffer.concat([randomBytes(64), Buffer.from([0, 10, 13, 255])]);
    const context = { purpose: 'e2e' };
    const encrypted = await user.crypto.encrypt({ keyId: 'alpha/aes', plaintext, context });
    assert.equal(encrypted.keyId, aes.id);
    assert.ok(Buffer.isBuffer(encrypted.ciphertext));
    assert.deepEqual((await user.crypto.decrypt({ ciphertext: encrypted.ciphertext, context })).plaintext, plaintext);
    await refused(user.crypto.decrypt({ ciphertext: encrypted.ciphertext }), 'CRYPTO_DECRYPT_FAILED', 400);
    const moved = await user.crypto.reEncrypt({ ciphertext: encrypted.ciphertext, sourceContext: context, keyId: aes2.id });
    assert.equal(moved.sourceKeyId, aes.id);
    assert.deepEqual((await user.crypto.decrypt({ ciphertext: moved.ciphertext })).plaintext, plaintext);
    const dataKey = await user.crypto.generateDataKey({ keyId: aes.id, bytes: 32 });
    assert.equal(dataKey.plaintext?.length, 32);
    assert.deepEqual((await user.crypto.decrypt({ ciphertext: dataKey.ciphertext })).plaintext, dataKey.plaintext);
    assert.equal((await user.crypto.generateDataKey({ keyId: aes.id, withoutPlaintext: true })).plaintext, undefined);

    // sign / verify (message and digest), checked against the public key with node:crypto.
    const message = Buffer.from('release 1.2.3');
    const signed = await user.crypto.sign({ keyId: 'alpha/ec', algorithm: 'ECDSA_SHA_256', message });
    assert.equal((await user.crypto.verify({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message, signature: signed.signature })).valid, true);
    assert.equal((await user.crypto.verify({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message: 'other', signature: signed.signature })).valid, false);
    const digest = createHash('sha256').update(message).digest();
    const fromDigest = await user.crypto.sign({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', digest });
    const publicKey = await user.keys.publicKey('alpha/ec');
    assert.ok(publicKey.pem.startsWith('-----BEGIN PUBLIC KEY-----'));
    const spki = createPublicKey({ key: publicKey.der, format: 'der', type: 'spki' });
    assert.ok(verifySignature('sha256', message, spki, fromDigest.signature));
    await refused(user.crypto.sign({ keyId: 'alpha/ed', algorithm: 'ED25519', digest }), 'DIGEST_NOT_SUPPORTED', 400);
    await refused(user.crypto.sign({ keyId: 'alpha/aes', algorithm: 'ECDSA_SHA_256', message }), 'INCOMPATIBLE_ALGORITHM', 400);
    await refused(user.crypto.mac({ keyId: 'alpha/aes', message }), 'KEY_USAGE_NOT_ALLOWED', 400);

    // mac / verify-mac, random.
    const mac = await user.crypto.mac({ keyId: hmac.id, message });
    assert.equal(mac.mac.length, 32);
    assert.equal((await user.crypto.verifyMac({ keyId: 'alpha/hmac', message, mac: mac.mac })).valid, true);
    assert.equal((await user.crypto.verifyMac({ keyId: 'alpha/hmac', message: 'tampered', mac: mac.mac })).valid, false);
    assert.equal((await user.crypto.random(48)).length, 48);

    // Batches: one result per item, in order; a failed item has its own typed error.
    const batch = await user.crypto.encryptBatch([{ keyId: 'alpha/aes', plaintext: 'one' }, { keyId: 'alpha/missing', plaintext: 'two' }, { keyId: aes2.id, plaintext: 'three' }]);
    assert.deepEqual(batch.map((r) => r.ok), [true, false, true]);
    const failed = batch[1];
    assert.ok(failed !== undefined && !failed.ok);
    assert.ok(failed.error instanceof CofferApiError);
    assert.equal(failed.error.code, 'KEY_NOT_FOUND');
    assert.equal(failed.error.status, 404);
    const ciphertexts = batch.flatMap((r) => (r.ok ? [r.ciphertext] : []));
    const decrypted = await user.crypto.decryptBatch(ciphertexts.map((ciphertext) => ({ ciphertext })));
    assert.deepEqual(decrypted.map((r) => (r.ok ? r.plaintext.toString() : r.error.code)), ['one', 'three']);
    const signatures = await user.crypto.signBatch([{ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message: 'a' }, { keyId: ec.id, algorithm: 'ECDSA_SHA_256', message: 'b' }]);
    const verdicts = await user.crypto.verifyBatch(signatures.map((s, i) => ({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message: i === 0 ? 'a' : 'wrong', signature: s.ok ? s.signature : Buffer.alloc(0) })));
    assert.deepEqual(verdicts.map((v) => v.ok && v.valid), [true, false]);
    const macs = await user.crypto.macBatch([{ keyId: hmac.id, message: 'x' }]);
    assert.equal((await user.crypto.verifyMacBatch(macs.map((m) => ({ keyId: hmac.id, message: 'x', mac: m.ok ? m.mac : Buffer.alloc(0) }))))[0]?.ok, true);
    assert.equal((await user.crypto.generateDataKeyBatch([{ keyId: aes.id }])).length, 1);
    assert.equal((await user.crypto.reEncryptBatch([{ ciphertext: moved.ciphertext, keyId: aes.id }]))[0]?.ok, true);

    // Life cycle.
    assert.equal((await user.keys.rotate('alpha/aes')).currentVersion, 2);
    assert.equal((await user.keys.update(aes.id, { description: 'rotated', tags: { team: 'e2e' } })).description, 'rotated');
    assert.equal((await user.keys.disable(aes.id)).state, 'DISABLED');
    await refused(user.crypto.encrypt({ keyId: aes.id, plaintext: 'x' }), 'KEY_DISABLED', 409);
    assert.equal((await user.keys.enable('alpha/aes')).state, 'ENABLED');
    assert.equal((await user.keys.scheduleDeletion('alpha/aes-2', 7)).state, 'PENDING_DELETION');
    assert.equal((await user.keys.cancelDeletion(aes2.id)).state, 'DISABLED');
    const officer = node.client(node.pki.officer);
    await officer.principals.create({ name: 'sam', role: 'service', projects: ['alpha'] });
    assert.deepEqual((await user.keys.share(ec.id, 'sam')).sharedWith, ['sam']);
    assert.deepEqual((await user.keys.unshare('alpha/ec', 'sam')).sharedWith, []);
  });

  it('refuses callers without a trusted, active identity, and logs in with a password', async (t) => {
    const node = await startReadyNode(t);
    const anonymous = node.client();
    await refused(anonymous.auth.whoami(), 'AUTH_REQUIRED', 401);
    await refused(anonymous.auth.login('ursula', 'wrong password here'), 'AUTH_FAILED', 401);
    const issued = await anonymous.auth.login('ursula', USER_PASSWORD);
    assert.equal(issued.principal.name, 'ursula');
    assert.equal((await anonymous.auth.whoami()).name, 'ursula');
    await anonymous.auth.logout();
    await refused(anonymous.auth.whoami(), 'AUTH_REQUIRED', 401);
    await refused(node.client(undefined, { token: issued.token }).auth.whoami(), 'AUTH_FAILED', 401);

    // A certificate from another CA is refused even though TLS let it through to say so.
    const { ensureDevPki } = await import('../src/pki/index.ts');
    const foreign = await ensureDevPki(`${node.dir}/foreign`);
    await refused(node.client(foreign.user).auth.whoami(), 'AUTH_CERTIFICATE_UNTRUSTED', 401);

    // A user cannot manage principals; an officer cannot use keys.
    const user = node.client(node.pki.user);
    const officer = node.client(node.pki.officer);
    await refused(user.principals.create({ name: 'mallory', role: 'officer' }), 'ACCESS_DENIED', 403);
    await user.keys.create({ project: 'alpha', name: 'ec', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    await refused(officer.crypto.sign({ keyId: 'alpha/ec', algorithm: 'ECDSA_SHA_256', message: 'x' }), 'KEY_NOT_FOUND', 404);

    // A disabled (revoked) principal is refused on its certificate, its open connection included.
    assert.equal((await user.crypto.sign({ keyId: 'alpha/ec', algorithm: 'ECDSA_SHA_256', message: 'x' })).keyVersion, 1);
    await officer.principals.update('ursula', { status: 'DISABLED' });
    await refused(user.crypto.sign({ keyId: 'alpha/ec', algorithm: 'ECDSA_SHA_256', message: 'x' }), 'AUTH_FAILED', 401);
    await refused(node.client(node.pki.user).auth.whoami(), 'AUTH_FAILED', 401);
  });
});
