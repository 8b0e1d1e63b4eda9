import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { domainKeyOf, makeDomain, plainShare, TestClock } from './barrier-test-kit.ts';
import { createCustodianKeyPair } from './custodian.ts';
import { parseDomainDescriptor } from './domain-descriptor.ts';
import { keyCheck, KEY_CHECK_LABEL } from './domain-key-derivations.ts';
import { initDomain } from './domain-init.ts';
import { lengthPrefixed } from './length-prefixed.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('initDomain', () => {
  it('describes a 3-of-5 domain with one encrypted share per custodian', async () => {
    const keys = Array.from({ length: 5 }, () => createCustodianKeyPair());
    const clock = new TestClock();
    const descriptor = await initDomain({ custodians: keys.map((k, i) => ({ name: `c${i}`, publicKey: k.publicKey })), threshold: 3 }, { clock });
    assert.equal(descriptor.formatVersion, 1);
    assert.match(descriptor.domainId, UUID);
    assert.equal(descriptor.createdAt, clock.now().toISOString());
    assert.equal(descriptor.threshold, 3);
    assert.deepEqual(descriptor.custodians.map((c) => [c.name, c.publicKey]), keys.map((k, i) => [`c${i}`, k.publicKey]));
    for (const custodian of descriptor.custodians) assert.match(custodian.id, UUID);
    assert.equal(new Set(descriptor.custodians.map((c) => c.id)).size, 5);
    assert.ok(Object.isFrozen(descriptor));
    // JSON-serialisable: what the caller persists reads back identical.
    assert.deepEqual(parseDomainDescriptor(JSON.parse(JSON.stringify(descriptor))), descriptor);
  });

  it('keyCheck is HMAC-SHA-256 of the rebuilt domain key over label ‖ domainId', async () => {
    const domain = await makeDomain(3, 2);
    const key = await domainKeyOf(domain);
    const expected = createHmac('sha256', key).update(lengthPrefixed(KEY_CHECK_LABEL, domain.descriptor.domainId)).digest('hex');
    assert.equal(domain.descriptor.keyCheck, expected);
    assert.equal(keyCheck(key, domain.descriptor.domainId), expected);
  });

  it('puts no key or share bytes in the descriptor', async () => {
    for (const [n, t] of [[5, 3], [1, 1], [2, 1]] as const) {
      const domain = await makeDomain(n, t);
      const json = JSON.stringify(domain.descriptor);
      const key = Buffer.from(await domainKeyOf(domain));
      const secrets = [key];
      for (let index = 0; index < n; index++) secrets.push(Buffer.from(await plainShare(domain, index)));
      for (const secret of secrets) {
        for (const encoding of ['hex', 'base64', 'base64url'] as const) {
          // Any 16-byte window, so a secret cannot hide in a longer field either.
          assert.ok(!json.includes(secret.subarray(0, 16).toString(encoding)), `${encoding} in descriptor`);
          assert.ok(!json.includes(secret.subarray(16, 32).toString(encoding)), `${encoding} in descriptor`);
        }
      }
    }
  });

  it('gives each of 1-of-N custodians the whole key, and splits otherwise', async () => {
    const one = await makeDomain(2, 1);
    assert.deepEqual(await plainShare(one, 0), await domainKeyOf(one));
    const two = await makeDomain(3, 2);
    const share = await plainShare(two, 0);
    assert.equal(share.length, 33);
    assert.notDeepEqual(share.subarray(0, 32), await domainKeyOf(two));
  });

  it('refuses invalid requests with INVALID_ARGUMENT', async () => {
    const key = () => createCustodianKeyPair().publicKey;
    const one = { name: 'alice', publicKey: key() };
    const shared = key();
    const bad: unknown[] = [
      { custodians: [], threshold: 1 },
      { custodians: Array.from({ length: 17 }, (_, i) => ({ name: `c${i}`, publicKey: key() })), threshold: 2 },
      { custodians: [one], threshold: 0 },
      { custodians: [one], threshold: 2 },
      { custodians: [one, { name: 'bob', publicKey: key() }], threshold: 1.5 },
      { custodians: [one], threshold: '1' },
      { custodians: 'alice', threshold: 1 },
      { custodians: [null], threshold: 1 },
      { custodians: [{ name: '', publicKey: key() }], threshold: 1 },
      { custodians: [{ name: '   ', publicKey: key() }], threshold: 1 },
      { custodians: [{ name: 7, publicKey: key() }], threshold: 1 },
      { custodians: [{ name: 'a', publicKey: shared }, { name: 'b', publicKey: shared }], threshold: 1 },
      { custodians: [{ name: 'a', publicKey: 'not base64!' }], threshold: 1 },
      { custodians: [{ name: 'a', publicKey: `${key()}=` }], threshold: 1 },
      { custodians: [{ name: 'a', publicKey: Buffer.alloc(31, 7).toString('base64url') }], threshold: 1 },
      // A low-order point: X25519 with it yields the all-zero secret, which HPKE refuses.
      { custodians: [{ name: 'a', publicKey: Buffer.alloc(32).toString('base64url') }], threshold: 1 },
    ];
    for (const request of bad) {
      await assert.rejects(initDomain(request as Parameters<typeof initDomain>[0]), { code: 'INVALID_ARGUMENT' }, JSON.stringify(request).slice(0, 80));
    }
    await initDomain({ custodians: [one], threshold: 1 });
    await initDomain({ custodians: Array.from({ length: 16 }, (_, i) => ({ name: `c${i}`, publicKey: key() })), threshold: 16 });
  });
});

describe('parseDomainDescriptor', () => {
  it('refuses malformed or extended descriptors', async () => {
    const { descriptor } = await makeDomain(3, 2);
    const [first, second, third] = descriptor.custodians;
    assert.ok(first && second && third);
    const bad: unknown[] = [
      null, [], 'descriptor',
      { ...descriptor, formatVersion: 2 },
      { ...descriptor, extra: 1 },
      { ...descriptor, domainId: 'x' },
      { ...descriptor, createdAt: 'yesterday' },
      { ...descriptor, threshold: 0 },
      { ...descriptor, threshold: 4 },
      { ...descriptor, keyCheck: 'AB'.repeat(32) },
      { ...descriptor, auditPublicKey: 'AAAA' },
      { ...descriptor, custodians: [] },
      { ...descriptor, custodians: [first, first, third] },
      { ...descriptor, custodians: [first, { ...second, publicKey: first.publicKey }, third] },
      { ...descriptor, custodians: [first, { ...second, secret: 'x' }, third] },
      { ...descriptor, custodians: [first, { ...second, encryptedShare: { ...second.encryptedShare, ciphertext: 'AAAA' } }, third] },
      { ...descriptor, custodians: [first, { ...second, shareDigest: 'x' }, third] },
      { ...descriptor, custodians: [first, { ...second, name: '' }, third] },
    ];
    for (const value of bad) assert.throws(() => parseDomainDescriptor(value), { code: 'INVALID_ARGUMENT' }, JSON.stringify(value).slice(0, 60));
    assert.deepEqual(parseDomainDescriptor({ ...descriptor }), descriptor);
  });
});
