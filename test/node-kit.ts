// Shared set-up for end-to-end tests: real nodes (SQLite store, barrier, durable journal, engine)
// in temporary directories, with custodian keys held by the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createCustodianKeyPair, openShare, type CustodianKeyPair, type DomainDescriptor } from '../src/barrier/index.ts';
import type { Caller } from '../src/core/engine/index.ts';
import { CofferNode } from '../src/server/coffer-node.ts';

export interface TestDomain {
  readonly custodians: readonly CustodianKeyPair[];
  readonly descriptor: DomainDescriptor;
}

export function tempDir(t: TestContext, prefix = 'coffer-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export function user(principal: string, projects: readonly string[] = ['alpha']): Caller {
  return { principal, roles: ['user'], projects, requestId: `req-${principal}-${Math.random().toString(36).slice(2)}` };
}

/** Initialises the node's domain M-of-N with fresh custodians. */
export async function initDomain(node: CofferNode, custodians: number, threshold: number): Promise<TestDomain> {
  const pairs = Array.from({ length: custodians }, () => createCustodianKeyPair());
  const descriptor = await node.initDomain({ custodians: pairs.map((p, i) => ({ name: `custodian-${i}`, publicKey: p.publicKey })), threshold });
  return { custodians: pairs, descriptor };
}

/** Unseals with the plaintext shares of the custodians at `indexes`. */
export async function unseal(node: CofferNode, domain: TestDomain, indexes: readonly number[]): Promise<void> {
  const shares = await Promise.all(indexes.map(async (i) => {
    const custodian = domain.descriptor.custodians[i];
    const pair = domain.custodians[i];
    if (custodian === undefined || pair === undefined) throw new Error(`no custodian ${i}`);
    return { custodianId: custodian.id, share: await openShare(pair.privateKey, domain.descriptor, custodian.id) };
  }));
  try {
    await node.unsealWithShares(shares);
  } finally {
    for (const s of shares) s.share.fill(0);
  }
}

/** A fresh, unsealed 1-of-1 node; closed when the test ends. */
export async function openTestNode(t: TestContext, dataDir = tempDir(t)): Promise<{ node: CofferNode; domain: TestDomain; dataDir: string }> {
  const node = await CofferNode.open({ dataDir, nodeId: 'test-node' });
  t.after(() => node.close());
  const domain = await initDomain(node, 1, 1);
  await unseal(node, domain, [0]);
  return { node, domain, dataDir };
}
