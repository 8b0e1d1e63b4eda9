// The sealed-key property: an attacker holding the store, the unsealed barrier and any M-1 shares
// (in the clear) can neither sign nor recover the key; M shares can. And a sealed key's approvers
// change only with the current M, after which old shares open nothing and new ones do.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { combineDomainKey } from '../../barrier/shamir-shares.ts';
import { ApprovedUse, keyUseDigest } from '../../core/engine/index.ts';
import { openSealedMaterial } from '../../core/engine/approved-use.ts';
import { SealedKeyRepository } from '../../store/key-repository/index.ts';
import { openApproverShare, signApproval } from './approver-side.ts';
import { at, openKeyUseFixture, type KeyUseFixture, type TestApprover } from './key-use-test-kit.ts';
import type { ShareForApprover } from './key-use-types.ts';

const message = Buffer.from('firmware 9.1');
/** Every kind of record the node writes, so each stored value can be opened with the barrier. */
const KINDS = ['key', 'key-name', 'approver-keys', 'key-use-request'];

/** What an approver's share looks like to its holder, opened with their share private key (the attacker is given these). */
async function plainShare(f: KeyUseFixture, approver: TestApprover, keyId: string): Promise<Uint8Array> {
  const stored = await new SealedKeyRepository(f.node.store, f.node.barrier).get(keyId);
  const entry = stored?.record.seal?.shares.find((s) => s.approver === approver.name) ?? assert.fail('no share');
  const share: ShareForApprover = { requestId: 'n/a', keyId, approver: approver.name, ephemeralPublicKey: 'n/a', digest: 'n/a', share: { enc: entry.enc, ciphertext: entry.ciphertext } };
  return openApproverShare(approver.sharePrivateKey, share);
}

/** Every value in the store, raw and opened with the barrier, as text an attacker would search. */
async function everyRecord(f: KeyUseFixture): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const entry of await f.node.store.list('')) {
    out.push(Buffer.from(entry.value));
    const opened = KINDS.map((kind) => {
      try {
        return Buffer.from(f.node.barrier.decryptRecord(kind, entry.key, entry.version, entry.value));
      } catch {
        return undefined;
      }
    }).find((p) => p !== undefined);
    if (opened !== undefined) out.push(opened);
  }
  return out;
}

function holds(haystack: Buffer, needle: Uint8Array): boolean {
  const bytes = Buffer.from(needle);
  return [bytes, Buffer.from(bytes.toString('base64')), Buffer.from(bytes.toString('base64url')), Buffer.from(bytes.toString('hex'))].some((form) => haystack.includes(form));
}

describe('sealed keys', () => {
  it('3-of-5: the store, the barrier and two plaintext shares neither sign nor recover the key; three do', async (t) => {
    const f = await openKeyUseFixture(t, 5);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'root', spec: 'ED25519', usage: 'SIGN_VERIFY', approval: { threshold: 3, approvers: f.approvers.map((a) => a.name), sealed: true } }, f.service.hooks);
    // A first approved use, so that released shares, signatures and a result exist in the store too.
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ED25519', message });
    for (const i of [0, 1]) assert.equal((await f.approve(at(f.approvers, i), view)).status, 'pending');
    const pending = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ED25519', message: Buffer.from('other') });
    for (const i of [3, 4]) await f.approve(at(f.approvers, i), pending);

    const shares = await Promise.all(f.approvers.map((a) => plainShare(f, a, key.id)));
    const stored = await new SealedKeyRepository(f.node.store, f.node.barrier).get(key.id) ?? assert.fail('no key');
    const sealedMaterial = stored.record.versions[0]?.sealedMaterial ?? assert.fail('not sealed');
    assert.equal(stored.record.versions[0]?.material, undefined);
    const inputDigest = keyUseDigest.sign({ message });
    const grant = (kak?: Uint8Array) => ({ ...f.alice, approval: new ApprovedUse({ requestId: 'attack', keyId: key.id, use: 'sign', keyVersion: 1, inputDigest }, kak) });
    // Any two shares: what they combine to opens nothing, and the engine refuses every grant built from it.
    for (const pair of [[0, 1], [1, 4], [2, 3]] as const) {
      const two = await combineDomainKey([at(shares, pair[0]), at(shares, pair[1])], 2);
      assert.ok(two !== undefined);
      assert.throws(() => openSealedMaterial(two, key.id, 1, sealedMaterial), { code: 'APPROVAL_SHARE_INVALID' });
      await assert.rejects(f.engine.crypto.sign(grant(two), key.id, { algorithm: 'ED25519', message }), { code: 'APPROVAL_SHARE_INVALID' });
    }
    await assert.rejects(f.engine.crypto.sign(grant(), key.id, { algorithm: 'ED25519', message }), { code: 'APPROVAL_SHARE_INVALID' });
    await assert.rejects(f.engine.crypto.sign(f.alice, key.id, { algorithm: 'ED25519', message }), { code: 'APPROVAL_REQUIRED' });
    // Three shares rebuild the key-approval key: with it, the material.
    const kak = await combineDomainKey([at(shares, 0), at(shares, 2), at(shares, 4)], 3) ?? assert.fail('no kak');
    const material = openSealedMaterial(kak, key.id, 1, sealedMaterial);
    for (const record of await everyRecord(f)) {
      assert.ok(!holds(record, material), 'a stored record holds the plaintext key material');
      assert.ok(!holds(record, kak), 'a stored record holds the key-approval key');
      for (const share of shares) assert.ok(!holds(record, share), 'a stored record holds a plaintext share');
    }
    // The service, with a third approval, runs the use.
    const done = await f.approve(at(f.approvers, 2), view);
    assert.equal(done.status, 'completed');
    const outcome = await f.service.outcome(f.alice, view.requestId);
    assert.ok(outcome.result?.use === 'sign');
    const pub = await f.engine.crypto.getPublicKey(f.alice, key.id);
    assert.ok(nodeVerify(null, message, createPublicKey(pub.pem), outcome.result.signature));
    for (const record of await everyRecord(f)) assert.ok(!holds(record, material) && !holds(record, kak), 'after the use: still no material or KAK');
  });

  it('changing a sealed key’s approvers needs the current M; afterwards old shares open nothing and new ones do', async (t) => {
    const f = await openKeyUseFixture(t, 5);
    const [a0, a1, a2, a3, a4] = f.approvers.map((_, i) => at(f.approvers, i));
    if (a0 === undefined || a1 === undefined || a2 === undefined || a3 === undefined || a4 === undefined) assert.fail('approvers');
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'moving', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: [a0.name, a1.name, a2.name], sealed: true } }, f.service.hooks);
    const oldShares = await Promise.all([a0, a1, a2].map((a) => plainShare(f, a, key.id)));
    const next = { threshold: 2, approvers: [a2.name, a3.name, a4.name], sealed: true };
    await assert.rejects(f.engine.keys.changeApprovers(f.alice, key.id, next, f.service.hooks), { code: 'APPROVAL_REQUIRED' });
    const change = await f.service.request(f.alice, { use: 'change-approvers', key: key.id, approval: next });
    await assert.rejects(f.service.approve(a3.caller, change.requestId, signApproval(a3.signingKey, change.digest)), { code: 'APPROVAL_NOT_APPROVER' }, 'the new approvers are not the current ones');
    await assert.rejects(f.service.shareFor(a3.caller, change.requestId), { code: 'APPROVAL_NOT_FOUND' });
    await f.approve(a0, change);
    const changed = await f.approve(a1, change);
    assert.equal(changed.status, 'completed', changed.error?.message);
    const described = await f.engine.keys.describe(f.alice, key.id);
    assert.deepEqual(described.approval?.approvers, [a2.name, a3.name, a4.name]);
    const stored = await new SealedKeyRepository(f.node.store, f.node.barrier).get(key.id) ?? assert.fail('no key');
    const sealedMaterial = stored.record.versions[0]?.sealedMaterial ?? assert.fail('not sealed');
    const oldKak = await combineDomainKey([at(oldShares, 0), at(oldShares, 1)], 2) ?? assert.fail('no kak');
    assert.throws(() => openSealedMaterial(oldKak, key.id, 1, sealedMaterial), { code: 'APPROVAL_SHARE_INVALID' });
    const newShares = await Promise.all([a3, a4].map((a) => plainShare(f, a, key.id)));
    const newKak = await combineDomainKey(newShares, 2) ?? assert.fail('no kak');
    assert.ok(openSealedMaterial(newKak, key.id, 1, sealedMaterial).length > 0);
    // And through the service: the new approvers' released shares sign.
    const sign = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message });
    await f.approve(a3, sign);
    assert.equal((await f.approve(a4, sign)).status, 'completed');
  });

  it('a sealed key rotates only through its approvers; the new version is sealed too', async (t) => {
    const f = await openKeyUseFixture(t, 2);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'rot', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 1, approvers: f.approvers.map((a) => a.name), sealed: true } }, f.service.hooks);
    await assert.rejects(f.engine.keys.rotate(f.alice, key.id), { code: 'APPROVAL_REQUIRED' });
    const view = await f.service.request(f.alice, { use: 'rotate', key: key.id });
    assert.equal((await f.approve(at(f.approvers, 1), view)).status, 'completed');
    const outcome = await f.service.outcome(f.alice, view.requestId);
    assert.deepEqual(outcome.result, { use: 'rotate', keyId: key.id, currentVersion: 2 });
    const stored = await new SealedKeyRepository(f.node.store, f.node.barrier).get(key.id) ?? assert.fail('no key');
    assert.ok(stored.record.versions.every((v) => v.material === undefined && v.sealedMaterial !== undefined));
  });
});
