// The node the in-process benchmarks measure: a CofferNode on a temporary data directory with a
// 1-of-1 domain unsealed in-process, exactly as src/cli/dev-node.ts does it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCustodianKeyPair, openShare } from '../src/barrier/index.ts';
import { CofferNode } from '../src/server/coffer-node.ts';

export interface BenchNode {
  readonly node: CofferNode;
  readonly dataDir: string;
  /** Closes the node and removes its data directory. */
  close(): Promise<void>;
}

export async function openBenchNode(prefix: string): Promise<BenchNode> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const close = async (node?: CofferNode): Promise<void> => {
    await node?.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  let node: CofferNode | undefined;
  try {
    node = await CofferNode.open({ dataDir, nodeId: 'bench' });
    const custodian = createCustodianKeyPair();
    const descriptor = await node.initDomain({ custodians: [{ name: 'bench-custodian', publicKey: custodian.publicKey }], threshold: 1 });
    const entry = descriptor.custodians[0];
    if (entry === undefined) throw new Error('the domain has no custodian');
    const share = await openShare(custodian.privateKey, descriptor, entry.id);
    try {
      await node.unsealWithShares([{ custodianId: entry.id, share }], 'bench');
    } finally {
      share.fill(0);
    }
  } catch (error) {
    await close(node);
    throw error;
  }
  const opened = node;
  return { node: opened, dataDir, close: () => close(opened) };
}
