// Every refusal of the key-use approval service, by code: who may approve, signatures, shares,
// statuses, approver keys, inputs, and a key that changed since the request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { releaseShare, signApproval, signRejection } from './approver-side.ts';
import { KeyUseService } from './key-use-service.ts';
import { at, journal, openKeyUseFixture, user, type KeyUseFixture } from './key-use-test-kit.ts';

const message = Buffer.from('release 3.0');

async function signKey(f: KeyUseFixture, name: string, approval: Record<string, unknown>) {
  return f.engine.keys.create(f.alice, { project: 'alpha', name, spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { approvers: f.approvers.map((a) => a.name), ...approval } }, f.service.hooks);
}

describe('key-use refusals', () => {
  it('self, outsiders, duplicates, bad signatures, finished requests and unknown ids are refused with their codes', async (t) => {
    const f = await openKeyUseFixture(t, 3);
    const key = await signKey(f, 'k', { threshold: 2 });
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message });
    const [a0, a1, a2] = [at(f.approvers, 0), at(f.approvers, 1), at(f.approvers, 2)];
    await assert.rejects(f.service.approve(f.alice, view.requestId, signApproval(a0.signingKey, view.digest)), { code: 'APPROVAL_SELF_NOT_ALLOWED' });
    await assert.rejects(f.service.approve(user('bob'), view.requestId, signApproval(a0.signingKey, view.digest)), { code: 'APPROVAL_NOT_APPROVER' });
    await assert.rejects(f.service.approve(a0.caller, view.requestId, signApproval(a1.signingKey, view.digest)), { code: 'APPROVAL_SIGNATURE_INVALID' });
    await assert.rejects(f.service.approve(a0.caller, view.requestId, signRejection(a0.signingKey, view.digest)), { code: 'APPROVAL_SIGNATURE_INVALID' });
    await assert.rejects(f.service.reject(a0.caller, view.requestId, signApproval(a0.signingKey, view.digest)), { code: 'APPROVAL_SIGNATURE_INVALID' });
    await assert.rejects(f.service.approve(a0.caller, view.requestId, new Uint8Array(64)), { code: 'APPROVAL_SIGNATURE_INVALID' });
    await f.approve(a0, view);
    await assert.rejects(f.approve(a0, view), { code: 'APPROVAL_DUPLICATE' });
    await assert.rejects(f.reject(a0, view), { code: 'APPROVAL_DUPLICATE' });
    assert.equal((await f.service.show(f.alice, view.requestId)).approvals.length, 1, 'refusals record nothing');
    await f.approve(a1, view);
    await assert.rejects(f.approve(a2, view), { code: 'APPROVAL_ALREADY_USED' });
    await assert.rejects(f.service.approve(a0.caller, '00000000-0000-4000-8000-000000000000', signApproval(a0.signingKey, view.digest)), { code: 'APPROVAL_NOT_FOUND' });
    await assert.rejects(f.service.show(f.alice, 'not-a-uuid'), { code: 'APPROVAL_NOT_FOUND' });
    const denied = journal(f.node).filter((e) => e['operation'] === 'key-use.approve' && e['outcome'] === 'DENIED').map((e) => e['errorCode']);
    assert.deepEqual(denied, ['APPROVAL_SELF_NOT_ALLOWED', 'APPROVAL_NOT_APPROVER', 'APPROVAL_SIGNATURE_INVALID', 'APPROVAL_SIGNATURE_INVALID', 'APPROVAL_SIGNATURE_INVALID', 'APPROVAL_DUPLICATE', 'APPROVAL_ALREADY_USED', 'APPROVAL_NOT_FOUND']);
  });

  it('requests: a key without a policy, a use the requester may not do, oversized messages and bad options are refused', async (t) => {
    const f = await openKeyUseFixture(t, 2);
    const plain = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'plain', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    await assert.rejects(f.service.request(f.alice, { use: 'sign', key: plain.id, algorithm: 'ECDSA_SHA_256', message }), { code: 'INVALID_ARGUMENT' });
    const key = await signKey(f, 'k', { threshold: 1 });
    await assert.rejects(f.service.request(user('bob'), { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message }), { code: 'ACCESS_DENIED' });
    await assert.rejects(f.service.request(user('carol', ['beta']), { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message }), { code: 'KEY_NOT_FOUND' });
    await assert.rejects(f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message: Buffer.alloc(1024 * 1024 + 1) }), { code: 'INPUT_TOO_LARGE' });
    await assert.rejects(f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ED25519', message }), { code: 'INCOMPATIBLE_ALGORITHM' });
    await assert.rejects(f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message }, { expiresInSeconds: 59 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.service.request(f.alice, { use: 'rotate', key: key.id }), { code: 'INVALID_ARGUMENT' }, 'an unsealed key rotates directly');
    await assert.rejects(f.service.request(f.alice, { use: 'change-approvers', key: key.id, approval: { threshold: 1, approvers: ['nobody'] } }), { code: 'APPROVER_KEY_MISSING' });
  });

  it('approver keys: private keys are refused, and a policy names only live principals with registered keys', async (t) => {
    const f = await openKeyUseFixture(t, 2);
    const pair = generateKeyPairSync('ed25519');
    await assert.rejects(f.service.registerApproverKeys(user('bob'), { signingKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }), { code: 'INVALID_KEY_MATERIAL' });
    await assert.rejects(f.service.registerApproverKeys(user('bob'), { signingKey: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(), shareKey: 'short' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.service.registerApproverKeys({ ...user('audrey'), roles: ['auditor'] }, { signingKey: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString() }), { code: 'ACCESS_DENIED' });
    await f.service.registerApproverKeys(user('bob'), { signingKey: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString() });
    assert.equal((await f.service.approverKeys('bob')).shareKey, undefined);
    await assert.rejects(f.service.approverKeys('nobody'), { code: 'APPROVER_KEY_MISSING' });
    const create = (approvers: string[], sealed = false) => f.engine.keys.create(f.alice, { project: 'alpha', name: `k-${approvers.join('-')}-${String(sealed)}`, spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 1, approvers, sealed } }, f.service.hooks);
    await assert.rejects(create(['approver-0', 'nobody']), { code: 'APPROVER_KEY_MISSING' });
    await assert.rejects(create(['approver-0', 'bob'], true), { code: 'APPROVER_KEY_MISSING' }, 'sealed keys need share keys');
    await create(['approver-0', 'bob']);
    f.disabled.add('approver-1');
    await assert.rejects(create(['approver-0', 'approver-1']), { code: 'APPROVER_KEY_MISSING' });
  });

  it('sealed keys: a missing, undecryptable or foreign share is APPROVAL_SHARE_INVALID and records nothing; a restarted node asks for a new request', async (t) => {
    const f = await openKeyUseFixture(t, 3);
    const key = await signKey(f, 'sealed', { threshold: 2, sealed: true });
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message });
    assert.equal(typeof view.ephemeralPublicKey, 'string');
    const [a0, a1] = [at(f.approvers, 0), at(f.approvers, 1)];
    const sig = signApproval(a0.signingKey, view.digest);
    await assert.rejects(f.service.approve(a0.caller, view.requestId, sig), { code: 'APPROVAL_SHARE_INVALID' });
    await assert.rejects(f.service.approve(a0.caller, view.requestId, sig, { enc: 'AAAA', ciphertext: 'AAAA' }), { code: 'APPROVAL_SHARE_INVALID' });
    // a1's genuine share, released as if it were a0's: it opens (same request) only under a1's name, so a0's fails.
    const a1Share = await f.service.shareFor(a1.caller, view.requestId);
    const foreign = await releaseShare(a1.sharePrivateKey, { ...a1Share });
    await assert.rejects(f.service.approve(a0.caller, view.requestId, sig, foreign), { code: 'APPROVAL_SHARE_INVALID' });
    await assert.rejects(f.service.shareFor(f.alice, view.requestId), { code: 'APPROVAL_NOT_APPROVER' });
    assert.equal((await f.service.show(f.alice, view.requestId)).approvals.length, 0);
    // Another service over the same store (a restarted node) holds no ephemeral key for the request.
    const restarted = new KeyUseService({
      store: f.node.store, barrier: f.node.barrier, audit: f.node.audit, engine: f.engine, clock: f.clock,
      resolveCaller: () => Promise.reject(new Error('unused')), requirePrincipal: () => Promise.resolve(),
    });
    const released = await releaseShare(a0.sharePrivateKey, await restarted.shareFor(a0.caller, view.requestId), view.digest);
    await assert.rejects(restarted.approve(a0.caller, view.requestId, sig, released), (error: { code?: string; message?: string }) => error.code === 'APPROVAL_SHARE_INVALID' && /request the use again/.test(error.message ?? ''));
    restarted.close();
    assert.equal((await f.approve(a0, view)).status, 'pending');
    assert.equal((await f.approve(a1, view)).status, 'completed');
  });

  it('a request is bound to the key version current when it was made: after a rotation it fails with APPROVAL_MISMATCH', async (t) => {
    const f = await openKeyUseFixture(t, 2);
    const key = await signKey(f, 'rot', { threshold: 1 });
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message });
    await f.engine.keys.rotate(f.alice, key.id);
    const after = await f.approve(at(f.approvers, 0), view);
    assert.equal(after.status, 'failed');
    assert.equal(after.error?.code, 'APPROVAL_MISMATCH');
    const outcome = await f.service.outcome(f.alice, view.requestId);
    assert.deepEqual([outcome.status, outcome.error?.code], ['failed', 'APPROVAL_MISMATCH']);
    const entry = journal(f.node).find((e) => e['operation'] === 'key-use.outcome');
    assert.deepEqual([entry?.['outcome'], entry?.['errorCode']], ['FAILED', 'APPROVAL_MISMATCH']);
  });

  it('a requester deleted or disabled before the M-th approval: the use fails, it never runs as anyone else', async (t) => {
    const f = await openKeyUseFixture(t, 2);
    const key = await signKey(f, 'gone', { threshold: 1 });
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message });
    f.disabled.add('alice');
    const after = await f.approve(at(f.approvers, 0), view);
    assert.deepEqual([after.status, after.error?.code], ['failed', 'PRINCIPAL_NOT_FOUND']);
    assert.equal(journal(f.node).filter((e) => e['operation'] === 'crypto.sign' && e['outcome'] === 'ALLOWED').length, 0);
  });
});
