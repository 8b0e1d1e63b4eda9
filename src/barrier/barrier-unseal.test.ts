import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Barrier } from './barrier.ts';
import { custodianId, envelopeFor, makeDomain, plainShare, TestClock, unsealedBarrier } from './barrier-test-kit.ts';
import { createCustodianKeyPair, wrapShareForSession } from './custodian.ts';
import { UNSEAL_SESSION_LIFETIME_MS } from './unseal-session.ts';

const domain35 = await makeDomain(5, 3);

describe('unseal through custodian envelopes', () => {
  it('unseals 3-of-5 with three custodians, staying sealed until the third', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    assert.equal(barrier.state, 'SEALED');
    const session = barrier.beginUnseal();
    assert.equal(session.threshold, 3);
    assert.equal(session.received, 0);
    assert.deepEqual(await barrier.submitUnsealShare(await envelopeFor(domain35, 4, session)), { state: 'SEALED', received: 1, threshold: 3 });
    assert.deepEqual(await barrier.submitUnsealShare(await envelopeFor(domain35, 1, session)), { state: 'SEALED', received: 2, threshold: 3 });
    assert.equal(barrier.state, 'SEALED');
    assert.throws(() => barrier.encryptRecord('k', 'i', 1, new Uint8Array(1)), { code: 'DOMAIN_SEALED' });
    assert.deepEqual(await barrier.submitUnsealShare(await envelopeFor(domain35, 2, session)), { state: 'UNSEALED', received: 3, threshold: 3 });
    assert.equal(barrier.state, 'UNSEALED');
    assert.throws(() => barrier.beginUnseal(), { code: 'DOMAIN_ALREADY_UNSEALED' });
    const sealed = barrier.encryptRecord('k', 'i', 1, Buffer.from('secret'));
    assert.equal(Buffer.from(barrier.decryptRecord('k', 'i', 1, sealed)).toString(), 'secret');
  });

  it('any three custodians rebuild the same domain key', async () => {
    const first = await unsealedBarrier(domain35, [0, 1, 2]);
    const second = await unsealedBarrier(domain35, [4, 3, 1]);
    const sealed = first.encryptRecord('k', 'i', 1, Buffer.from('shared'));
    assert.equal(Buffer.from(second.decryptRecord('k', 'i', 1, sealed)).toString(), 'shared');
  });

  it('returns the current session until it expires, then a fresh one', () => {
    const clock = new TestClock();
    const barrier = new Barrier(domain35.descriptor, { clock });
    const first = barrier.beginUnseal();
    clock.advance(UNSEAL_SESSION_LIFETIME_MS - 1);
    assert.equal(barrier.beginUnseal().sessionId, first.sessionId);
    clock.advance(1);
    const second = barrier.beginUnseal();
    assert.notEqual(second.sessionId, first.sessionId);
    assert.notEqual(second.nodePublicKey, first.nodePublicKey);
  });

  it('refuses a corrupted share and keeps progress', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 0, session));
    const share = await plainShare(domain35, 1);
    share[5] = (share[5] ?? 0) ^ 0x01;
    const corrupted = await wrapShareForSession(share, domain35.descriptor.domainId, custodianId(domain35, 1), session);
    await assert.rejects(barrier.submitUnsealShare(corrupted), { code: 'UNSEAL_SHARE_INVALID' });
    assert.equal(barrier.beginUnseal().received, 1);
    // The same custodian may still submit its genuine share, and the unseal completes.
    await barrier.submitUnsealShare(await envelopeFor(domain35, 1, session));
    await barrier.submitUnsealShare(await envelopeFor(domain35, 2, session));
    assert.equal(barrier.state, 'UNSEALED');
  });

  it("refuses another custodian's share presented under the wrong id", async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    const share = await plainShare(domain35, 0);
    const mislabelled = await wrapShareForSession(share, domain35.descriptor.domainId, custodianId(domain35, 1), session);
    await assert.rejects(barrier.submitUnsealShare(mislabelled), { code: 'UNSEAL_SHARE_INVALID' });
    assert.equal(barrier.beginUnseal().received, 0);
  });

  it('refuses a second share from the same custodian', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 3, session));
    await assert.rejects(barrier.submitUnsealShare(await envelopeFor(domain35, 3, session)), { code: 'UNSEAL_SHARE_DUPLICATE' });
    assert.equal(barrier.beginUnseal().received, 1);
  });

  it('refuses an envelope for another session', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const other = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    const otherSession = other.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 0, session));
    const foreign = await envelopeFor(domain35, 1, otherSession);
    await assert.rejects(barrier.submitUnsealShare(foreign), { code: 'UNSEAL_SESSION_INVALID' });
    // Relabelled with this session's id, it was still encrypted to the other session's key.
    await assert.rejects(barrier.submitUnsealShare({ ...foreign, sessionId: session.sessionId }), { code: 'UNSEAL_SESSION_INVALID' });
    assert.equal(barrier.beginUnseal().received, 1);
  });

  it('refuses an envelope after the session expired and wipes its progress', async () => {
    const clock = new TestClock();
    const barrier = new Barrier(domain35.descriptor, { clock });
    const session = barrier.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 0, session));
    const late = await envelopeFor(domain35, 1, session);
    clock.advance(UNSEAL_SESSION_LIFETIME_MS);
    await assert.rejects(barrier.submitUnsealShare(late), { code: 'UNSEAL_SESSION_INVALID' });
    const fresh = barrier.beginUnseal();
    assert.notEqual(fresh.sessionId, session.sessionId);
    assert.equal(fresh.received, 0);
  });

  it('refuses a share from another domain', async () => {
    const otherDomain = await makeDomain(3, 2);
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    const foreign = await envelopeFor(otherDomain, 0, session);
    await assert.rejects(barrier.submitUnsealShare(foreign), { code: 'UNSEAL_SHARE_INVALID' });
    await assert.rejects(barrier.submitUnsealShare({ ...foreign, domainId: domain35.descriptor.domainId }), { code: 'UNSEAL_SHARE_INVALID' });
    // Even under a real custodian id of this domain, the HPKE info no longer matches.
    await assert.rejects(
      barrier.submitUnsealShare({ ...foreign, domainId: domain35.descriptor.domainId, custodianId: custodianId(domain35, 0) }),
      { code: 'UNSEAL_SESSION_INVALID' },
    );
    assert.equal(barrier.beginUnseal().received, 0);
  });

  it('refuses malformed envelopes without changing progress', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    const envelope = await envelopeFor(domain35, 0, session);
    const broken: unknown[] = [null, 'x', {}, { ...envelope, formatVersion: 2 }, { ...envelope, custodianId: 'nope' }, { ...envelope, enc: 'a=' }];
    for (const value of broken) {
      await assert.rejects(barrier.submitUnsealShare(value as typeof envelope), { code: 'INVALID_ARGUMENT' });
    }
    assert.equal(barrier.beginUnseal().received, 0);
  });

  it('accepts concurrent submissions one at a time', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    const envelopes = await Promise.all([0, 1, 2].map((index) => envelopeFor(domain35, index, session)));
    const results = await Promise.all(envelopes.map((envelope) => barrier.submitUnsealShare(envelope)));
    assert.deepEqual(results.map((r) => r.received), [1, 2, 3]);
    assert.equal(barrier.state, 'UNSEALED');
  });

  it('resets progress when complete shares do not match the key check', async () => {
    const tampered = { ...domain35.descriptor, keyCheck: '0'.repeat(64) };
    const barrier = new Barrier(tampered, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 0, session));
    await barrier.submitUnsealShare(await envelopeFor(domain35, 1, session));
    await assert.rejects(barrier.submitUnsealShare(await envelopeFor(domain35, 2, session)), { code: 'UNSEAL_SHARE_INVALID' });
    assert.equal(barrier.state, 'SEALED');
    const after = barrier.beginUnseal();
    assert.equal(after.sessionId, session.sessionId);
    assert.equal(after.received, 0);
  });

  it('detects a descriptor whose audit public key was replaced', async () => {
    const other = await makeDomain(1, 1);
    const tampered = { ...domain35.descriptor, auditPublicKey: other.descriptor.auditPublicKey };
    const barrier = new Barrier(tampered, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 0, session));
    await barrier.submitUnsealShare(await envelopeFor(domain35, 1, session));
    await assert.rejects(barrier.submitUnsealShare(await envelopeFor(domain35, 2, session)), { code: 'BARRIER_INTEGRITY_FAILED' });
    assert.equal(barrier.state, 'SEALED');
    assert.equal(barrier.beginUnseal().received, 0);
  });

  it('abandons a submission that was being decrypted when the node sealed', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 0, session));
    await barrier.submitUnsealShare(await envelopeFor(domain35, 1, session));
    const pending = barrier.submitUnsealShare(await envelopeFor(domain35, 2, session));
    await Promise.resolve(); // the submission starts and awaits its HPKE decryption
    barrier.seal();
    await assert.rejects(pending, { code: 'UNSEAL_SESSION_INVALID' });
    assert.equal(barrier.state, 'SEALED');
  });

  it('abandons an unseal in progress when sealed', async () => {
    const barrier = new Barrier(domain35.descriptor, { clock: new TestClock() });
    const session = barrier.beginUnseal();
    await barrier.submitUnsealShare(await envelopeFor(domain35, 0, session));
    barrier.seal();
    await assert.rejects(barrier.submitUnsealShare(await envelopeFor(domain35, 1, session)), { code: 'UNSEAL_SESSION_INVALID' });
    assert.equal(barrier.beginUnseal().received, 0);
  });
});

describe('small domains', () => {
  it('unseals a 1-of-1 domain with its only custodian', async () => {
    const domain = await makeDomain(1, 1);
    const barrier = new Barrier(domain.descriptor, { clock: new TestClock() });
    const result = await barrier.submitUnsealShare(await envelopeFor(domain, 0, barrier.beginUnseal()));
    assert.deepEqual(result, { state: 'UNSEALED', received: 1, threshold: 1 });
  });

  it('lets any single custodian of a 1-of-3 domain unseal', async () => {
    const domain = await makeDomain(3, 1);
    const barriers = await Promise.all([0, 1, 2].map((index) => unsealedBarrier(domain, [index])));
    const sealed = barriers[0]?.encryptRecord('k', 'i', 1, Buffer.from('x'));
    assert.ok(sealed);
    assert.equal(Buffer.from(barriers[2]?.decryptRecord('k', 'i', 1, sealed) ?? []).toString(), 'x');
  });
});

describe('unsealWithShares', () => {
  it('unseals in one step from plaintext shares', async () => {
    const barrier = new Barrier(domain35.descriptor);
    const shares = await Promise.all([1, 3, 4].map(async (index) => ({ custodianId: custodianId(domain35, index), share: await plainShare(domain35, index) })));
    assert.deepEqual(await barrier.unsealWithShares(shares), { state: 'UNSEALED', received: 3, threshold: 3 });
    await assert.rejects(barrier.unsealWithShares(shares), { code: 'DOMAIN_ALREADY_UNSEALED' });
  });

  it('refuses too few, duplicate, corrupted and foreign shares, staying sealed', async () => {
    const barrier = new Barrier(domain35.descriptor);
    const shares = await Promise.all([0, 1, 2].map(async (index) => ({ custodianId: custodianId(domain35, index), share: await plainShare(domain35, index) })));
    const [a, b] = shares;
    assert.ok(a && b);
    await assert.rejects(barrier.unsealWithShares([a, b]), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(barrier.unsealWithShares([a, b, a]), { code: 'UNSEAL_SHARE_DUPLICATE' });
    const flipped = Uint8Array.from(b.share);
    flipped[0] = (flipped[0] ?? 0) ^ 0x80;
    await assert.rejects(barrier.unsealWithShares([a, { ...b, share: flipped }, ...shares.slice(2)]), { code: 'UNSEAL_SHARE_INVALID' });
    await assert.rejects(barrier.unsealWithShares([a, b, { custodianId: crypto.randomUUID(), share: b.share }]), { code: 'UNSEAL_SHARE_INVALID' });
    await assert.rejects(barrier.unsealWithShares([a, b, { custodianId: custodianId(domain35, 3), share: new Uint8Array(33) }]), { code: 'UNSEAL_SHARE_INVALID' });
    assert.equal(barrier.state, 'SEALED');
    await barrier.unsealWithShares(shares);
    assert.equal(barrier.state, 'UNSEALED');
  });
});

describe('states', () => {
  it('an uninitialised barrier only reports its state, until a domain is adopted', async () => {
    const barrier = new Barrier(undefined);
    assert.equal(barrier.state, 'UNINITIALIZED');
    assert.equal(barrier.descriptor === undefined, true);
    assert.throws(() => barrier.beginUnseal(), { code: 'DOMAIN_UNINITIALIZED' });
    await assert.rejects(barrier.unsealWithShares([]), { code: 'DOMAIN_UNINITIALIZED' });
    assert.throws(() => barrier.encryptRecord('k', 'i', 1, new Uint8Array(1)), { code: 'DOMAIN_UNINITIALIZED' });
    assert.throws(() => { barrier.seal(); }, { code: 'DOMAIN_UNINITIALIZED' });
    barrier.initialize(domain35.descriptor);
    assert.equal(barrier.state, 'SEALED');
    assert.equal(barrier.descriptor?.domainId, domain35.descriptor.domainId);
    assert.throws(() => { barrier.initialize(domain35.descriptor); }, { code: 'DOMAIN_ALREADY_INITIALIZED' });
  });

  it('seal() wipes access: every operation but status and unseal fails with DOMAIN_SEALED', async () => {
    const barrier = await unsealedBarrier(domain35, [0, 1, 2]);
    const record = barrier.encryptRecord('k', 'i', 1, Buffer.from('kept'));
    barrier.seal();
    assert.equal(barrier.state, 'SEALED');
    assert.throws(() => barrier.encryptRecord('k', 'i', 1, new Uint8Array(1)), { code: 'DOMAIN_SEALED' });
    assert.throws(() => barrier.decryptRecord('k', 'i', 1, record), { code: 'DOMAIN_SEALED' });
    assert.throws(() => barrier.auditSigningKey(), { code: 'DOMAIN_SEALED' });
    assert.throws(() => { barrier.forget('k', 'i'); }, { code: 'DOMAIN_SEALED' });
    barrier.seal(); // sealing a sealed node is allowed
    assert.equal(barrier.descriptor?.domainId, domain35.descriptor.domainId);
    const session = barrier.beginUnseal();
    for (const index of [2, 3, 4]) await barrier.submitUnsealShare(await envelopeFor(domain35, index, session));
    assert.equal(Buffer.from(barrier.decryptRecord('k', 'i', 1, record)).toString(), 'kept');
  });

  it('refuses a malformed descriptor at construction', () => {
    assert.throws(() => new Barrier({ ...domain35.descriptor, threshold: 6 }), { code: 'INVALID_ARGUMENT' });
    const custodianKey = createCustodianKeyPair().publicKey;
    const [first, ...rest] = domain35.descriptor.custodians;
    assert.ok(first);
    assert.throws(() => new Barrier({ ...domain35.descriptor, custodians: [{ ...first, publicKey: `${custodianKey}A` }, ...rest] }), { code: 'INVALID_ARGUMENT' });
  });
});
