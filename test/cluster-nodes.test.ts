// Cluster mode end to end on one machine: a real PostgreSQL server and Coffer nodes as separate
// processes on loopback ports. Keys and principals made on one node act on the others; a node killed
// with SIGKILL under a steady signing load fails no client request; PostgreSQL stopped and restarted
// under load leaves signing running, refuses writes with STORE_UNAVAILABLE, and loses no audit entry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgresStore } from '../src/store/postgres/index.ts';
import { readyCluster, startCluster, type ClusterNode, type TestCluster } from './cluster-kit.ts';
import { refused } from './tls-node-kit.ts';

const message = Buffer.from('cluster release 1.0');

/** Signs with `workers` concurrent loops until stopped; counts successes and keeps every failure. */
function signingLoad(sign: () => Promise<unknown>, workers: number): { stop(): Promise<{ ok: number; failures: unknown[] }> } {
  let running = true;
  let ok = 0;
  const failures: unknown[] = [];
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        await sign();
        ok += 1;
      } catch (error) {
        failures.push(error);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ok, failures };
    },
  };
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function journalLines(node: ClusterNode): number {
  return readFileSync(join(node.dataDir, 'audit.jsonl'), 'utf8').trim().split('\n').length;
}

describe('a cluster of three nodes over PostgreSQL', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  let c: ClusterNode;

  before(async () => {
    cluster = await startCluster();
    a = await cluster.startNode('node-a');
    await readyCluster(cluster);
    b = await cluster.startNode('node-b');
    c = await cluster.startNode('node-c');
    for (const node of [b, c]) await cluster.client(undefined, [node.url]).domain.unsealAsCustodian(cluster.custodian);
  });
  after(async () => {
    await cluster.close();
  });

  it('lists its live nodes, and a key created on A signs on B and C', async () => {
    const onA = cluster.client(cluster.pki.user, [a.url]);
    await eventually('three live nodes', async () => (await onA.cluster.nodes()).filter((n) => n.state === 'UNSEALED').length === 3);
    const key = await onA.keys.create({ project: 'alpha', name: 'release', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const publicKey = createPublicKey((await onA.keys.publicKey(key.id)).pem);
    for (const node of [b, c]) {
      const signed = await cluster.client(cluster.pki.user, [node.url]).crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message });
      assert.ok(verify('sha256', message, publicKey, signed.signature));
    }
  });

  it('a principal disabled on B is refused on C', async () => {
    const officerOnB = cluster.client(cluster.pki.officer, [b.url]);
    const onC = cluster.client(cluster.pki.user, [c.url]);
    const key = await onC.keys.create({ project: 'alpha', name: 'soon-refused', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    await onC.crypto.sign({ keyId: key.id, algorithm: 'ED25519', message });
    await officerOnB.principals.update('ursula', { status: 'DISABLED' });
    await eventually('C to refuse the disabled principal', async () => {
      try {
        await onC.crypto.sign({ keyId: key.id, algorithm: 'ED25519', message });
        return false;
      } catch {
        return true;
      }
    }, 5_000);
    await refused(onC.crypto.sign({ keyId: key.id, algorithm: 'ED25519', message }), 'AUTH_FAILED', 401);
    await officerOnB.principals.update('ursula', { status: 'ACTIVE' });
    await eventually('C to accept the principal again', async () => {
      try {
        await onC.crypto.sign({ keyId: key.id, algorithm: 'ED25519', message });
        return true;
      } catch {
        return false;
      }
    }, 5_000);
  });

  it('a node killed with SIGKILL under a steady signing load fails no client request', async () => {
    const sdk = cluster.client(cluster.pki.user, [a.url, b.url, c.url]);
    const key = await sdk.keys.create({ project: 'alpha', name: 'under-load', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const load = signingLoad(() => sdk.crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message }), 6);
    await sleep(1500);
    await c.kill();
    await sleep(2500);
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, [], `${String(failures.length)} of ${String(ok + failures.length)} requests failed`);
    assert.ok(ok > 50, `only ${String(ok)} signatures`);
    const officer = cluster.client(cluster.pki.officer, [a.url]);
    await eventually('the killed node to drop out', async () => !(await officer.cluster.nodes()).some((n) => n.nodeId === 'node-c'), 10_000);
  });

  it('a fourth node joins with a join token and serves; the reused token is refused', async () => {
    const officer = cluster.client(cluster.pki.officer, [a.url]);
    const issued = await officer.cluster.issueJoinToken({ nodeName: 'node-d', expiresInSeconds: 120 });
    const d = await cluster.startNode('node-d', { joinToken: issued.token });
    assert.match(d.output(), /\(UNSEALED\) serving the API/);
    const onD = cluster.client(cluster.pki.user, [d.url]);
    const key = await cluster.client(cluster.pki.user, [a.url]).keys.create({ project: 'alpha', name: 'for-the-new-node', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    const signed = await onD.crypto.sign({ keyId: key.id, algorithm: 'ED25519', message });
    assert.ok(verify(null, message, createPublicKey((await onD.keys.publicKey(key.id)).pem), signed.signature));
    await eventually('node-d among the live nodes', async () => (await officer.cluster.nodes()).some((n) => n.nodeId === 'node-d' && n.state === 'UNSEALED'));
    // The same token again, for the same name: refused, and the process gives up without serving.
    await assert.rejects(cluster.startNode('node-d2', { joinToken: issued.token }), /JOIN_REFUSED/);
    const unbound = await officer.cluster.issueJoinToken({ nodeName: 'node-e', expiresInSeconds: 120 });
    await assert.rejects(cluster.startNode('node-f', { joinToken: unbound.token }), /JOIN_REFUSED/);
    // Whichever node admitted or refused (node-d too, once it serves) said so in its journal. An admitter audits before it releases
    // the key (and audits FAILED when another admitter won the race), so there is at least one
    // admission entry for node-d, and one refusal for each refused joiner.
    const operations = [a, b, d].flatMap((node) => readFileSync(join(node.dataDir, 'audit.jsonl'), 'utf8').trim().split('\n')
      .map((line) => JSON.parse(line) as { operation?: string; outcome?: string; detail?: { nodeName?: string } }));
    assert.ok(operations.some((e) => e.operation === 'cluster.join.admit' && e.outcome === 'ALLOWED' && e.detail?.nodeName === 'node-d'));
    assert.equal(operations.filter((e) => e.operation === 'cluster.join.refuse').length, 2);
  });

  it('PostgreSQL stopped and restarted under load: signing goes on, writes are STORE_UNAVAILABLE, every audit entry reaches the store', async () => {
    const sdk = cluster.client(cluster.pki.user, [a.url, b.url]);
    const key = await sdk.keys.create({ project: 'alpha', name: 'through-outage', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    // Both nodes have the key cached before the database goes away.
    for (const node of [a, b]) await cluster.client(cluster.pki.user, [node.url]).crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message });
    const load = signingLoad(() => sdk.crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message }), 4);
    await sleep(500);
    await cluster.postgres.stop();
    await sleep(1000);
    for (const node of [a, b]) {
      await refused(cluster.client(cluster.pki.user, [node.url]).keys.create({ project: 'alpha', name: `during-outage-${node.name}`, spec: 'ED25519', usage: 'SIGN_VERIFY' }), 'STORE_UNAVAILABLE', 503);
    }
    await sleep(1500);
    await cluster.postgres.restart();
    await sleep(1000);
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, [], `${String(failures.length)} of ${String(ok + failures.length)} requests failed`);
    assert.ok(ok > 50, `only ${String(ok)} signatures`);
    // Writes work again, and every entry of both journals is in the store, in order.
    await sdk.keys.create({ project: 'alpha', name: 'after-outage', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    const store = await openPostgresStore({ connectionString: cluster.postgres.url });
    try {
      for (const node of [a, b]) {
        await eventually(`${node.name}'s journal to reach the store`, async () => (await store.list(`audit/${node.name}/`)).length >= journalLines(node));
        const shipped = await store.list(`audit/${node.name}/`);
        const local = readFileSync(join(node.dataDir, 'audit.jsonl'), 'utf8').trim().split('\n');
        assert.deepEqual(shipped.slice(0, local.length).map((e) => Buffer.from(e.value).toString('utf8').trim()), local.map((l) => l.trim()));
      }
    } finally {
      await store.close();
    }
  });
});
