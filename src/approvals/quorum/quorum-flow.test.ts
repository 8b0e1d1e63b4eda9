// Quorum flows against a real store, barrier and journal: M-of-N approvals, one apply, policy change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quorumTokenDigest } from './approval-token.ts';
import { at, journal, openFixture } from './quorum-test-kit.ts';

const params = { keyId: 'k-123', reason: 'retired' };

describe('quorum flow', () => {
  it('2-of-3: two approvals by other officers authorise one run with exactly the approved parameters', async (t) => {
    const { service, officers, runs } = await openFixture(t, 3, 2);
    const [requester, a, b] = [at(officers, 0), at(officers, 1), at(officers, 2)];
    const token = await service.request(requester.caller, { operation: 'key.delete', parameters: params });
    assert.equal(token.status, 'pending');
    assert.equal(token.digest, quorumTokenDigest(token), 'approvers can recompute the digest from what they are shown');
    await service.approve(token.tokenId, a.caller, a.sign(token.digest));
    await assert.rejects(service.apply(requester.caller, token.tokenId, params), { code: 'APPROVAL_INSUFFICIENT' });
    await service.approve(token.tokenId, b.caller, b.sign(token.digest));
    const authorised = await service.apply(requester.caller, token.tokenId, params);
    assert.deepEqual(authorised, {
      tokenId: token.tokenId, operation: 'key.delete', parameters: params, requester: 'officer-0',
      approvers: ['officer-1', 'officer-2'], digest: token.digest, result: { ran: 'key.delete' },
    });
    assert.deepEqual(runs, [{ operation: 'key.delete', requester: 'officer-0', parameters: params }], 'the handler ran once, as the requester, with the bound parameters');
    assert.equal((await service.show(token.tokenId)).status, 'used');
    await assert.rejects(service.apply(requester.caller, token.tokenId, params), { code: 'APPROVAL_ALREADY_USED' });
  });

  it('3-of-5: counts only distinct listed officers, and the requester may be any officer', async (t) => {
    const { service, officers } = await openFixture(t, 5, 3);
    const requester = at(officers, 2);
    const token = await service.request(requester.caller, { operation: 'key.delete', parameters: params });
    for (const i of [0, 1]) await service.approve(token.tokenId, at(officers, i).caller, at(officers, i).sign(token.digest));
    await assert.rejects(service.apply(requester.caller, token.tokenId, params), { code: 'APPROVAL_INSUFFICIENT' });
    await service.approve(token.tokenId, at(officers, 4).caller, at(officers, 4).sign(token.digest));
    const authorised = await service.apply(requester.caller, token.tokenId, params);
    assert.deepEqual(authorised.approvers, ['officer-0', 'officer-1', 'officer-4']);
  });

  it('two racing appliers: exactly one wins, the other gets APPROVAL_ALREADY_USED', async (t) => {
    const { service, officers, runs } = await openFixture(t, 3, 2);
    const requester = at(officers, 0);
    const token = await service.request(requester.caller, { operation: 'key.delete', parameters: params });
    for (const i of [1, 2]) await service.approve(token.tokenId, at(officers, i).caller, at(officers, i).sign(token.digest));
    const results = await Promise.allSettled([
      service.apply(requester.caller, token.tokenId, params),
      service.apply(requester.caller, token.tokenId, params),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const lost = results.find((r) => r.status === 'rejected');
    assert.ok(lost !== undefined);
    assert.equal((lost.reason as { code?: unknown }).code, 'APPROVAL_ALREADY_USED');
    assert.equal(runs.length, 1, 'the operation ran once');
  });

  it('concurrent approvals by different officers are all kept', async (t) => {
    const { service, officers } = await openFixture(t, 5, 4);
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    await Promise.all([1, 2, 3, 4].map((i) => service.approve(token.tokenId, at(officers, i).caller, at(officers, i).sign(token.digest))));
    assert.equal((await service.show(token.tokenId)).approvals.length, 4);
    assert.equal((await service.apply(at(officers, 0).caller, token.tokenId, params)).approvers.length, 4);
  });

  it('expires after 10 minutes by default: approve and apply refuse, list leaves it out', async (t) => {
    const { service, officers, clock } = await openFixture(t, 3, 2);
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    assert.equal(Date.parse(token.expiresAt) - Date.parse(token.createdAt), 10 * 60 * 1000);
    await service.approve(token.tokenId, at(officers, 1).caller, at(officers, 1).sign(token.digest));
    assert.deepEqual((await service.list(at(officers, 1).caller)).map((v) => v.tokenId), [token.tokenId]);
    clock.advance(10 * 60 * 1000 - 1);
    await service.approve(token.tokenId, at(officers, 2).caller, at(officers, 2).sign(token.digest));
    clock.advance(1);
    await assert.rejects(service.apply(at(officers, 0).caller, token.tokenId, params), { code: 'APPROVAL_EXPIRED' });
    await assert.rejects(service.approve(token.tokenId, at(officers, 2).caller, at(officers, 2).sign(token.digest)), { code: 'APPROVAL_EXPIRED' });
    assert.deepEqual(await service.list(at(officers, 1).caller), []);
    assert.equal((await service.show(token.tokenId)).status, 'expired');
  });

  it('changing the policy needs the current quorum, and voids tokens issued under the old one', async (t) => {
    const { service, officers } = await openFixture(t, 3, 2);
    const [o0, o1, o2] = [at(officers, 0), at(officers, 1), at(officers, 2)];
    const stale = await service.request(o0.caller, { operation: 'key.delete', parameters: params });
    const rules = {
      'key.delete': { threshold: 1, approvers: ['officer-1', 'officer-2'] },
      'quorum.policy-change': { threshold: 2, approvers: ['officer-0', 'officer-1', 'officer-2'] },
    };
    const change = await service.request(o0.caller, { operation: 'quorum.policy-change', parameters: { rules } });
    await service.approve(change.tokenId, o1.caller, o1.sign(change.digest));
    await assert.rejects(service.apply(o0.caller, change.tokenId, { rules }), { code: 'APPROVAL_INSUFFICIENT' });
    assert.equal((await service.policy())?.version, 1);
    await service.approve(change.tokenId, o2.caller, o2.sign(change.digest));
    const applied = await service.apply(o0.caller, change.tokenId, { rules });
    assert.deepEqual(applied.result, { version: 2, rules: { ...rules, 'quorum.policy-change': { threshold: 2, approvers: ['officer-0', 'officer-1', 'officer-2'] } } });
    const policy = await service.policy();
    assert.equal(policy?.version, 2);
    assert.deepEqual(policy.rules['key.delete'], { threshold: 1, approvers: ['officer-1', 'officer-2'] });
    await assert.rejects(service.approve(stale.tokenId, o1.caller, o1.sign(stale.digest)), { code: 'APPROVAL_MISMATCH' });
    const fresh = await service.request(o0.caller, { operation: 'key.delete', parameters: params });
    await service.approve(fresh.tokenId, o2.caller, o2.sign(fresh.digest));
    assert.deepEqual((await service.apply(o0.caller, fresh.tokenId, params)).approvers, ['officer-2']);
  });

  it('audits request, every approval (allowed or refused), apply and the outcome, with digests but no parameters or signatures', async (t) => {
    const { node, service, officers } = await openFixture(t, 3, 2);
    const secretish = { keyId: 'k-1', note: 'do-not-log-this-value' };
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: secretish });
    const sig1 = at(officers, 1).sign(token.digest);
    await service.approve(token.tokenId, at(officers, 1).caller, sig1);
    await assert.rejects(service.approve(token.tokenId, at(officers, 0).caller, at(officers, 0).sign(token.digest)), { code: 'APPROVAL_SELF_NOT_ALLOWED' });
    await service.approve(token.tokenId, at(officers, 2).caller, at(officers, 2).sign(token.digest));
    await service.apply(at(officers, 0).caller, token.tokenId, secretish);
    const entries = journal(node).filter((e) => e['detail']?.['tokenId'] === token.tokenId);
    assert.deepEqual(entries.map((e) => [e['operation'], e['principal'], e['outcome'], e['errorCode'] ?? null]), [
      ['quorum.request', 'officer-0', 'ALLOWED', null],
      ['quorum.approve', 'officer-1', 'ALLOWED', null],
      ['quorum.approve', 'officer-0', 'DENIED', 'APPROVAL_SELF_NOT_ALLOWED'],
      ['quorum.approve', 'officer-2', 'ALLOWED', null],
      ['quorum.apply', 'officer-0', 'ALLOWED', null],
      ['quorum.outcome', 'officer-0', 'ALLOWED', null],
    ]);
    for (const e of entries) {
      assert.equal(e['inputDigest'], token.digest);
      assert.equal(e['detail']?.['quorumOperation'], 'key.delete');
    }
    const text = JSON.stringify(journal(node));
    assert.ok(!text.includes('do-not-log-this-value'));
    assert.ok(!text.includes(Buffer.from(sig1).toString('base64url')));
  });

  it('a tampered token row is BARRIER_INTEGRITY_FAILED, for show, approve and apply alike', async (t) => {
    const { node, service, officers } = await openFixture(t, 3, 2);
    const token = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    const path = `quorum/token/${token.tokenId}`;
    const entry = await node.store.get(path);
    assert.ok(entry !== undefined);
    const edited = Buffer.from(entry.value);
    edited[edited.length - 20] = (edited[edited.length - 20] ?? 0) ^ 1;
    await node.store.commit([{ op: 'put', key: path, value: edited, expectVersion: entry.version }]);
    await assert.rejects(service.show(token.tokenId), { code: 'BARRIER_INTEGRITY_FAILED' });
    await assert.rejects(service.approve(token.tokenId, at(officers, 1).caller, at(officers, 1).sign(token.digest)), { code: 'BARRIER_INTEGRITY_FAILED' });
    await assert.rejects(service.apply(at(officers, 0).caller, token.tokenId, params), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('a token row swapped onto another token id is BARRIER_INTEGRITY_FAILED', async (t) => {
    const { node, service, officers } = await openFixture(t, 3, 2);
    const first = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: params });
    const second = await service.request(at(officers, 0).caller, { operation: 'key.delete', parameters: { keyId: 'other' } });
    const a = await node.store.get(`quorum/token/${first.tokenId}`);
    const b = await node.store.get(`quorum/token/${second.tokenId}`);
    assert.ok(a !== undefined && b !== undefined);
    await node.store.commit([{ op: 'put', key: b.key, value: a.value, expectVersion: b.version }]);
    await assert.rejects(service.show(second.tokenId), { code: 'BARRIER_INTEGRITY_FAILED' });
  });
});
