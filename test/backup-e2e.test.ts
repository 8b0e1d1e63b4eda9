// Backups over a real node with mutual TLS: create, list, verify and restore through the SDK and the
// `coffer backup` commands, refusals by code, and a restore under a quorum policy that covers
// backup.restore (QUORUM_REQUIRED on the direct route; the approved token restores at apply).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coffer, failsWith, ok } from './coffer-command-kit.ts';
import { journal, refused, startReadyNode } from './tls-node-kit.ts';

const OFFICER_PASSWORD = 'officer pass phrase of some length';

describe('backups through the SDK and the CLI', () => {
  it('create, list, verify, restore (merge keeps newer), refusals, and the CLI', async (t) => {
    const node = await startReadyNode(t);
    const olivia = node.client(node.pki.officer);
    const ursula = node.client(node.pki.user);
    const key = await ursula.keys.create({ project: 'alpha', name: 'fw', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    const message = Buffer.from('firmware');
    const signed = await ursula.crypto.sign({ keyId: key.id, algorithm: 'ED25519', message });

    const created = await olivia.backups.create();
    assert.match(created.name, /^coffer-backup-.*\.cbk$/);
    assert.equal(created.manifest.domainId, (await olivia.domain.status()).domainId);
    assert.ok((created.manifest.records.byPrefix['key/'] ?? 0) >= 1);
    // The node's audit chain head is pinned in the signed manifest: an entry of its journal, hash and all.
    const head = created.manifest.auditHead ?? assert.fail('no audit head in the manifest');
    const pinned = journal(node).find((entry) => entry['seq'] === head.seq);
    assert.equal(pinned?.['hash'], head.hash);
    await refused(ursula.backups.create(), 'ACCESS_DENIED', 403);
    await refused(ursula.backups.list(), 'ACCESS_DENIED', 403);

    const listed = await olivia.backups.list();
    // The scheduler (default every 24 hours) also wrote one when the node was first unsealed.
    assert.ok(listed.backups.some((b) => b.name === created.name));
    assert.ok(listed.backups.some((b) => b.manifest.nodeId === 'e2e-node'));
    assert.equal((await olivia.backups.verify(created.name)).manifestDigest, created.manifestDigest);
    assert.equal((await olivia.backups.verify(created.manifestDigest)).name, created.name);
    await refused(olivia.backups.verify('coffer-backup-missing.cbk'), 'BACKUP_NOT_FOUND', 404);

    // A damaged copy in the directory is refused by verify and restore.
    const dir = join(node.dir, 'data', 'backups');
    const bytes = readFileSync(join(dir, created.name));
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
    writeFileSync(join(dir, 'damaged.cbk'), bytes);
    await refused(olivia.backups.verify('damaged.cbk'), 'BACKUP_INTEGRITY_FAILED', 422);
    await refused(olivia.backups.restore('damaged.cbk', 'merge'), 'BACKUP_INTEGRITY_FAILED', 422);
    await refused(olivia.backups.restore(created.name, 'empty'), 'BACKUP_TARGET_NOT_EMPTY', 409);

    // Rotate after the backup; a merge keeps version 2, and old signatures still verify.
    await ursula.keys.rotate(key.id);
    const restored = await olivia.backups.restore(created.name, 'merge');
    assert.equal(restored.mode, 'merge');
    assert.equal((await ursula.keys.get(key.id)).currentVersion, 2);
    assert.equal((await ursula.crypto.verify({ keyId: key.id, algorithm: 'ED25519', message, signature: signed.signature })).valid, true);

    const operations = journal(node).map((e) => `${String(e['operation'])} ${String(e['outcome'])}`);
    for (const expected of ['backup.create ALLOWED', 'backup.create DENIED', 'backup.verify FAILED', 'backup.restore ALLOWED']) assert.ok(operations.includes(expected), expected);

    // The CLI.
    const env = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath, COFFER_CERT: node.pki.officer.certPath, COFFER_KEY: node.pki.officer.keyPath };
    const made = JSON.parse(ok(await coffer(['backup', 'create', '--json'], env), 'backup create')) as { name: string };
    assert.match(ok(await coffer(['backup', 'list'], env), 'backup list'), new RegExp(made.name.replace(/\./g, '\\.')));
    assert.match(ok(await coffer(['backup', 'verify', made.name], env), 'backup verify'), /OK/);
    failsWith(await coffer(['backup', 'verify', 'damaged.cbk'], env), 'BACKUP_INTEGRITY_FAILED', 'verify damaged');
    assert.match(ok(await coffer(['backup', 'restore', made.name, '--mode', 'merge'], env), 'backup restore'), /restored/);
    failsWith(await coffer(['backup', 'restore', made.name, '--mode', 'sideways'], env), 'INVALID_ARGUMENT', 'bad mode');
  });

  it('under a quorum policy for backup.restore: QUORUM_REQUIRED directly, restored by the approved token', async (t) => {
    const node = await startReadyNode(t);
    const olivia = node.client(node.pki.officer);
    for (const name of ['bert', 'cora']) await olivia.principals.create({ name, role: 'officer', password: OFFICER_PASSWORD });
    const bert = node.client();
    const cora = node.client();
    await bert.auth.login('bert', OFFICER_PASSWORD);
    await cora.auth.login('cora', OFFICER_PASSWORD);
    const keys = { olivia: generateKeyPairSync('ed25519'), bert: generateKeyPairSync('ed25519'), cora: generateKeyPairSync('ed25519') };
    await olivia.quorum.registerApprovalKey(keys.olivia.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    await bert.quorum.registerApprovalKey(keys.bert.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    await cora.quorum.registerApprovalKey(keys.cora.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    await olivia.quorum.initializePolicy({ 'backup.restore': { threshold: 2, approvers: ['bert', 'cora', 'olivia'] }, 'quorum.policy-change': { threshold: 2, approvers: ['bert', 'cora', 'olivia'] } });

    const created = await olivia.backups.create();
    await refused(olivia.backups.restore(created.name, 'merge'), 'QUORUM_REQUIRED', 403);
    await refused(olivia.quorum.request('backup.restore', { backup: 'coffer-backup-missing.cbk', mode: 'merge' }), 'BACKUP_NOT_FOUND', 404);
    const parameters = { backup: created.name, mode: 'merge' };
    const token = await olivia.quorum.request('backup.restore', parameters);
    await bert.quorum.signAndApprove(token.tokenId, keys.bert.privateKey);
    await cora.quorum.signAndApprove(token.tokenId, keys.cora.privateKey);
    const applied = await olivia.quorum.apply(token.tokenId, parameters);
    assert.equal(applied.result, null);
    const restores = journal(node).filter((e) => e['operation'] === 'backup.restore');
    assert.deepEqual(restores.map((e) => e['outcome']), ['DENIED', 'ALLOWED']);
    // Nothing changed since the backup but the quorum records: every record was kept as newer or equal.
    assert.ok(Number(restores[1]?.detail?.['kept']) > 0);
    await refused(olivia.quorum.apply(token.tokenId, parameters), 'APPROVAL_ALREADY_USED', 409);
  });
});
