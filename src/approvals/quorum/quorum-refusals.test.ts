// Every refusal of the quorum flow, each with its own code.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { QuorumService } from './quorum-service.ts';
import { at, makeOfficer, recordingHandlers, ManualClock, officer, openFixture, openTestNode } from './quorum-test-kit.ts';

const params = { keyId: 'k-123' };

describe('quorum refusals', () => {
  it('unknown token: APPROVAL_NOT_FOUND', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const missing = '00000000-0000-4000-8000-000000000000';
    await assert.rejects(service.show(missing), { code: 'APPROVAL_NOT_FOUND' });
    await assert.rejects(service.approve('not-a-token', at(officers, 1).caller, new Uint8Array(64)), { code: 'APPROVAL_NOT_FOUND' });
    await assert.rejects(service.apply(at(officers, 0).caller, missing, params), { code: 'APPROVAL_NOT_FOUND' });
  });

  it('self-approval, outsiders, duplicates and bad signatures are refused', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const outsider = makeOfficer('outsider', 0);
    await service.registerApprovalKey(outsider.caller, outsider.publicPem);
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    await assert.rejects(service.approve(token.tokenId, at(officers, 0).caller, at(officers, 0).sign(token.digest)), { code: 'APPROVAL_SELF_NOT_ALLOWED' });
    await assert.rejects(service.approve(token.tokenId, outsider.caller, outsider.sign(token.digest)), { code: 'APPROVAL_NOT_APPROVER' });
    // Officer 1 signing with officer 2's key, and a signature over another digest.
    await assert.rejects(service.approve(token.tokenId, at(officers, 1).caller, at(officers, 2).sign(token.digest)), { code: 'APPROVAL_SIGNATURE_INVALID' });
    await assert.rejects(service.approve(token.tokenId, at(officers, 1).caller, at(officers, 1).sign('00'.repeat(32))), { code: 'APPROVAL_SIGNATURE_INVALID' });
    await assert.rejects(service.approve(token.tokenId, at(officers, 1).caller, new Uint8Array(0)), { code: 'APPROVAL_SIGNATURE_INVALID' });
    await service.approve(token.tokenId, at(officers, 1).caller, at(officers, 1).sign(token.digest));
    await assert.rejects(service.approve(token.tokenId, at(officers, 1).caller, at(officers, 1).sign(token.digest)), { code: 'APPROVAL_DUPLICATE' });
    await assert.rejects(service.apply(at(officers, 0).caller, token.tokenId, params), { code: 'APPROVAL_INSUFFICIENT' });
    assert.equal((await service.show(token.tokenId)).approvals.length, 1);
  });

  it('a listed officer without a registered key: APPROVAL_SIGNATURE_INVALID', async (t) => {
    const clock = new ManualClock();
    const node = await openTestNode(t, clock);
    const service = new QuorumService({ store: node.store, barrier: node.barrier, audit: node.audit, clock, operations: recordingHandlers([]) });
    const [o0, o1] = [makeOfficer('officer-0', 0), makeOfficer('officer-1', 1)];
    await service.initializePolicy(o0.caller, { 'quorum.policy-change': { threshold: 1, approvers: ['officer-0', 'officer-1'] } });
    const token = await service.request(o0.caller, { operation: 'quorum.policy-change', parameters: { rules: { 'quorum.policy-change': { threshold: 1, approvers: ['officer-1'] } } } });
    await assert.rejects(service.approve(token.tokenId, o1.caller, o1.sign(token.digest)), { code: 'APPROVAL_SIGNATURE_INVALID' });
  });

  it('altered parameters at apply: APPROVAL_MISMATCH, and the token stays usable', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    for (const i of [1, 2]) await service.approve(token.tokenId, at(officers, i).caller, at(officers, i).sign(token.digest));
    await assert.rejects(service.apply(at(officers, 0).caller, token.tokenId, { keyId: 'k-999' }), { code: 'APPROVAL_MISMATCH' });
    await assert.rejects(service.apply(at(officers, 0).caller, token.tokenId, { ...params, extra: true }), { code: 'APPROVAL_MISMATCH' });
    assert.equal((await service.apply(at(officers, 0).caller, token.tokenId, params)).operation, 'key.delete');
  });

  it('an approval made with a key since replaced no longer counts at apply', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    for (const i of [1, 2]) await service.approve(token.tokenId, at(officers, i).caller, at(officers, i).sign(token.digest));
    const replacement = makeOfficer('officer-2', 0);
    await service.registerApprovalKey(at(officers, 2).caller, replacement.publicPem);
    await assert.rejects(service.apply(at(officers, 0).caller, token.tokenId, params), { code: 'APPROVAL_INSUFFICIENT' });
  });

  it('only officers take part, and only the requester applies', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const user = { principal: 'officer-1', roles: ['user'] as const, projects: [], requestId: 'req-user-1' };
    await assert.rejects(service.request(user, { operation: 'key.delete', parameters: params }), { code: 'ACCESS_DENIED' });
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    await assert.rejects(service.approve(token.tokenId, user, at(officers, 1).sign(token.digest)), { code: 'ACCESS_DENIED' });
    for (const i of [1, 2]) await service.approve(token.tokenId, at(officers, i).caller, at(officers, i).sign(token.digest));
    await assert.rejects(service.apply(at(officers, 1).caller, token.tokenId, params), { code: 'ACCESS_DENIED' });
  });

  it('requests: unknown class, malformed parameters, no rule for the class', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const o0 = at(officers, 0).caller;
    await assert.rejects(service.request(o0, { operation: 'key.create', parameters: {} }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(service.request(o0, { operation: 'key.delete', parameters: { n: Number.NaN } }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(service.request(o0, { operation: 'key.delete', parameters: { blob: 'x'.repeat(70_000) } }), { code: 'INPUT_TOO_LARGE' });
    await assert.rejects(service.request(o0, { operation: 'custodian.change', parameters: {} }), { code: 'QUORUM_POLICY_MISSING' });
    // A class with no operation in this version (no handler), and parameters its handler refuses.
    await assert.rejects(service.request(o0, { operation: 'backup.restore', parameters: {} }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(service.request(o0, { operation: 'key.delete', parameters: { invalid: true } }), { code: 'INVALID_ARGUMENT' });
    assert.deepEqual(await service.list(o0), [], 'no token was made for a refused request');
    await assert.rejects(service.request(o0, { operation: 'quorum.policy-change', parameters: { rules: { 'key.delete': { threshold: 1, approvers: ['officer-1'] } } } }), { code: 'INVALID_ARGUMENT' });
  });

  it('the first policy is set once; then only the quorum changes it', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    await assert.rejects(service.initializePolicy(at(officers, 0).caller, { 'quorum.policy-change': { threshold: 1, approvers: ['officer-0'] } }), { code: 'QUORUM_POLICY_EXISTS' });
    const clock = new ManualClock();
    const node = await openTestNode(t, clock);
    const fresh = new QuorumService({ store: node.store, barrier: node.barrier, audit: node.audit, clock, operations: recordingHandlers([]) });
    await assert.rejects(fresh.request(officer('officer-0'), { operation: 'key.delete', parameters: {} }), { code: 'QUORUM_POLICY_MISSING' });
    for (const bad of [{}, { 'quorum.policy-change': { threshold: 3, approvers: ['a', 'b'] } }, { 'quorum.policy-change': { threshold: 1, approvers: ['a', 'a'] } }]) {
      await assert.rejects(fresh.initializePolicy(officer('officer-0'), bad), { code: 'INVALID_ARGUMENT' });
    }
  });

  it('approval keys: public SPKI only, Ed25519 or P-256', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const o0 = at(officers, 0);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await assert.rejects(service.registerApprovalKey(o0.caller, o0.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), { code: 'INVALID_KEY_MATERIAL' });
    await assert.rejects(service.registerApprovalKey(o0.caller, new Uint8Array([1, 2, 3])), { code: 'INVALID_KEY_MATERIAL' });
    await assert.rejects(service.registerApprovalKey(o0.caller, rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString()), { code: 'UNSUPPORTED_ALGORITHM' });
    await assert.rejects(service.registerApprovalKey(o0.caller, p384.publicKey.export({ format: 'der', type: 'spki' })), { code: 'UNSUPPORTED_ALGORITHM' });
    const info = await service.approvalKey('officer-1');
    assert.equal(info?.algorithm, 'ECDSA_P256');
    assert.match(info.fingerprint, /^[0-9a-f]{64}$/);
  });
});
