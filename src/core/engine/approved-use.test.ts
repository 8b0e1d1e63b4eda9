// The engine's half of approvals for key use: the gate on guarded uses, single-use grants bound to
// key, use, version and input, and sealed material that opens only with the key-approval key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ApprovedUse, keyUseDigest, newKeyApprovalKey, type ApprovalHooks, type KeyUse } from './approved-use.ts';
import { alice, newEngine } from './engine-test-kit.ts';
import type { Caller } from './caller.ts';
import type { KeyApprovalPolicy } from '../key-record.ts';

const message = Buffer.from('release 2.0');
const approval = { threshold: 2, approvers: ['ann', 'bob', 'cy'] };

/**
 * The engine's seam for the key-use service (src/approvals/key-use implements it with Shamir and
 * HPKE): here it records what it was asked and keeps the key-approval key so a test can grant uses.
 */
class RecordingHooks implements ApprovalHooks {
  readonly checked: KeyApprovalPolicy[] = [];
  kak: Buffer | undefined;
  requireApprovers(policy: KeyApprovalPolicy): Promise<void> {
    this.checked.push(policy);
    return Promise.resolve();
  }
  seal(_keyId: string, policy: KeyApprovalPolicy): Promise<{ seal: { threshold: number; shares: [] }; kak: Buffer }> {
    const kak = newKeyApprovalKey();
    this.kak = Buffer.from(kak);
    return Promise.resolve({ seal: { threshold: policy.threshold, shares: [] }, kak });
  }
}

function granted(who: Caller, fields: { keyId: string; use: KeyUse; keyVersion?: number; inputDigest: string }, kak?: Uint8Array): Caller {
  return { ...who, approval: new ApprovedUse({ requestId: 'r-1', keyVersion: 1, ...fields }, kak) };
}

describe('approval for key use in the engine', () => {
  it('a guarded sign waits for a grant; the grant is bound to key, use, input and version and runs once', async () => {
    const { engine, audit } = newEngine();
    const hooks = new RecordingHooks();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'release', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval }, hooks);
    assert.deepEqual(key.approval, { threshold: 2, approvers: ['ann', 'bob', 'cy'], rejectionEnds: true, sealed: false });
    assert.equal(hooks.checked.length, 1);
    const request = { algorithm: 'ECDSA_SHA_256', message };
    await assert.rejects(engine.crypto.sign(alice, key.id, request), { code: 'APPROVAL_REQUIRED' });
    const inputDigest = keyUseDigest.sign({ message });
    await assert.rejects(engine.crypto.sign(granted(alice, { keyId: key.id, use: 'decrypt', inputDigest }), key.id, request), { code: 'APPROVAL_REQUIRED' });
    await assert.rejects(engine.crypto.sign(granted(alice, { keyId: key.id, use: 'sign', inputDigest: keyUseDigest.sign({ message: Buffer.from('other') }) }), key.id, request), { code: 'APPROVAL_MISMATCH' });
    await assert.rejects(engine.crypto.sign(granted(alice, { keyId: key.id, use: 'sign', inputDigest, keyVersion: 2 }), key.id, request), { code: 'APPROVAL_MISMATCH' });
    const once = granted(alice, { keyId: key.id, use: 'sign', inputDigest });
    const signed = await engine.crypto.sign(once, key.id, request);
    assert.ok((await engine.crypto.verify(alice, key.id, { ...request, signature: signed.signature })).valid);
    await assert.rejects(engine.crypto.sign(once, key.id, request), { code: 'APPROVAL_ALREADY_USED' });
    // A grant is never made from request data: a plain object in its place is no grant.
    const forged = { ...alice, approval: { keyId: key.id, use: 'sign', keyVersion: 1, inputDigest, consume: () => undefined } } as unknown as Caller;
    await assert.rejects(engine.crypto.sign(forged, key.id, request), { code: 'APPROVAL_REQUIRED' });
    const refusals = audit.events.filter((e) => e.operation === 'crypto.sign' && e.errorCode !== undefined).map((e) => e.errorCode);
    assert.deepEqual(refusals, ['APPROVAL_REQUIRED', 'APPROVAL_REQUIRED', 'APPROVAL_MISMATCH', 'APPROVAL_MISMATCH', 'APPROVAL_ALREADY_USED', 'APPROVAL_REQUIRED']);
  });

  it('a guarded decrypt and export need grants; encrypt, verify and the public key do not', async () => {
    const { engine } = newEngine();
    const hooks = new RecordingHooks();
    const rsa = await engine.keys.create(alice, { project: 'alpha', name: 'rsa', spec: 'RSA_2048', usage: 'ENCRYPT_DECRYPT', approval, exportable: true }, hooks);
    const { ciphertext } = await engine.crypto.encrypt(alice, rsa.id, Buffer.from('secret'));
    await assert.rejects(engine.crypto.decrypt(alice, ciphertext), { code: 'APPROVAL_REQUIRED' });
    const plain = await engine.crypto.decrypt(granted(alice, { keyId: rsa.id, use: 'decrypt', inputDigest: keyUseDigest.decrypt(ciphertext) }), ciphertext);
    assert.equal(plain.plaintext.toString(), 'secret');
    const wrapping = await engine.keys.create(alice, { project: 'alpha', name: 'kek', spec: 'AES_256', usage: 'WRAP_UNWRAP' });
    await assert.rejects(engine.crypto.wrapKey(alice, wrapping.id, rsa.id, { algorithm: 'AES_KWP' }), { code: 'APPROVAL_REQUIRED' });
    const exported = await engine.crypto.wrapKey(granted(alice, { keyId: rsa.id, use: 'export', inputDigest: keyUseDigest.export(wrapping.id, 'AES_KWP') }), wrapping.id, rsa.id, { algorithm: 'AES_KWP' });
    assert.equal(exported.targetKeyId, rsa.id);
  });

  it('a sealed key keeps no plaintext material: it signs only with the key-approval key, verifies without it', async () => {
    const { engine, repository } = newEngine();
    const hooks = new RecordingHooks();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'root', spec: 'ED25519', usage: 'SIGN_VERIFY', approval: { ...approval, sealed: true } }, hooks);
    const stored = await repository.get(key.id);
    assert.ok(stored?.record.seal !== undefined);
    assert.ok(stored.record.versions.every((v) => v.material === undefined && v.sealedMaterial !== undefined));
    const inputDigest = keyUseDigest.sign({ message });
    const request = { algorithm: 'ED25519', message };
    await assert.rejects(engine.crypto.sign(alice, key.id, request), { code: 'APPROVAL_REQUIRED' });
    await assert.rejects(engine.crypto.sign(granted(alice, { keyId: key.id, use: 'sign', inputDigest }), key.id, request), { code: 'APPROVAL_SHARE_INVALID' });
    await assert.rejects(engine.crypto.sign(granted(alice, { keyId: key.id, use: 'sign', inputDigest }, newKeyApprovalKey()), key.id, request), { code: 'APPROVAL_SHARE_INVALID' });
    const kak = hooks.kak ?? assert.fail('no key-approval key');
    const signed = await engine.crypto.sign(granted(alice, { keyId: key.id, use: 'sign', inputDigest }, kak), key.id, request);
    const pub = await engine.crypto.getPublicKey(alice, key.id);
    assert.ok(nodeVerify(null, message, createPublicKey(pub.pem), signed.signature));
    assert.ok((await engine.crypto.verify(alice, key.id, { ...request, signature: signed.signature })).valid);
  });

  it('only asymmetric keys can be sealed; approval policies are validated', async () => {
    const { engine } = newEngine();
    const hooks = new RecordingHooks();
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'aes', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', approval: { ...approval, sealed: true } }, hooks), { code: 'INVALID_ARGUMENT' });
    for (const bad of [{ threshold: 0, approvers: ['ann'] }, { threshold: 2, approvers: ['ann'] }, { threshold: 1, approvers: [] }, { threshold: 1, approvers: ['ann', 'ann'] }, { threshold: 1, approvers: ['ann'], extra: 1 }]) {
      await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: bad }, hooks), { code: 'INVALID_ARGUMENT' });
    }
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval }), { code: 'INVALID_ARGUMENT' });
  });

  it('a sealed key rotates and changes approvers only with its approvers’ grant; unsealing restores plain material', async () => {
    const { engine, repository } = newEngine();
    const hooks = new RecordingHooks();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'sealed', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { ...approval, sealed: true } }, hooks);
    const kak1 = Buffer.from(hooks.kak ?? assert.fail('no key-approval key'));
    await assert.rejects(engine.keys.rotate(alice, key.id), { code: 'APPROVAL_REQUIRED' });
    const rotated = await engine.keys.rotate(granted(alice, { keyId: key.id, use: 'rotate', inputDigest: keyUseDigest.rotate(key.id, 1) }, kak1), key.id);
    assert.equal(rotated.currentVersion, 2);
    const next = { threshold: 1, approvers: ['dee'], rejectionEnds: false, sealed: true };
    await assert.rejects(engine.keys.changeApprovers(alice, key.id, next, hooks), { code: 'APPROVAL_REQUIRED' });
    const changed = await engine.keys.changeApprovers(granted(alice, { keyId: key.id, use: 'change-approvers', keyVersion: 2, inputDigest: keyUseDigest.changeApprovers(next) }, kak1), key.id, next, hooks);
    assert.deepEqual(changed.approval, next);
    const kak2 = Buffer.from(hooks.kak ?? assert.fail('no key-approval key'));
    assert.ok(!kak2.equals(kak1));
    const inputDigest = keyUseDigest.sign({ message });
    const request = { algorithm: 'ECDSA_SHA_256', message };
    // Both versions were re-sealed: the old key-approval key opens nothing any more.
    await assert.rejects(engine.crypto.sign(granted(alice, { keyId: key.id, use: 'sign', keyVersion: 2, inputDigest }, kak1), key.id, request), { code: 'APPROVAL_SHARE_INVALID' });
    await engine.crypto.sign(granted(alice, { keyId: key.id, use: 'sign', keyVersion: 2, inputDigest }, kak2), key.id, request);
    const none = await engine.keys.changeApprovers(granted(alice, { keyId: key.id, use: 'change-approvers', keyVersion: 2, inputDigest: keyUseDigest.changeApprovers(null) }, kak2), key.id, null, hooks);
    assert.equal(none.approval, undefined);
    const stored = await repository.get(key.id) ?? assert.fail('the key is gone');
    assert.ok(stored.record.seal === undefined && stored.record.versions.every((v) => v.material !== undefined && v.sealedMaterial === undefined));
    await engine.crypto.sign(alice, key.id, request);
  });

  it('a key without an approval policy gets one from its owner alone', async () => {
    const { engine } = newEngine();
    const hooks = new RecordingHooks();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'plain', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const changed = await engine.keys.changeApprovers(alice, key.id, approval, hooks);
    assert.equal(changed.approval?.threshold, 2);
    await assert.rejects(engine.crypto.sign(alice, key.id, { algorithm: 'ECDSA_SHA_256', message }), { code: 'APPROVAL_REQUIRED' });
    await assert.rejects(engine.keys.changeApprovers(alice, key.id, null, hooks), { code: 'APPROVAL_REQUIRED' });
  });
});
