// Backups end to end on real nodes: back up, lose everything, restore into a new node of the same
// domain, and every key still decrypts and verifies what it made before; damaged and foreign files.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createCustodianKeyPair, openShare, type CustodianKeyPair, type DomainDescriptor } from '../src/barrier/index.ts';
import type { Caller } from '../src/core/engine/index.ts';
import type { KeySpec, KeyUsage } from '../src/core/key-record.ts';
import { CofferNode } from '../src/server/coffer-node.ts';
import { BackupScheduler, listBackups, pruneBackups, readManifest, restoreBackup, verifyBackup, writeBackup } from '../src/cluster/backup/index.ts';

interface Domain { readonly custodian: CustodianKeyPair; readonly descriptor: DomainDescriptor }

function temp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-backup-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const alice: Caller = { principal: 'alice', roles: ['user'], projects: ['alpha'], requestId: 'r1' };

async function unseal(node: CofferNode, domain: Domain): Promise<void> {
  const custodianId = domain.descriptor.custodians[0]?.id ?? '';
  const share = await openShare(domain.custodian.privateKey, domain.descriptor, custodianId);
  await node.unsealWithShares([{ custodianId, share }]);
  share.fill(0);
}

async function newNode(t: TestContext, nodeId = 'n1'): Promise<{ node: CofferNode; dir: string }> {
  const dir = temp(t);
  const node = await CofferNode.open({ dataDir: join(dir, 'data'), nodeId });
  t.after(() => node.close());
  return { node, dir };
}

async function newDomainNode(t: TestContext): Promise<{ node: CofferNode; dir: string; domain: Domain }> {
  const { node, dir } = await newNode(t);
  const custodian = createCustodianKeyPair();
  const descriptor = await node.initDomain({ custodians: [{ name: 'c0', publicKey: custodian.publicKey }], threshold: 1 });
  const domain = { custodian, descriptor };
  await unseal(node, domain);
  return { node, dir, domain };
}

const SIGNING: readonly { spec: KeySpec; algorithm: string }[] = [
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256' },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' },
  { spec: 'ED25519', algorithm: 'ED25519' },
  { spec: 'ML_DSA_44', algorithm: 'ML_DSA' },
];

async function createKey(node: CofferNode, name: string, spec: KeySpec, usage: KeyUsage): Promise<string> {
  return (await node.engine.keys.create(alice, { project: 'alpha', name, spec, usage })).id;
}

function flip(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
  writeFileSync(path, bytes);
}

test('backup → lose every node → new node from the backup descriptor → restore: old ciphertexts and signatures still work', async (t) => {
  const source = await newDomainNode(t);
  const message = Buffer.from('firmware image 1.0');
  const aesId = await createKey(source.node, 'aes', 'AES_256', 'ENCRYPT_DECRYPT');
  await source.node.engine.keys.rotate(alice, aesId);
  const { ciphertext } = await source.node.engine.crypto.encrypt(alice, aesId, message);
  const signatures: { id: string; algorithm: string; signature: Buffer }[] = [];
  for (const { spec, algorithm } of SIGNING) {
    const id = await createKey(source.node, `sign-${spec}`, spec, 'SIGN_VERIFY');
    signatures.push({ id, algorithm, signature: (await source.node.engine.crypto.sign(alice, id, { algorithm, message })).signature });
  }
  const backupDir = join(source.dir, 'backups');
  // Small chunks, so records span chunks and the body has many of them.
  const written = await writeBackup({ store: source.node.store, barrier: source.node.barrier, nodeId: 'n1', dir: backupDir, chunkBytes: 1024 });
  assert.equal(written.manifest.domainId, source.domain.descriptor.domainId);
  assert.equal(written.manifest.records.byPrefix['key/'], 1 + SIGNING.length);
  assert.ok(written.manifest.body.chunks > 3);
  assert.equal(written.manifest.records.byPrefix['sys/'], undefined, 'the descriptor travels in the manifest, not the body');
  await source.node.close();
  rmSync(join(source.dir, 'data'), { recursive: true, force: true });

  // A new node with an empty store: the descriptor from the backup, then the same custodian.
  const target = await newNode(t, 'n2');
  const manifest = await readManifest(written.path);
  await target.node.adoptDomain(manifest.descriptor);
  assert.equal(target.node.state, 'SEALED');
  await unseal(target.node, source.domain);
  const result = await restoreBackup(written.path, { store: target.node.store, barrier: target.node.barrier, mode: 'empty' });
  assert.equal(result.restored, written.manifest.records.total);

  const decrypted = await target.node.engine.crypto.decrypt(alice, ciphertext);
  assert.deepEqual(decrypted.plaintext, message);
  assert.equal(decrypted.keyVersion, 2);
  for (const { id, algorithm, signature } of signatures) {
    const verified = await target.node.engine.crypto.verify(alice, id, { algorithm, message, signature });
    assert.equal(verified.valid, true, algorithm);
  }
  // Restored records are ordinary records: they can be changed again.
  await target.node.engine.keys.rotate(alice, aesId);
  // 'empty' mode refuses a store that holds records now.
  await assert.rejects(restoreBackup(written.path, { store: target.node.store, barrier: target.node.barrier, mode: 'empty' }), { code: 'BACKUP_TARGET_NOT_EMPTY' });
});

test('a flipped byte in the manifest, the signature or the body → BACKUP_INTEGRITY_FAILED, and nothing is written', async (t) => {
  const { node, dir } = await newDomainNode(t);
  await createKey(node, 'k', 'AES_256', 'ENCRYPT_DECRYPT');
  const written = await writeBackup({ store: node.store, barrier: node.barrier, nodeId: 'n1', dir: join(dir, 'backups') });
  await verifyBackup(written.path, node.barrier);
  const revision = await node.store.revision();
  const bytes = readFileSync(written.path);
  const manifestLength = bytes.readUInt32BE(8);
  const signatureAt = 8 + 4 + manifestLength + 4;
  const bodyAt = signatureAt + 64;
  const places = {
    manifest: 8 + 4 + Math.floor(manifestLength / 2),
    signature: signatureAt + 10,
    'body length field': bodyAt + 2,
    body: bodyAt + 40,
    'last byte': bytes.length - 1,
  };
  for (const [where, offset] of Object.entries(places)) {
    const copy = join(dir, `flipped-${where.replace(/ /g, '-')}.cbk`);
    writeFileSync(copy, bytes);
    flip(copy, offset);
    await assert.rejects(verifyBackup(copy, node.barrier), { code: 'BACKUP_INTEGRITY_FAILED' }, where);
    await assert.rejects(restoreBackup(copy, { store: node.store, barrier: node.barrier, mode: 'merge' }), { code: 'BACKUP_INTEGRITY_FAILED' }, where);
  }
  // Truncated and extended files too.
  const cut = join(dir, 'cut.cbk');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 20));
  await assert.rejects(verifyBackup(cut, node.barrier), { code: 'BACKUP_INTEGRITY_FAILED' });
  const longer = join(dir, 'longer.cbk');
  writeFileSync(longer, Buffer.concat([bytes, randomBytes(24)]));
  await assert.rejects(verifyBackup(longer, node.barrier), { code: 'BACKUP_INTEGRITY_FAILED' });
  assert.equal(await node.store.revision(), revision, 'a refused restore writes nothing');
  // Listing reads manifests only: the copies with a damaged manifest or signature are listed as damaged.
  const listed = await listBackups(dir);
  assert.deepEqual(listed.damaged.sort(), ['flipped-manifest.cbk', 'flipped-signature.cbk']);
});

test("another domain's backup → BACKUP_FOREIGN_DOMAIN", async (t) => {
  const a = await newDomainNode(t);
  const b = await newDomainNode(t);
  await createKey(a.node, 'k', 'AES_256', 'ENCRYPT_DECRYPT');
  const written = await writeBackup({ store: a.node.store, barrier: a.node.barrier, nodeId: 'n1', dir: join(a.dir, 'backups') });
  await assert.rejects(verifyBackup(written.path, b.node.barrier), { code: 'BACKUP_FOREIGN_DOMAIN' });
  await assert.rejects(restoreBackup(written.path, { store: b.node.store, barrier: b.node.barrier, mode: 'merge' }), { code: 'BACKUP_FOREIGN_DOMAIN' });
  await assert.rejects(verifyBackup(join(a.dir, 'missing.cbk'), a.node.barrier), { code: 'BACKUP_NOT_FOUND' });
});

test('merge never overwrites newer versions: a key rotated after the backup keeps its new version', async (t) => {
  const { node, dir } = await newDomainNode(t);
  const id = await createKey(node, 'k', 'AES_256', 'ENCRYPT_DECRYPT');
  const before = await node.engine.crypto.encrypt(alice, id, Buffer.from('v1'));
  const written = await writeBackup({ store: node.store, barrier: node.barrier, nodeId: 'n1', dir: join(dir, 'backups') });
  await node.engine.keys.rotate(alice, id);
  const after = await node.engine.crypto.encrypt(alice, id, Buffer.from('v2'));
  assert.equal(after.keyVersion, 2);
  // A key created after the backup is absent from it and stays; a key deleted from the store comes back.
  const restoredInvalidations: string[] = [];
  const result = await restoreBackup(written.path, {
    store: node.store, barrier: node.barrier, mode: 'merge', onRestored: (key) => restoredInvalidations.push(key),
  });
  assert.equal(result.restoredByPrefix['key/'], undefined, 'the newer key record is kept');
  node.engine.invalidate(id);
  assert.equal((await node.engine.keys.describe(alice, id)).currentVersion, 2);
  assert.deepEqual((await node.engine.crypto.decrypt(alice, after.ciphertext)).plaintext, Buffer.from('v2'));
  assert.deepEqual((await node.engine.crypto.decrypt(alice, before.ciphertext)).plaintext, Buffer.from('v1'));
  assert.equal(restoredInvalidations.length, result.restored);
});

test('retention: by age and by count, against an injected clock', async (t) => {
  const { node, dir } = await newDomainNode(t);
  const backups = join(dir, 'backups');
  const day = 86_400_000;
  const start = Date.parse('2030-01-01T00:00:00Z');
  let now = start;
  const clock = { now: () => new Date(now) };
  for (let i = 0; i < 10; i++) {
    now = start + i * day;
    await writeBackup({ store: node.store, barrier: node.barrier, nodeId: 'n1', dir: backups, clock });
  }
  // Day 9: keep the newest 7 (days 3-9).
  let removed = await pruneBackups(backups, { count: 7, maxAgeDays: 30 }, clock);
  assert.equal(removed.length, 3);
  let left = (await listBackups(backups)).backups.map((b) => b.manifest.createdAt);
  assert.deepEqual(left, Array.from({ length: 7 }, (_, i) => new Date(start + (i + 3) * day).toISOString()));
  // Day 14: anything older than 7 days goes (days 3-6); days 7-9 stay.
  now = start + 14 * day;
  removed = await pruneBackups(backups, { count: 7, maxAgeDays: 7 }, clock);
  assert.equal(removed.length, 4);
  left = (await listBackups(backups)).backups.map((b) => b.manifest.createdAt);
  assert.deepEqual(left, [7, 8, 9].map((d) => new Date(start + d * day).toISOString()));
  // Long after: the newest one is kept even though it is old.
  now = start + 400 * day;
  await pruneBackups(backups, { count: 7, maxAgeDays: 7 }, clock);
  assert.equal((await listBackups(backups)).backups.length, 1);
});

test('scheduler: one lease holder writes a backup each interval, the other node waits; retention applies', async (t) => {
  const { node, dir } = await newDomainNode(t);
  const backups = join(dir, 'backups');
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = { now: () => new Date(now) };
  const make = (nodeId: string): BackupScheduler => new BackupScheduler({
    store: node.store, barrier: node.barrier, nodeId, dir: backups, intervalHours: 24, retention: { count: 2, maxAgeDays: 30 }, clock, checkMs: 60_000,
  });
  const a = make('a');
  const b = make('b');
  assert.ok(await a.tick(), 'the first check writes a backup');
  assert.equal(await b.tick(), undefined, 'another node does not while the lease is held');
  now += 3_600_000;
  assert.equal(await a.tick(), undefined, 'not due yet');
  now += 24 * 3_600_000;
  assert.ok(await a.tick());
  now += 24 * 3_600_000;
  assert.ok(await a.tick());
  assert.equal((await listBackups(backups)).backups.length, 2, 'retention keeps the newest 2');
  // The holder stops (dies): once its lease expires the other node takes over.
  now += 24 * 3_600_000;
  assert.ok(await b.tick());
  await a.stop();
  await b.stop();
});
