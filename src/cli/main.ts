// The `coffer` command. `coffer dev` (what `npm start` runs) opens the development node.
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CofferError, isCofferError } from '../core/errors.ts';
import { verifyJournal } from '../audit/index.ts';
import type { Caller } from '../core/engine/index.ts';
import { openDevNode } from './dev-node.ts';

const USAGE = `usage: coffer <command>

commands:
  dev     open the development node in $COFFER_DATA_DIR (default .coffer/dev), creating and
          unsealing its 1-of-1 development domain, run a self-check and print its status
  help    this text
`;

async function dev(): Promise<void> {
  const dataDir = resolve(process.env['COFFER_DATA_DIR'] ?? '.coffer/dev');
  const { node, created } = await openDevNode(dataDir);
  try {
    const status = node.status();
    console.log(`coffer: development node ${created ? 'created' : 'opened'} in ${dataDir}`);
    console.log(`  domain ${status.domainId ?? '?'}: ${status.state}, ${status.threshold ?? '?'}-of-${status.custodians?.length ?? '?'} custodians (dev key: ${dataDir}/dev-custodian.json, INSECURE)`);
    const admin: Caller = { principal: 'dev-admin', roles: ['officer', 'user'], projects: ['dev'], requestId: `dev-${randomBytes(6).toString('hex')}` };
    const ref = { project: 'dev', name: 'dev-self-check' };
    try {
      await node.engine.keys.describe(admin, ref);
    } catch (error) {
      if (!isCofferError(error, 'KEY_NOT_FOUND')) throw error;
      await node.engine.keys.create(admin, { ...ref, spec: 'EC_P256', usage: 'SIGN_VERIFY', description: 'signed by npm start as a self-check' });
    }
    const message = Buffer.from(`self-check ${new Date().toISOString()}`);
    const signed = await node.engine.crypto.sign(admin, ref, { algorithm: 'ECDSA_SHA_256', message });
    const verified = await node.engine.crypto.verify(admin, ref, { algorithm: 'ECDSA_SHA_256', message, signature: signed.signature });
    if (!verified.valid) throw new CofferError('INTERNAL_ERROR', 'self-check signature did not verify');
    console.log(`  self-check: EC_P256 key ${signed.keyId} v${signed.keyVersion} signed and verified`);
  } finally {
    await node.close();
  }
  const journal = await verifyJournal(node.journalPath, { publicKey: node.auditPublicKey() });
  if (!journal.ok) throw new CofferError('AUDIT_CHAIN_INVALID', `the audit journal does not verify: ${JSON.stringify(journal)}`);
  console.log(`  audit journal ${node.journalPath}: ${journal.entries} entries, ${journal.checkpoints} signed checkpoints, chain verified`);
  console.log('  the HTTPS API (mutual TLS, VSSM-compatible endpoints) is not served yet: it arrives with the node server.');
}

async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'dev':
      await dev();
      return 0;
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`coffer: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

// Everything this process creates (store, journal, custodian file) is for its owner only.
process.umask(0o077);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const code = isCofferError(error) ? error.code : 'INTERNAL_ERROR';
  const message = isCofferError(error) ? error.message : 'unexpected failure';
  console.error(`coffer: ${code}: ${message}`);
  if (!isCofferError(error)) console.error(error);
  process.exitCode = 1;
}
