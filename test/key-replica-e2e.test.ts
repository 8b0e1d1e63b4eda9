// Cluster to cluster ("multi-region keys") over two real nodes with their own security domains: the
// target issues an import token with preserveId; the source's officers approve key.export of a
// NON-exportable key to that token's public key; the target's officers approve key.import-foreign;
// the key keeps its id and versions, so each cluster decrypts the other's ciphertexts and verifies
// the other's signatures. Refusals are asserted by code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { CofferClient, QuorumParameters } from '../src/client/index.ts';
import { refused, startReadyNode, type TlsNode } from './tls-node-kit.ts';

/** olivia (the only officer) registers an approval key; the policy then guards `operation` 1 of 1. */
async function guard(node: TlsNode, operation: 'key.export' | 'key.import-foreign'): Promise<{ olivia: CofferClient; approve: (tokenId: string) => Promise<unknown> }> {
  const olivia = node.client(node.pki.officer);
  const approvalKey = generateKeyPairSync('ed25519');
  await olivia.quorum.registerApprovalKey(approvalKey.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  await olivia.quorum.initializePolicy({ [operation]: { threshold: 1, approvers: ['olivia'] }, 'quorum.policy-change': { threshold: 1, approvers: ['olivia'] } });
  return { olivia, approve: (tokenId) => olivia.quorum.signAndApprove(tokenId, approvalKey.privateKey) };
}

async function byQuorum(user: CofferClient, approve: (tokenId: string) => Promise<unknown>, operation: 'key.export' | 'key.import-foreign', parameters: QuorumParameters): Promise<unknown> {
  const token = await user.quorum.request(operation, parameters);
  await approve(token.tokenId);
  return (await user.quorum.apply(token.tokenId, parameters)).result;
}

describe('replicating keys between clusters', () => {
  it('shares a non-exportable key by both clusters’ quorums; each decrypts and verifies the other’s output', async (t) => {
    const source = await startReadyNode(t);
    const target = await startReadyNode(t);
    const sourceUser = source.client(source.pki.user);
    const targetUser = target.client(target.pki.user);

    const aes = await sourceUser.keys.create({ project: 'alpha', name: 'regional', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', tags: { region: 'eu' } });
    assert.equal(aes.exportable, false);
    const old = await sourceUser.crypto.encrypt({ keyId: aes.id, plaintext: Buffer.from('version one'), context: { app: 'x' } });
    await sourceUser.keys.rotate(aes.id);
    const fromSource = await sourceUser.crypto.encrypt({ keyId: aes.id, plaintext: Buffer.from('version two') });
    const ec = await sourceUser.keys.create({ project: 'alpha', name: 'regional-signer', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const message = Buffer.from('release 7');
    const sourceSignature = await sourceUser.crypto.sign({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message });

    // Without a quorum policy on the source, no replica leaves: the class needs its officers.
    const token = await targetUser.keys.importToken({ project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', preserveId: true });
    const exportParameters = { keyId: aes.id, targetPublicKey: token.wrappingPublicKey, targetFingerprint: token.wrappingPublicKeyFingerprint };
    await refused(sourceUser.quorum.request('key.export', exportParameters), 'QUORUM_POLICY_MISSING', 409);
    const sourceOfficers = await guard(source, 'key.export');
    // The fingerprint must be that of the public key the officers see.
    await refused(sourceUser.quorum.request('key.export', { ...exportParameters, targetFingerprint: '0'.repeat(64) }), 'INVALID_ARGUMENT', 400);
    // A direct export of a non-exportable key stays refused.
    await refused(sourceUser.keys.export(aes.id, { wrappingPublicKey: token.wrappingPublicKey, algorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), 'QUORUM_REQUIRED');
    const replica = await byQuorum(sourceUser, sourceOfficers.approve, 'key.export', exportParameters) as { key: { id: string }; versions: unknown[] };
    assert.deepEqual([replica.key.id, replica.versions.length], [aes.id, 2]);

    const importParameters = { importToken: token.importToken, replica };
    await refused(targetUser.quorum.request('key.import-foreign', importParameters), 'QUORUM_POLICY_MISSING', 409);
    const targetOfficers = await guard(target, 'key.import-foreign');
    // A token without preserveId does not take a replica.
    const plain = await targetUser.keys.importToken({ project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    await refused(targetUser.quorum.request('key.import-foreign', { importToken: plain.importToken, replica }), 'INVALID_ARGUMENT', 400);
    const imported = await byQuorum(targetUser, targetOfficers.approve, 'key.import-foreign', importParameters) as { id: string; currentVersion: number; exportable: boolean; tags: Record<string, string> };
    assert.deepEqual([imported.id, imported.currentVersion, imported.exportable, imported.tags], [aes.id, 2, false, { region: 'eu' }]);
    // The token is spent.
    await refused(targetUser.quorum.request('key.import-foreign', importParameters), 'IMPORT_TOKEN_NOT_FOUND', 404);

    assert.deepEqual((await targetUser.crypto.decrypt({ ciphertext: old.ciphertext, context: { app: 'x' } })).plaintext, Buffer.from('version one'));
    assert.deepEqual((await targetUser.crypto.decrypt({ ciphertext: fromSource.ciphertext })).plaintext, Buffer.from('version two'));
    const fromTarget = await targetUser.crypto.encrypt({ keyId: aes.id, plaintext: Buffer.from('written in the other region') });
    assert.deepEqual((await sourceUser.crypto.decrypt({ ciphertext: fromTarget.ciphertext })).plaintext, Buffer.from('written in the other region'));

    // A signing key, likewise: signatures made on either side verify on the other.
    const ecToken = await targetUser.keys.importToken({ project: 'alpha', spec: 'EC_P256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', preserveId: true });
    const ecReplica = await byQuorum(sourceUser, sourceOfficers.approve, 'key.export', { keyId: ec.id, targetPublicKey: ecToken.wrappingPublicKey, targetFingerprint: ecToken.wrappingPublicKeyFingerprint });
    await byQuorum(targetUser, targetOfficers.approve, 'key.import-foreign', { importToken: ecToken.importToken, replica: ecReplica });
    assert.equal((await targetUser.crypto.verify({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message, signature: sourceSignature.signature })).valid, true);
    const targetSignature = await targetUser.crypto.sign({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message });
    assert.equal((await sourceUser.crypto.verify({ keyId: ec.id, algorithm: 'ECDSA_SHA_256', message, signature: targetSignature.signature })).valid, true);
  });
});
