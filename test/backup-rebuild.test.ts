// Restore after losing every node (`coffer serve --restore-from FILE`, StartOptions.restoreFrom): a
// backup made through the SDK, the node and its data directory gone, a new node on an empty store
// adopts the backup's domain, the custodian unseals it and the restore runs inside that unseal.
// Refusals: an altered file before the node listens (BACKUP_INTEGRITY_FAILED), an altered file at
// the unseal (the node seals itself again), a store that is not empty (BACKUP_TARGET_NOT_EMPTY).
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CustodianKeyPair } from '../src/barrier/index.ts';
import { CofferError } from '../src/core/errors.ts';
import { CofferClient } from '../src/client/index.ts';
import { parseConfig, startNode, type RunningNode } from '../src/server/index.ts';
import { coffer, failsWith } from './coffer-command-kit.ts';
import { tempDir } from './node-kit.ts';
import { journal, refused, startReadyNode, type TlsNode } from './tls-node-kit.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const MESSAGE = Buffer.from('firmware image 2.1');
const SIGNING = [
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256' },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' },
  { spec: 'ED25519', algorithm: 'ED25519' },
] as const;

interface Made {
  /** A CA that issued, attached and revoked before the backup (its CRL is at number 2). */
  readonly pki: { readonly caId: string; readonly keyId: string; readonly certificateId: string; readonly csr: string };
  readonly ciphertext: Buffer;
  readonly signatures: readonly { keyId: string; algorithm: string; signature: Buffer }[];
}

/** Keys of several specs, a ciphertext and signatures, then a backup copied out of the node. */
async function makeBackup(t: TestContext): Promise<{ source: TlsNode & { custodian: CustodianKeyPair }; file: string; made: Made }> {
  const source = await startReadyNode(t);
  const olivia = source.client(source.pki.officer);
  const ursula = source.client(source.pki.user);
  const aes = await ursula.keys.create({ project: 'alpha', name: 'aes', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
  await ursula.keys.rotate(aes.id);
  const { ciphertext } = await ursula.crypto.encrypt({ keyId: aes.id, plaintext: MESSAGE });
  const signatures = [];
  for (const { spec, algorithm } of SIGNING) {
    const key = await ursula.keys.create({ project: 'alpha', name: `sign-${spec}`, spec, usage: 'SIGN_VERIFY' });
    signatures.push({ keyId: key.id, algorithm, signature: (await ursula.crypto.sign({ keyId: key.id, algorithm, message: MESSAGE })).signature });
  }
  const caKey = await ursula.keys.create({ project: 'alpha', name: 'ca', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
  const ca = await ursula.pki.createCa({ name: 'ca', key: caKey.id, subject: 'CN=Backed-up CA' });
  const leaf = signatures[1]?.keyId ?? '';
  const { attached } = await ursula.pki.issueForKey(ca.caId, leaf, { subject: 'CN=signer', extendedKeyUsage: ['codeSigning'] });
  const csr = (await ursula.pki.createCsr(leaf, { subject: 'CN=again' })).csr;
  await ursula.pki.revoke(ca.caId, (await ursula.pki.issue(ca.caId, { csr })).serialNumber, 'superseded');
  const created = await olivia.backups.create();
  const file = join(source.dir, 'offsite.cbk');
  copyFileSync(join(source.dir, 'data', 'backups', created.name), file);
  // Lose every node: the node and its whole data directory.
  await source.running.close();
  rmSync(join(source.dir, 'data'), { recursive: true, force: true });
  return { source, file, made: { ciphertext, signatures, pki: { caId: ca.caId, keyId: leaf, certificateId: attached.certificateId, csr } } };
}

function configFor(node: TlsNode, dataDir: string): Record<string, unknown> {
  return {
    dataDir, nodeId: 'rebuilt',
    api: { host: '127.0.0.1', port: 0, tls: { certFile: node.pki.serverCertPath, keyFile: node.pki.serverKeyPath, clientCaFile: node.pki.caPath } },
    health: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
  };
}

function clientOf(t: TestContext, node: TlsNode, url: string, credentials?: { certPath: string; keyPath: string }): CofferClient {
  const client = new CofferClient({ url, ca: node.pki.caPath, ...(credentials === undefined ? {} : { cert: credentials.certPath, key: credentials.keyPath }) });
  t.after(() => {
    client.close();
  });
  return client;
}

async function startOrError(config: Record<string, unknown>, restoreFrom: string): Promise<RunningNode | CofferError> {
  return startNode(parseConfig(config), { logger: false, restoreFrom }).catch((error: unknown) => {
    assert.ok(error instanceof CofferError, String(error));
    return error;
  });
}

/** Everything made before the backup is back and works. */
async function assertRestored(t: TestContext, node: TlsNode, url: string, made: Made): Promise<void> {
  const olivia = clientOf(t, node, url, node.pki.officer);
  const ursula = clientOf(t, node, url, node.pki.user);
  assert.equal((await olivia.auth.whoami()).name, 'olivia');
  assert.equal((await ursula.auth.whoami()).name, 'ursula');
  assert.deepEqual((await ursula.crypto.decrypt({ ciphertext: made.ciphertext })).plaintext, MESSAGE);
  for (const { keyId, algorithm, signature } of made.signatures) {
    assert.equal((await ursula.crypto.verify({ keyId, algorithm, message: MESSAGE, signature })).valid, true, algorithm);
  }
  // The CA keeps working where it left off: its certificate, attachments, revocations and CRL numbers.
  const ca = await ursula.pki.getCa(made.pki.caId);
  assert.equal(ca.name, 'ca');
  assert.equal((await ursula.pki.getCertificate(made.pki.keyId, made.pki.certificateId)).chainLength, 2);
  assert.equal((await ursula.pki.getCrl(made.pki.caId)).revokedCount, 1);
  assert.equal((await ursula.pki.publishCrl(made.pki.caId)).crlNumber, 3);
  assert.match((await ursula.pki.issue(made.pki.caId, { csr: made.pki.csr })).serialNumber, /^[0-9a-f]{32}$/);
}

describe('restore after losing every node', () => {
  it('startNode({restoreFrom}) adopts the domain, restores at the custodian unseal; refusals by code', async (t) => {
    const { source, file, made } = await makeBackup(t);
    const bytes = readFileSync(file);

    // An altered byte anywhere is refused before the node listens: the body against the signed digest…
    const flipped = join(source.dir, 'flipped.cbk');
    const body = Buffer.from(bytes);
    body[body.length - 5] = (body[body.length - 5] ?? 0) ^ 0x01;
    writeFileSync(flipped, body);
    const dead = await startOrError(configFor(source, tempDir(t, 'coffer-rebuild-')), flipped);
    assert.ok(dead instanceof CofferError);
    assert.equal(dead.code, 'BACKUP_INTEGRITY_FAILED');
    // …and the manifest against its signature.
    const head = Buffer.from(bytes);
    head[40] = (head[40] ?? 0) ^ 0x01;
    writeFileSync(flipped, head);
    assert.equal((await startOrError(configFor(source, tempDir(t, 'coffer-rebuild-')), flipped) as CofferError).code, 'BACKUP_INTEGRITY_FAILED');

    // A new node on an empty store: SEALED in the backup's domain, the restore pending.
    const dataDir = join(tempDir(t, 'coffer-rebuild-'), 'data');
    const staged = join(source.dir, 'staged.cbk');
    copyFileSync(file, staged);
    const started = await startOrError(configFor(source, dataDir), staged);
    assert.ok(!(started instanceof CofferError), started instanceof CofferError ? started.code : '');
    const running = started;
    t.after(() => running.close());
    assert.equal(running.node.state, 'SEALED');
    assert.equal(running.pendingRestore()?.file, staged);
    const anonymous = clientOf(t, source, running.apiUrl);
    const officer = clientOf(t, source, running.apiUrl, source.pki.officer);
    const status = await anonymous.domain.status();
    assert.equal(status.state, 'SEALED');
    await refused(officer.auth.whoami(), 'DOMAIN_SEALED', 503);

    // The file is damaged between start and unseal: the restore at the unseal fails, nothing is
    // written, the node seals itself again; with the good file the next unseal restores it.
    writeFileSync(staged, body);
    await refused(anonymous.domain.unsealAsCustodian(source.custodian), 'BACKUP_INTEGRITY_FAILED', 422);
    assert.equal(running.node.state, 'SEALED');
    assert.ok(running.pendingRestore() !== undefined);
    copyFileSync(file, staged);
    const progress = await anonymous.domain.unsealAsCustodian(source.custodian);
    assert.equal(progress.state, 'UNSEALED');
    assert.equal(running.pendingRestore(), undefined);
    assert.equal(running.node.unsealStepPending, false);
    await assertRestored(t, source, running.apiUrl, made);

    const restores = journal({ ...source, running }).filter((e) => e['operation'] === 'backup.restore');
    assert.deepEqual(restores.map((e) => [e['principal'], e['outcome'], e['errorCode']]), [['custodians', 'FAILED', 'BACKUP_INTEGRITY_FAILED'], ['custodians', 'ALLOWED', undefined]]);
    assert.match(String(restores[1]?.detail?.['manifestDigest']), /^[0-9a-f]{64}$/);
    assert.ok(Number(restores[1]?.detail?.['restored']) > 0);

    // A store that is not empty is refused before listening.
    await running.close();
    assert.equal((await startOrError(configFor(source, dataDir), file) as CofferError).code, 'BACKUP_TARGET_NOT_EMPTY');
  });

  it('`coffer serve --config F --restore-from FILE` as a process; an altered file exits with BACKUP_INTEGRITY_FAILED', async (t) => {
    const { source, file, made } = await makeBackup(t);
    const dir = tempDir(t, 'coffer-rebuild-cli-');
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(configFor(source, join(dir, 'data'))));

    const flipped = join(dir, 'flipped.cbk');
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x01;
    writeFileSync(flipped, bytes);
    failsWith(await coffer(['serve', '--config', configPath, '--restore-from', flipped], {}), 'BACKUP_INTEGRITY_FAILED', 'serve --restore-from altered');

    const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath, '--restore-from', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => {
      resolve();
    }));
    t.after(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    let printed = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the node did not start:\n${printed}`));
      }, 30_000);
      const onData = (chunk: Buffer): void => {
        printed += chunk.toString('utf8');
        const match = /serving the API at (https:\/\/\S+),[\s\S]*coffer: ready/.exec(printed);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the node exited:\n${printed}`));
      });
    });
    assert.match(printed, /\(SEALED\)/);
    assert.match(printed, /it will restore .*offsite\.cbk .* after the unseal/);
    const anonymous = clientOf(t, source, url);
    assert.equal((await anonymous.domain.unsealAsCustodian(source.custodian)).state, 'UNSEALED');
    await assertRestored(t, source, url, made);
    child.kill('SIGTERM');
    await exited;
    assert.match(printed, /coffer: stopped/);
  });
});
