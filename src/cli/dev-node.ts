// Development mode: one node on embedded SQLite with a 1-of-1 security domain whose single custodian
// key sits in a 0600 file beside the data, so the node can unseal itself. Never for production: the
// file that unseals the domain lives next to the database it protects.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCustodianKeyPair, openShare } from '../barrier/index.ts';
import { CofferError } from '../core/errors.ts';
import { CofferNode } from '../server/coffer-node.ts';

export const DEV_CUSTODIAN_FILE = 'dev-custodian.json';

interface DevCustodianFile {
  readonly warning: string;
  readonly name: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

function readCustodian(path: string): DevCustodianFile {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new CofferError('INVALID_ARGUMENT', `${path} is not a custodian file`);
  const { name, publicKey, privateKey, warning } = parsed as Record<string, unknown>;
  if (typeof name !== 'string' || typeof publicKey !== 'string' || typeof privateKey !== 'string' || typeof warning !== 'string') {
    throw new CofferError('INVALID_ARGUMENT', `${path} is not a custodian file`);
  }
  return { name, publicKey, privateKey, warning };
}

/**
 * Opens (creating on first use) the development node in `dataDir` and unseals it with the local
 * custodian key. The caller owns the node and closes it.
 */
export async function openDevNode(dataDir: string, nodeId = 'dev'): Promise<{ node: CofferNode; created: boolean }> {
  const node = await CofferNode.open({ dataDir, nodeId });
  try {
    const custodianPath = join(dataDir, DEV_CUSTODIAN_FILE);
    let created = false;
    if (node.state === 'UNINITIALIZED') {
      const pair = createCustodianKeyPair();
      const file: DevCustodianFile = {
        warning: 'INSECURE development custodian key: whoever reads this file can unseal this data directory',
        name: 'dev-custodian',
        ...pair,
      };
      // 'wx': never overwrite a custodian key that might still be needed.
      writeFileSync(custodianPath, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      await node.initDomain({ custodians: [{ name: file.name, publicKey: pair.publicKey }], threshold: 1 });
      created = true;
    }
    if (!existsSync(custodianPath)) {
      throw new CofferError('INVALID_ARGUMENT', `${custodianPath} is missing: this data directory cannot be unsealed in development mode`);
    }
    const custodian = readCustodian(custodianPath);
    const descriptor = node.barrier.descriptor;
    const entry = descriptor?.custodians.find((c) => c.publicKey === custodian.publicKey);
    if (descriptor === undefined || entry === undefined) throw new CofferError('INVALID_ARGUMENT', `${custodianPath} is not a custodian of this domain`);
    const share = await openShare(custodian.privateKey, descriptor, entry.id);
    try {
      await node.unsealWithShares([{ custodianId: entry.id, share }], 'dev-custodian');
    } finally {
      share.fill(0);
    }
    return { node, created };
  } catch (error) {
    await node.close();
    throw error;
  }
}
