import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { describe, it } from 'node:test';
import { custodianId, makeDomain, plainShare } from './barrier-test-kit.ts';
import { createCustodianKeyPair, openShare, prepareUnsealShare } from './custodian.ts';
import { shareDigest } from './domain-key-derivations.ts';
import { hpkeOpen, hpkeSeal, shareInfo, unsealInfo } from './hpke-share-box.ts';
import { UnsealSession } from './unseal-session.ts';

const domain = await makeDomain(3, 2);

function x25519(publicKey: string, privateKey: string) {
  return {
    publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: publicKey }, format: 'jwk' }),
    privateKey: createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: publicKey, d: privateKey }, format: 'jwk' }),
  };
}

describe('custodian key pairs', () => {
  it('are raw 32-byte X25519 keys that belong together', () => {
    const a = createCustodianKeyPair();
    const b = createCustodianKeyPair();
    assert.equal(Buffer.from(a.publicKey, 'base64url').length, 32);
    assert.equal(Buffer.from(a.privateKey, 'base64url').length, 32);
    assert.notEqual(a.privateKey, b.privateKey);
    const ka = x25519(a.publicKey, a.privateKey);
    const kb = x25519(b.publicKey, b.privateKey);
    assert.deepEqual(diffieHellman({ privateKey: ka.privateKey, publicKey: kb.publicKey }), diffieHellman({ privateKey: kb.privateKey, publicKey: ka.publicKey }));
  });
});

describe('openShare', () => {
  it("opens one's own share, which matches the descriptor digest", async () => {
    const share = await plainShare(domain, 1);
    assert.equal(share.length, 33);
    const id = custodianId(domain, 1);
    assert.equal(shareDigest(domain.descriptor.domainId, id, share), domain.descriptor.custodians[1]?.shareDigest);
  });

  it('refuses the wrong key, an unknown custodian and a malformed key', async () => {
    const mine = domain.keys[0]?.privateKey ?? '';
    await assert.rejects(openShare(mine, domain.descriptor, custodianId(domain, 1)), { code: 'UNSEAL_SHARE_INVALID' });
    await assert.rejects(openShare(createCustodianKeyPair().privateKey, domain.descriptor, custodianId(domain, 0)), { code: 'UNSEAL_SHARE_INVALID' });
    await assert.rejects(openShare(mine, domain.descriptor, crypto.randomUUID()), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(openShare('short', domain.descriptor, custodianId(domain, 0)), { code: 'INVALID_ARGUMENT' });
  });

  it('refuses a share box moved to another domain', async () => {
    const other = await makeDomain(3, 2);
    const [first, ...rest] = other.descriptor.custodians;
    const theirs = domain.descriptor.custodians[0];
    assert.ok(first && theirs);
    // Our custodian's key and box, listed in the other domain: the HPKE info names the domain.
    const moved = { ...other.descriptor, custodians: [{ ...first, publicKey: theirs.publicKey, encryptedShare: theirs.encryptedShare }, ...rest] };
    await assert.rejects(openShare(domain.keys[0]?.privateKey ?? '', moved, first.id), { code: 'UNSEAL_SHARE_INVALID' });
  });

  it('refuses a well-encrypted share that does not match the digest', async () => {
    const custodian = domain.descriptor.custodians[0];
    assert.ok(custodian);
    const share = await plainShare(domain, 0);
    share[3] = (share[3] ?? 0) ^ 0x01;
    const box = await hpkeSeal(Buffer.from(custodian.publicKey, 'base64url'), shareInfo(domain.descriptor.domainId, custodian.id), share);
    const forged = { ...domain.descriptor, custodians: [{ ...custodian, encryptedShare: box }, ...domain.descriptor.custodians.slice(1)] };
    await assert.rejects(openShare(domain.keys[0]?.privateKey ?? '', forged, custodian.id), { code: 'UNSEAL_SHARE_INVALID' });
  });

  it('binds the share box to its domain and custodian (HPKE info)', async () => {
    const custodian = domain.descriptor.custodians[0];
    const secret = Buffer.from(domain.keys[0]?.privateKey ?? '', 'base64url');
    assert.ok(custodian);
    assert.ok(await hpkeOpen(secret, shareInfo(domain.descriptor.domainId, custodian.id), custodian.encryptedShare));
    assert.equal(await hpkeOpen(secret, shareInfo(domain.descriptor.domainId, custodianId(domain, 1)), custodian.encryptedShare), undefined);
    assert.equal(await hpkeOpen(secret, shareInfo(crypto.randomUUID(), custodian.id), custodian.encryptedShare), undefined);
    assert.equal(await hpkeOpen(secret, unsealInfo(domain.descriptor.domainId, custodian.id, crypto.randomUUID()), custodian.encryptedShare), undefined);
  });
});

describe('prepareUnsealShare', () => {
  it("re-encrypts the share to the node's session key, bound to the session", async () => {
    const session = new UnsealSession(new Date());
    const ticket = { sessionId: session.id, nodePublicKey: session.publicKey };
    const envelope = await prepareUnsealShare({ privateKey: domain.keys[2]?.privateKey ?? '', descriptor: domain.descriptor, custodianId: custodianId(domain, 2), session: ticket });
    assert.deepEqual(
      { formatVersion: envelope.formatVersion, domainId: envelope.domainId, custodianId: envelope.custodianId, sessionId: envelope.sessionId },
      { formatVersion: 1, domainId: domain.descriptor.domainId, custodianId: custodianId(domain, 2), sessionId: session.id },
    );
    const opened = await hpkeOpen(session.privateKey, unsealInfo(domain.descriptor.domainId, custodianId(domain, 2), session.id), envelope);
    assert.deepEqual(opened, await plainShare(domain, 2));
    assert.equal(await hpkeOpen(session.privateKey, unsealInfo(domain.descriptor.domainId, custodianId(domain, 2), crypto.randomUUID()), envelope), undefined);
  });

  it('refuses a malformed session', async () => {
    const base = { privateKey: domain.keys[0]?.privateKey ?? '', descriptor: domain.descriptor, custodianId: custodianId(domain, 0) };
    const nodePublicKey = createCustodianKeyPair().publicKey;
    await assert.rejects(prepareUnsealShare({ ...base, session: { sessionId: 'not-a-uuid', nodePublicKey } }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(prepareUnsealShare({ ...base, session: { sessionId: crypto.randomUUID(), nodePublicKey: 'AAAA' } }), { code: 'INVALID_ARGUMENT' });
  });
});
