// Development mode's security domain: 1-of-1, its single custodian key in a 0600 file beside the
// data, so the node can unseal itself. Never for production: the file that unseals the domain lives
// next to the database it protects.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCustodianKeyPair, openShare } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import { CofferNode } from '../../server/index.ts';

export const DEV_CUSTODIAN_FILE = 'dev-custodian.json';

interface DevCustodianFile {
  readonly warning: string;
  readonly name: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

function readCustodian(path: string): DevCustodianFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `${path} is not a custodian file`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CofferError('INVALID_ARGUMENT', `${path} is not a custodian file`);
  const { name, publicKey, privateKey, warning } = parsed as Record<string, unknown>;
  if (typeof name !== 'string' || typeof publicKey !== 'string' || typeof privateKey !== 'string' || typeof warning !== 'string') {
    throw new CofferError('INVALID_ARGUMENT', `${path} is not a custodian file`);
  }
  return { name, publicKey, privateKey, warning };
}

/**
 * Creates the 1-of-1 domain in `dataDir` when it has none, on a node that is not listening yet (so
 * nobody else can initialise it first). Returns whether it was created.
 */
export async function initDevDomain(dataDir: string, nodeId: string): Promise<boolean> {
  const node = await CofferNode.open({ dataDir, nodeId });
  try {
    if (node.state !== 'UNINITIALIZED') return false;
    const path = join(dataDir, DEV_CUSTODIAN_FILE);
    // A key left by an init that failed half-way protects nothing yet: reuse it rather than fail.
    let custodian = existsSync(path) ? readCustodian(path) : undefined;
    if (custodian === undefined) {
      custodian = {
        warning: 'INSECURE development custodian key: whoever reads this file can unseal this data directory',
        name: 'dev-custodian',
        ...createCustodianKeyPair(),
      };
      // 'wx': never overwrite a custodian key that might still be needed.
      writeFileSync(path, `${JSON.stringify(custodian, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    }
    await node.initDomain({ custodians: [{ name: custodian.name, publicKey: custodian.publicKey }], threshold: 1 });
    return true;
  } finally {
    await node.close();
  }
}

/** Unseals `node` with the development custodian key beside its data. */
export async function unsealDevNode(node: CofferNode, dataDir: string): Promise<void> {
  const path = join(dataDir, DEV_CUSTODIAN_FILE);
  if (!existsSync(path)) throw new CofferError('INVALID_ARGUMENT', `${path} is missing: this data directory cannot be unsealed in development mode`);
  const custodian = readCustodian(path);
  const descriptor = node.barrier.descriptor;
  const entry = descriptor?.custodians.find((c) => c.publicKey === custodian.publicKey);
  if (descriptor === undefined || entry === undefined) throw new CofferError('INVALID_ARGUMENT', `${path} is not a custodian of this domain`);
  const share = await openShare(custodian.privateKey, descriptor, entry.id);
  try {
    await node.unsealWithShares([{ custodianId: entry.id, share }], 'dev-custodian');
  } finally {
    share.fill(0);
  }
}
