// In-process cluster join: two CofferNodes over one shared store. Node 1 is unsealed by its
// custodians and runs the Admitter; node 2 starts sealed, joins with a join token issued on node 1,
// and then signs with a key created on node 1. Last, the same through a node's cluster wiring: the
// admitter runs while unsealed and is woken by the change feed.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Admitter, joinCluster, joinTokenEvidence, JOIN_REQUEST_PREFIX } from '../src/cluster/join/index.ts';
import { JoinTokenProvider } from '../src/cluster/attestation/index.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/index.ts';
import { CofferNode } from '../src/server/coffer-node.ts';
import type { AuditEvent } from '../src/core/ports.ts';
import { joinCluster as startClusterMember } from '../src/server/main.ts';
import { joinNode } from '../src/server/join-wiring.ts';
import { NodeServices } from '../src/server/node-services.ts';
import { initDomain, tempDir, unseal, user } from './node-kit.ts';

const officer = { principal: 'olive', roles: ['officer' as const], projects: [], requestId: 'req-officer' };

async function cluster(t: TestContext): Promise<{ store: SqliteStore; first: CofferNode; second: CofferNode; admitter: Admitter; provider: JoinTokenProvider; audit: AuditEvent[] }> {
  const dir = tempDir(t, 'coffer-join-');
  const store = await openSqliteStore(join(dir, 'shared.db'));
  t.after(() => store.close());
  const first = await CofferNode.open({ dataDir: join(dir, 'n1'), nodeId: 'node-1', store });
  t.after(() => first.close());
  const domain = await initDomain(first, 3, 2);
  await unseal(first, domain, [0, 2]);
  const second = await CofferNode.open({ dataDir: join(dir, 'n2'), nodeId: 'node-2', store });
  t.after(() => second.close());
  assert.equal(second.state, 'SEALED');
  const audit: AuditEvent[] = [];
  // Records what node 1 audits about joins, and forwards to its journal.
  const sink = { append: async (event: AuditEvent) => { audit.push(event); await first.audit.append(event); } };
  const provider = new JoinTokenProvider({ store, barrier: first.barrier });
  const admitter = new Admitter({ store, barrier: first.barrier, provider, audit: () => sink, nodeId: 'node-1', pollIntervalMs: 20 });
  admitter.start();
  t.after(() => admitter.stop());
  return { store, first, second, admitter, provider, audit };
}

function descriptorId(node: CofferNode): string {
  const id = node.barrier.descriptor?.domainId;
  assert.ok(id !== undefined);
  return id;
}

describe('joining a running cluster with a join token', () => {
  it('node 2 joins, unseals, signs with a key made on node 1; the request is gone and the join audited', async (t) => {
    const { store, first, second, provider, audit } = await cluster(t);
    const alice = user('alice');
    const key = await first.engine.keys.create(alice, { project: 'alpha', name: 'signer', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    const issued = await provider.issue(officer, first.audit, { nodeName: 'node-2' });
    await joinCluster({
      store, domainId: descriptorId(second), nodeName: 'node-2', evidence: joinTokenEvidence(issued.token), pollIntervalMs: 20, timeoutMs: 10_000,
      unseal: (transfer, binding, privateKey) => second.unsealWithTransferredKey(transfer, binding, privateKey),
    });
    assert.equal(second.state, 'UNSEALED');
    const message = Buffer.from('signed on node 2');
    const { signature } = await second.engine.crypto.sign(alice, key.id, { algorithm: 'ED25519', message });
    assert.equal((await first.engine.crypto.verify(alice, key.id, { algorithm: 'ED25519', message, signature })).valid, true);
    assert.deepEqual(await store.list(JOIN_REQUEST_PREFIX), []);
    const admit = audit.find((e) => e.operation === 'cluster.join.admit');
    assert.equal(admit?.outcome, 'ALLOWED');
    assert.equal(admit.detail?.['nodeName'], 'node-2');
    assert.equal(admit.detail['subject'], `join-token:${issued.tokenId}`);
    assert.equal(JSON.stringify(audit).includes(issued.token), false);
  });

  it('a reused token is refused: the joiner gets JOIN_REFUSED and stays sealed; the refusal is audited with its reason', async (t) => {
    const { store, first, second, provider, audit } = await cluster(t);
    const issued = await provider.issue(officer, first.audit);
    const join1 = () => joinCluster({
      store, domainId: descriptorId(second), nodeName: 'node-2', evidence: joinTokenEvidence(issued.token), pollIntervalMs: 20, timeoutMs: 10_000,
      unseal: (transfer, binding, privateKey) => second.unsealWithTransferredKey(transfer, binding, privateKey),
    });
    await join1();
    await second.seal();
    await assert.rejects(join1(), { code: 'JOIN_REFUSED' });
    assert.equal(second.state, 'SEALED');
    const refuse = audit.find((e) => e.operation === 'cluster.join.refuse');
    assert.equal(refuse?.outcome, 'DENIED');
    assert.equal(refuse.detail?.['reason'], 'TOKEN_USED');
  });

  it('two admitters racing over one request admit it once', async (t) => {
    const { store, first, second, admitter, provider, audit } = await cluster(t);
    await admitter.stop();
    const other = new Admitter({ store, barrier: first.barrier, provider, audit: () => ({ append: async (e: AuditEvent) => { audit.push(e); await first.audit.append(e); } }), nodeId: 'node-1b' });
    const issued = await provider.issue(officer, first.audit);
    const joining = joinCluster({
      store, domainId: descriptorId(second), nodeName: 'node-2', evidence: joinTokenEvidence(issued.token), pollIntervalMs: 20, timeoutMs: 10_000,
      unseal: (transfer, binding, privateKey) => second.unsealWithTransferredKey(transfer, binding, privateKey),
    });
    while ((await store.list(JOIN_REQUEST_PREFIX)).length === 0) await new Promise((r) => setTimeout(r, 5));
    const passes = await Promise.all([admitter.runOnce(), other.runOnce()]);
    assert.equal(passes.reduce((n, p) => n + p.admitted, 0), 1);
    await joining;
    assert.equal(second.state, 'UNSEALED');
    assert.equal(audit.filter((e) => e.operation === 'cluster.join.admit' && e.outcome === 'ALLOWED').length, 2, 'both audited their attempt');
    assert.equal(audit.filter((e) => e.operation === 'cluster.join.admit' && e.outcome === 'FAILED').length, 1, 'the loser recorded that it released nothing');
  });

  it('an unanswered join times out with JOIN_TIMEOUT', async (t) => {
    const { store, second, admitter } = await cluster(t);
    await admitter.stop();
    await assert.rejects(joinCluster({
      store, domainId: descriptorId(second), nodeName: 'node-2', evidence: joinTokenEvidence('A'.repeat(43)), pollIntervalMs: 10, timeoutMs: 50,
      unseal: () => Promise.resolve(),
    }), { code: 'JOIN_TIMEOUT' });
    assert.deepEqual(await store.list(JOIN_REQUEST_PREFIX), []);
  });
});

describe('the admitter in a running node (src/server/main.ts)', () => {
  it('runs only while unsealed and answers a join request as soon as the change feed shows it', async (t) => {
    const dir = tempDir(t, 'coffer-join-');
    const store = await openSqliteStore(join(dir, 'shared.db'));
    t.after(() => store.close());
    const first = await CofferNode.open({ dataDir: join(dir, 'n1'), nodeId: 'node-1', store });
    t.after(() => first.close());
    // The admitter's own poll is an hour: within this test only the follower's wake can answer.
    const member = await startClusterMember(first, new NodeServices(first, { deadAfterSeconds: 3 }), {
      apiUrl: 'https://node-1.test:8443', shipAudit: false, pollMs: 50, join: { provider: 'join-token' }, admitPollMs: 3_600_000,
    });
    t.after(() => member.stop());
    assert.equal(member.admitter(), undefined);
    const domain = await initDomain(first, 3, 2);
    await unseal(first, domain, [0, 2]);
    assert.ok(member.admitter() !== undefined);
    // Past the admitter's first pass, so the request below is written while it sleeps.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const second = await CofferNode.open({ dataDir: join(dir, 'n2'), nodeId: 'node-2', store });
    t.after(() => second.close());
    const issued = await new JoinTokenProvider({ store, barrier: first.barrier }).issue(officer, first.audit, { nodeName: 'node-2' });
    const started = Date.now();
    await joinNode(second, { token: issued.token }, { timeoutMs: 10_000 });
    assert.equal(second.state, 'UNSEALED');
    assert.ok(Date.now() - started < 5000, `answered after ${String(Date.now() - started)} ms`);

    await first.seal();
    assert.equal(member.admitter(), undefined);
  });
});
