import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createCustodianKeyPair } from '../../../barrier/index.ts';
import { AttestationRefused, type AttestationContext } from '../attestation-provider.ts';
import { fixture, officer, type Fixture } from '../attestation-test-kit.ts';
import { JoinTokenProvider } from './join-token-provider.ts';
import { joinTokenId, joinTokenProof } from './join-token-secret.ts';

let f: Fixture;
let provider: JoinTokenProvider;
before(async () => {
  f = await fixture();
  provider = new JoinTokenProvider({ store: f.store, barrier: f.barrier, clock: f.clock });
});
after(() => f.close());

function context(nodeName = 'node-2'): AttestationContext {
  return { nodeName, joinPublicKey: createCustodianKeyPair().publicKey, requestId: randomUUID(), domainId: f.domainId, now: f.clock.now() };
}

function evidence(token: string, ctx: AttestationContext): unknown {
  return { tokenId: joinTokenId(token), proof: joinTokenProof(token, ctx) };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof AttestationRefused, 'expected a refusal');
  assert.equal(error.code, 'JOIN_REFUSED');
  assert.equal(error.message, 'the join request was refused');
  return error.reason;
}

describe('join-token provider', () => {
  it('admits once: the claim marks the token used, and a reused token is refused', async () => {
    const issued = await provider.issue(officer(), f.audit, { nodeName: 'node-2' });
    assert.match(issued.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(issued.tokenId, joinTokenId(issued.token));
    const stored = await f.store.get(`cluster/join-token/${issued.tokenId}`);
    assert.ok(stored !== undefined);
    assert.equal(Buffer.from(stored.value).includes(Buffer.from(issued.token)), false, 'the token is never stored');
    const ctx = context();
    const result = await provider.verify(evidence(issued.token, ctx), ctx);
    assert.deepEqual(result.identity, { provider: 'join-token', subject: `join-token:${issued.tokenId}` });
    await f.store.commit(result.claim);
    result.committed();
    const again = context();
    assert.equal(await refusal(provider.verify(evidence(issued.token, again), again)), 'TOKEN_USED');
    const event = f.audit.events.find((e) => e.operation === 'cluster.join-token.issue');
    assert.equal(event?.outcome, 'ALLOWED');
    assert.equal(JSON.stringify(f.audit.events).includes(issued.token), false, 'the audit never holds the token');
  });

  it('two admissions racing on one token: the second claim conflicts', async () => {
    const issued = await provider.issue(officer(), f.audit);
    const [a, b] = [context('node-a'), context('node-b')];
    const first = await provider.verify(evidence(issued.token, a), a);
    const second = await provider.verify(evidence(issued.token, b), b);
    await f.store.commit(first.claim);
    await assert.rejects(f.store.commit(second.claim), { code: 'STORE_CONFLICT' });
  });

  it('refuses an expired token (injected clock)', async () => {
    const issued = await provider.issue(officer(), f.audit, { expiresInSeconds: 60 });
    f.clock.advance(61_000);
    const ctx = context();
    assert.equal(await refusal(provider.verify(evidence(issued.token, ctx), ctx)), 'TOKEN_EXPIRED');
  });

  it('refuses a token bound to another node name', async () => {
    const issued = await provider.issue(officer(), f.audit, { nodeName: 'node-9' });
    const ctx = context('node-2');
    assert.equal(await refusal(provider.verify(evidence(issued.token, ctx), ctx)), 'TOKEN_NODE_NAME');
  });

  it('refuses a proof made for another request or key (copied from the store)', async () => {
    const issued = await provider.issue(officer(), f.audit);
    const original = context();
    const copied = { ...context(), requestId: randomUUID() };
    assert.equal(await refusal(provider.verify(evidence(issued.token, original), copied)), 'TOKEN_PROOF_INVALID');
  });

  it('refuses unknown tokens and malformed evidence', async () => {
    const ctx = context();
    assert.equal(await refusal(provider.verify(evidence('A'.repeat(42) + 'A', ctx), ctx)), 'TOKEN_UNKNOWN');
    assert.equal(await refusal(provider.verify({ tokenId: 'x', proof: 'y' }, ctx)), 'EVIDENCE_MALFORMED');
    assert.equal(await refusal(provider.verify(null, ctx)), 'EVIDENCE_MALFORMED');
  });

  it('only officers issue, with a lifetime from 60 s to 24 h', async () => {
    await assert.rejects(provider.issue({ ...officer('bob'), roles: ['user'] }, f.audit), { code: 'ACCESS_DENIED' });
    await assert.rejects(provider.issue(officer(), f.audit, { expiresInSeconds: 86_401 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(provider.issue(officer(), f.audit, { expiresInSeconds: 59 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(provider.issue(officer(), f.audit, { nodeName: '../x' }), { code: 'INVALID_ARGUMENT' });
    assert.equal(f.audit.events.at(-1)?.errorCode, 'INVALID_ARGUMENT');
  });

  it('prunes tokens a day past their expiry', async () => {
    await provider.issue(officer(), f.audit);
    f.clock.advance(25 * 3600 * 1000 + 600_000);
    assert.ok(await provider.prune() >= 1);
    assert.equal((await f.store.list('cluster/join-token/')).length, 0);
  });
});
