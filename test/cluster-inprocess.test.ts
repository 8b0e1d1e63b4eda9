// Two nodes in one process over ONE shared store (a SQLite file, or PostgreSQL when installed), each
// with its own data directory (journal, lock), caches, follower and heartbeat: what one node writes
// the other uses, and a change on one is seen by the other's caches within about a second.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCustodianKeyPair, openShare, type DomainDescriptor, type CustodianKeyPair } from '../src/barrier/index.ts';
import type { Caller } from '../src/core/engine/index.ts';
import { CofferNode } from '../src/server/coffer-node.ts';
import { joinCluster, type ClusterMember } from '../src/server/main.ts';
import { NodeServices } from '../src/server/node-services.ts';
import { openSqliteStore, type Store } from '../src/store/index.ts';
import { createApp } from '../src/server/app.ts';

interface Member {
  readonly node: CofferNode;
  readonly services: NodeServices;
  readonly cluster: ClusterMember;
}

const officer: Caller = { principal: 'olivia', roles: ['officer'], projects: [], requestId: 'test' };
const alice: Caller = { principal: 'alice', roles: ['user'], projects: ['alpha'], requestId: 'test' };

async function unseal(node: CofferNode, custodian: CustodianKeyPair, descriptor: DomainDescriptor): Promise<void> {
  const entry = descriptor.custodians[0];
  if (entry === undefined) throw new Error('no custodian');
  const share = await openShare(custodian.privateKey, descriptor, entry.id);
  await node.unsealWithShares([{ custodianId: entry.id, share }]);
}

async function member(t: TestContext, root: string, nodeId: string, store: Store): Promise<Member> {
  const node = await CofferNode.open({ dataDir: join(root, nodeId), nodeId, store });
  const services = new NodeServices(node, { deadAfterSeconds: 3 });
  const cluster = await joinCluster(node, services, { apiUrl: `https://${nodeId}.test:8443`, heartbeatSeconds: 1, shipAudit: true, pollMs: 100 });
  t.after(async () => {
    await cluster.heartbeat.stop();
    await node.close();
    await cluster.stop();
  });
  return { node, services, cluster };
}

/** Retries `check` until it passes or `ms` elapse: propagation is bounded by the poll period. */
async function eventually(check: () => Promise<void>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('two nodes over one shared store', () => {
  it('a key created on A signs on B; a principal disabled on B is refused on A; both nodes are listed', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'coffer-cluster-inproc-'));
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const store = await openSqliteStore(join(root, 'shared.db'));
    t.after(() => store.close());
    const a = await member(t, root, 'node-a', store);
    const b = await member(t, root, 'node-b', store);
    assert.equal(b.node.state, 'UNINITIALIZED');

    const custodian = createCustodianKeyPair();
    const descriptor = await a.node.initDomain({ custodians: [{ name: 'c0', publicKey: custodian.publicKey }], threshold: 1 });
    // B adopts the domain A created at its next heartbeat.
    await b.cluster.heartbeat.beat();
    assert.equal(b.node.state, 'SEALED');
    await unseal(a.node, custodian, descriptor);
    await unseal(b.node, custodian, descriptor);
    assert.ok(a.cluster.follower() !== undefined && b.cluster.follower() !== undefined);

    // Keys: created on A, used on B; rotated on A after B cached it, and B signs with the new version.
    const key = await a.node.engine.keys.create(alice, { project: 'alpha', name: 'release', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    const message = randomBytes(32);
    const signed = await b.node.engine.crypto.sign(alice, key.id, { algorithm: 'ED25519', message });
    assert.equal(signed.keyVersion, 1);
    await a.node.engine.keys.rotate(alice, key.id);
    await eventually(async () => {
      const again = await b.node.engine.crypto.sign(alice, key.id, { algorithm: 'ED25519', message });
      assert.equal(again.keyVersion, 2);
    });
    const disabled = await a.node.engine.keys.disable(alice, key.id);
    assert.equal(disabled.state, 'DISABLED');
    await eventually(async () => {
      await assert.rejects(b.node.engine.crypto.sign(alice, key.id, { algorithm: 'ED25519', message }), { code: 'KEY_DISABLED' });
    });

    // Principals: authenticated on A (cached), disabled on B, refused on A within the poll period.
    const directoryA = await a.services.directory();
    const directoryB = await b.services.directory();
    const fingerprint = createHash('sha256').update(randomBytes(16)).digest('hex');
    await directoryA.bootstrapOfficer({ name: 'olivia' });
    await directoryA.createProject(officer, { name: 'alpha' }).catch(() => undefined);
    await directoryA.createPrincipal(officer, { name: 'ursula', role: 'user', projects: ['alpha'], certificates: [{ fingerprint }] });
    assert.equal((await directoryA.authenticateCertificate(fingerprint, 'r1')).name, 'ursula');
    await directoryB.updatePrincipal(officer, 'ursula', { status: 'DISABLED' });
    const started = Date.now();
    await eventually(async () => {
      await assert.rejects(directoryA.authenticateCertificate(fingerprint, 'r2'), { code: 'AUTH_FAILED' });
    }, 1500);
    assert.ok(Date.now() - started < 1500);

    // The registry: both nodes live and unsealed, through the route.
    await a.cluster.heartbeat.beat();
    await b.cluster.heartbeat.beat();
    const app = createApp(a.services, { logger: false, testAuthenticator: () => directoryA.getPrincipal(officer, 'olivia') });
    t.after(() => app.close());
    const reply = await app.inject({ method: 'GET', url: '/v1/cluster/nodes' });
    assert.equal(reply.statusCode, 200, reply.body);
    const nodes = reply.json<{ nodes: { nodeId: string; state: string; self: boolean; apiUrl: string }[] }>().nodes;
    assert.deepEqual(nodes.map((n) => [n.nodeId, n.state, n.self, n.apiUrl]), [
      ['node-a', 'UNSEALED', true, 'https://node-a.test:8443'], ['node-b', 'UNSEALED', false, 'https://node-b.test:8443'],
    ]);

    // A clean stop deregisters.
    await b.cluster.heartbeat.stop();
    assert.deepEqual((await a.services.clusterNodes()).nodes.map((n) => n.nodeId), ['node-a']);
  });
});
