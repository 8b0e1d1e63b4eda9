// The service's side of running operations: per-class requester roles, secrets checked before the
// token is spent, a failed run audited and the token left spent, the direct-route guard, and pruning
// of used and expired tokens on the injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError } from '../../core/errors.ts';
import type { Caller } from '../../core/engine/index.ts';
import type { QuorumOperationHandler } from './operation-handlers.ts';
import { bindQuorumPassword, checkQuorumPassword } from './password-binding.ts';
import { DEFAULT_TOKEN_RETENTION_MS, PRUNE_INTERVAL_MS, QuorumService } from './quorum-service.ts';
import { at, journal, makeOfficer, ManualClock, openTestNode, recordingHandlers, type RecordedRun, type TestOfficer } from './quorum-test-kit.ts';

const user: Caller = { principal: 'ursula', roles: ['user'], projects: ['alpha'], requestId: 'req-ursula' };

/** A node with three officers, a 2-of-3 rule for every class named, and the given handlers. */
async function serviceWith(t: Parameters<typeof openTestNode>[0], handlers: Partial<Record<string, QuorumOperationHandler>>, classes: readonly string[]) {
  const clock = new ManualClock();
  const node = await openTestNode(t, clock);
  const runs: RecordedRun[] = [];
  const service = new QuorumService({ store: node.store, barrier: node.barrier, audit: node.audit, clock, operations: { ...recordingHandlers(runs), ...handlers } });
  const officers: TestOfficer[] = ['officer-0', 'officer-1', 'officer-2'].map((name, i) => makeOfficer(name, i));
  for (const o of officers) await service.registerApprovalKey(o.caller, o.publicPem);
  const rule = { threshold: 2, approvers: officers.map((o) => o.caller.principal) };
  await service.initializePolicy(at(officers, 0).caller, Object.fromEntries([...classes, 'quorum.policy-change'].map((c) => [c, rule])));
  const approveAll = async (token: { tokenId: string; digest: string }, skip: string): Promise<void> => {
    for (const o of officers.filter((x) => x.caller.principal !== skip).slice(0, 2)) await service.approve(token.tokenId, o.caller, o.sign(token.digest));
  };
  return { clock, node, service, officers, runs, approveAll };
}

describe('quorum operation handlers', () => {
  it('a class may let key owners request and apply; approvers stay officers; others are refused', async (t) => {
    const ran: string[] = [];
    const ownerHandler: QuorumOperationHandler = {
      requesterRoles: ['user', 'service'],
      validate: () => Promise.resolve(),
      run: (caller) => {
        ran.push(caller.principal);
        return Promise.resolve(null);
      },
    };
    const { service, officers, approveAll } = await serviceWith(t, { 'key.delete': ownerHandler }, ['key.delete', 'principal.delete']);
    const o0 = at(officers, 0).caller;
    await assert.rejects(service.request(o0, { operation: 'key.delete', parameters: { keyId: 'k' } }), { code: 'ACCESS_DENIED' });
    await assert.rejects(service.request(user, { operation: 'principal.delete', parameters: { name: 'x' } }), { code: 'ACCESS_DENIED' });
    const auditor: Caller = { principal: 'audrey', roles: ['auditor'], projects: [], requestId: 'req-audrey' };
    await assert.rejects(service.request(auditor, { operation: 'key.delete', parameters: { keyId: 'k' } }), { code: 'ACCESS_DENIED' });
    const token = await service.request(user, { operation: 'key.delete', parameters: { keyId: 'k' } });
    assert.equal(token.requester, 'ursula');
    await assert.rejects(service.approve(token.tokenId, user, new Uint8Array(64)), { code: 'ACCESS_DENIED' });
    await approveAll(token, 'ursula');
    await assert.rejects(service.apply(o0, token.tokenId, { keyId: 'k' }), { code: 'ACCESS_DENIED' });
    const applied = await service.apply(user, token.tokenId, { keyId: 'k' });
    assert.deepEqual([applied.approvers, applied.result, ran], [['officer-0', 'officer-1'], null, ['ursula']]);
  });

  it('a bound password: a wrong or missing secret is APPROVAL_MISMATCH and leaves the token usable', async (t) => {
    const set: string[] = [];
    const reset: QuorumOperationHandler = {
      requesterRoles: ['officer'],
      validate: () => Promise.resolve(),
      checkSecret: async (parameters, secret) => {
        const { passwordSalt, passwordDigest } = parameters as { passwordSalt: string; passwordDigest: string };
        if (secret?.['password'] === undefined) throw new CofferError('APPROVAL_MISMATCH', 'no password');
        await checkQuorumPassword(String(parameters['name']), secret['password'], { passwordSalt, passwordDigest });
      },
      run: (_caller, _parameters, secret) => {
        set.push(secret?.['password'] ?? '');
        return Promise.resolve(null);
      },
    };
    const { node, service, officers, approveAll } = await serviceWith(t, { 'principal.password-reset': reset }, ['principal.password-reset']);
    const o0 = at(officers, 0).caller;
    const password = 'a new pass phrase, never stored';
    const parameters = { name: 'bob', ...(await bindQuorumPassword('bob', password)) };
    const token = await service.request(o0, { operation: 'principal.password-reset', parameters });
    await approveAll(token, 'officer-0');
    await assert.rejects(service.apply(o0, token.tokenId, parameters, { password: 'not it' }), { code: 'APPROVAL_MISMATCH' });
    await assert.rejects(service.apply(o0, token.tokenId, parameters), { code: 'APPROVAL_MISMATCH' });
    // The same password bound for another principal does not match either.
    await assert.rejects(checkQuorumPassword('alice', password, { passwordSalt: parameters.passwordSalt, passwordDigest: parameters.passwordDigest }), { code: 'APPROVAL_MISMATCH' });
    await service.apply(o0, token.tokenId, parameters, { password });
    assert.deepEqual(set, [password]);
    assert.ok(!JSON.stringify(journal(node)).includes(password), 'the password is in no audit entry');
    const stored = await node.store.list('quorum/');
    assert.ok(stored.every((e) => !Buffer.from(e.value).toString('latin1').includes(password)));
  });

  it('a class that takes no secret refuses one (INVALID_ARGUMENT) before spending the token', async (t) => {
    const { service, officers, approveAll, runs } = await serviceWith(t, {}, ['principal.delete']);
    const o0 = at(officers, 0).caller;
    const token = await service.request(o0, { operation: 'principal.delete', parameters: { name: 'x' } });
    await approveAll(token, 'officer-0');
    await assert.rejects(service.apply(o0, token.tokenId, { name: 'x' }, { password: 'p' }), { code: 'INVALID_ARGUMENT' });
    await service.apply(o0, token.tokenId, { name: 'x' });
    assert.equal(runs.length, 1);
  });

  it('a run that fails: the error reaches the applier, quorum.outcome is FAILED with its code, the token stays spent', async (t) => {
    const failing: QuorumOperationHandler = {
      requesterRoles: ['officer'],
      validate: () => Promise.resolve(),
      run: () => Promise.reject(new CofferError('PRINCIPAL_NOT_FOUND', 'gone')),
    };
    const { node, service, officers, approveAll } = await serviceWith(t, { 'principal.delete': failing }, ['principal.delete']);
    const o0 = at(officers, 0).caller;
    const token = await service.request(o0, { operation: 'principal.delete', parameters: { name: 'x' } });
    await approveAll(token, 'officer-0');
    await assert.rejects(service.apply(o0, token.tokenId, { name: 'x' }), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(service.apply(o0, token.tokenId, { name: 'x' }), { code: 'APPROVAL_ALREADY_USED' });
    const outcome = journal(node).filter((e) => e['operation'] === 'quorum.outcome');
    assert.deepEqual(outcome.map((e) => [e['outcome'], e['errorCode'], e['detail']?.['tokenId'], e['detail']?.['quorumOperation']]), [['FAILED', 'PRINCIPAL_NOT_FOUND', token.tokenId, 'principal.delete']]);
  });

  it('requireUnguarded: QUORUM_REQUIRED, audited as the direct operation, only for classes the policy covers', async (t) => {
    const { node, service, officers } = await serviceWith(t, {}, ['principal.delete']);
    const o0 = at(officers, 0).caller;
    await assert.rejects(service.requireUnguarded(o0, 'principal.delete', { operation: 'principal.delete', target: 'bob' }), { code: 'QUORUM_REQUIRED' });
    await service.requireUnguarded(o0, 'project.delete', { operation: 'project.delete', target: 'alpha' });
    const denied = journal(node).filter((e) => e['errorCode'] === 'QUORUM_REQUIRED');
    assert.deepEqual(denied.map((e) => [e['operation'], e['outcome'], e['detail']?.['quorumOperation'], e['detail']?.['target']]), [['principal.delete', 'DENIED', 'principal.delete', 'bob']]);
  });
});

describe('token pruning', () => {
  it('deletes used and expired tokens once the retention has passed, at most once a minute, and audits it', async (t) => {
    const { clock, node, service, officers, approveAll } = await serviceWith(t, {}, ['principal.delete']);
    const o0 = at(officers, 0).caller;
    const request = (name: string) => service.request(o0, { operation: 'principal.delete', parameters: { name } });
    const used = await request('used');
    await approveAll(used, 'officer-0');
    await service.apply(o0, used.tokenId, { name: 'used' });
    const expired = await request('expired');
    clock.advance(10 * 60 * 1000); // `expired` (and `used`'s lifetime) are over now; `used` was spent at t0.
    const pending = await request('pending');
    const ids = async (): Promise<string[]> => (await node.store.list('quorum/token/')).map((e) => e.key.slice('quorum/token/'.length)).sort();
    assert.deepEqual(await ids(), [used.tokenId, expired.tokenId, pending.tokenId].sort());

    // Retention counts from use (used, at t0) and from expiry (expired, at t0 + 10 min).
    clock.advance(DEFAULT_TOKEN_RETENTION_MS - 30_000); // t0 + 24 h + 9.5 min: only `used` is due
    await service.list(o0);
    assert.deepEqual(await ids(), [expired.tokenId, pending.tokenId].sort());
    assert.equal((await service.show(expired.tokenId)).status, 'expired', 'still readable within its retention');
    await assert.rejects(service.show(used.tokenId), { code: 'APPROVAL_NOT_FOUND' });

    // `expired` is due 30 s later, but pruning runs at most once a PRUNE_INTERVAL_MS.
    clock.advance(45_000);
    await service.list(o0);
    assert.ok((await ids()).includes(expired.tokenId), 'not pruned again within the interval');
    clock.advance(PRUNE_INTERVAL_MS - 45_000);
    await service.list(o0);
    // `pending` expired 10 minutes after it was made and is within its retention: kept.
    assert.deepEqual(await ids(), [pending.tokenId]);
    assert.equal(await service.prune(), 0);
    clock.advance(DEFAULT_TOKEN_RETENTION_MS);
    assert.equal(await service.prune(), 1);
    assert.deepEqual(await ids(), []);

    const prunes = journal(node).filter((e) => e['operation'] === 'quorum.prune');
    assert.deepEqual(prunes.map((e) => e['detail']?.['pruned']), [1, 1]);
  });
});
