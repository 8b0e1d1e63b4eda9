import assert from 'node:assert/strict';
import { createPublicKey, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { XAES_NONCE_BYTES, XAES_TAG_BYTES } from '../core/crypto/xaes-256-gcm.ts';
import { custodianId, makeDomain, plainShare, unsealedBarrier } from './barrier-test-kit.ts';
import { RECORD_FORMAT_V1, RECORD_OVERHEAD } from './record-cipher.ts';

const domain = await makeDomain(3, 2);
const plaintext = Buffer.from('a key record, twenty+');

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe('record encryption', () => {
  it('round-trips and lays out format byte ‖ nonce ‖ ciphertext ‖ tag', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const sealed = barrier.encryptRecord('key', 'id-1', 1, plaintext);
    assert.equal(sealed.length, plaintext.length + RECORD_OVERHEAD);
    assert.equal(sealed[0], RECORD_FORMAT_V1);
    assert.ok(!Buffer.from(sealed).includes(plaintext));
    assert.deepEqual(Buffer.from(barrier.decryptRecord('key', 'id-1', 1, sealed)), plaintext);
    // A fresh nonce every time: the same record never encrypts to the same bytes.
    assert.notDeepEqual(barrier.encryptRecord('key', 'id-1', 1, plaintext), sealed);
    assert.deepEqual(Buffer.from(barrier.decryptRecord('key', 'id-2', 3, barrier.encryptRecord('key', 'id-2', 3, new Uint8Array(0)))), Buffer.alloc(0));
  });

  it('detects a flipped bit at every position: format byte, nonce, body and tag', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const sealed = barrier.encryptRecord('key', 'id-1', 1, plaintext);
    const classes = { format: 0, nonce: 1, body: 1 + XAES_NONCE_BYTES, tag: sealed.length - XAES_TAG_BYTES };
    for (const [name, index] of Object.entries(classes)) {
      assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, flip(sealed, index)), { code: 'BARRIER_INTEGRITY_FAILED' }, name);
    }
    for (let index = 0; index < sealed.length; index++) {
      assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, flip(sealed, index)), { code: 'BARRIER_INTEGRITY_FAILED' }, `byte ${index}`);
    }
    assert.deepEqual(Buffer.from(barrier.decryptRecord('key', 'id-1', 1, sealed)), plaintext);
  });

  it('detects truncation and extension', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const sealed = barrier.encryptRecord('key', 'id-1', 1, plaintext);
    for (let length = 0; length < sealed.length; length++) {
      assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, sealed.subarray(0, length)), { code: 'BARRIER_INTEGRITY_FAILED' }, `length ${length}`);
    }
    assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, Buffer.concat([sealed, Buffer.alloc(1)])), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('binds kind, id and version: swapped, relabelled or re-versioned rows fail', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const a = barrier.encryptRecord('key', 'id-a', 2, Buffer.from('record a'));
    const b = barrier.encryptRecord('key', 'id-b', 2, Buffer.from('record b'));
    assert.throws(() => barrier.decryptRecord('key', 'id-a', 2, b), { code: 'BARRIER_INTEGRITY_FAILED' });
    assert.throws(() => barrier.decryptRecord('key', 'id-b', 2, a), { code: 'BARRIER_INTEGRITY_FAILED' });
    assert.throws(() => barrier.decryptRecord('user', 'id-a', 2, a), { code: 'BARRIER_INTEGRITY_FAILED' });
    assert.throws(() => barrier.decryptRecord('key', 'id-a', 3, a), { code: 'BARRIER_INTEGRITY_FAILED' });
    assert.throws(() => barrier.decryptRecord('key', 'id-a', 1, a), { code: 'BARRIER_INTEGRITY_FAILED' });
    // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    const split = barrier.encryptRecord('ab', 'c', 1, plaintext);
    assert.throws(() => barrier.decryptRecord('a', 'bc', 1, split), { code: 'BARRIER_INTEGRITY_FAILED' });
    assert.equal(Buffer.from(barrier.decryptRecord('key', 'id-a', 2, a)).toString(), 'record a');
  });

  it('refuses a record from another domain', async () => {
    const other = await unsealedBarrier(await makeDomain(1, 1));
    const barrier = await unsealedBarrier(domain, [0, 1]);
    assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, other.encryptRecord('key', 'id-1', 1, plaintext)), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('detects a replay of an older version after a newer one was read', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const v1 = barrier.encryptRecord('key', 'id-1', 1, Buffer.from('one'));
    const v2 = barrier.encryptRecord('key', 'id-1', 2, Buffer.from('two'));
    barrier.decryptRecord('key', 'id-1', 1, v1);
    barrier.decryptRecord('key', 'id-1', 2, v2);
    assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, v1), { code: 'BARRIER_INTEGRITY_FAILED' });
    // Re-reading the newest version is fine, and other records are unaffected.
    assert.equal(Buffer.from(barrier.decryptRecord('key', 'id-1', 2, v2)).toString(), 'two');
    barrier.decryptRecord('key', 'id-9', 1, barrier.encryptRecord('key', 'id-9', 1, plaintext));
    // After a deletion the record may start again at version 1.
    barrier.forget('key', 'id-1');
    assert.equal(Buffer.from(barrier.decryptRecord('key', 'id-1', 1, v1)).toString(), 'one');
  });

  it('detects a replay of an older version after this node committed a newer one it never read', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const v1 = barrier.encryptRecord('key', 'id-1', 1, Buffer.from('one'));
    barrier.noteCommitted('key', 'id-1', 1);
    barrier.decryptRecord('key', 'id-1', 1, v1);
    barrier.encryptRecord('key', 'id-1', 2, Buffer.from('two'));
    // Encrypting alone does not count: the commit might still fail.
    barrier.decryptRecord('key', 'id-1', 1, v1);
    barrier.noteCommitted('key', 'id-1', 2);
    assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, v1), { code: 'BARRIER_INTEGRITY_FAILED' });
    assert.throws(() => { barrier.noteCommitted('key', 'id-1', 0); }, { code: 'INVALID_ARGUMENT' });
  });

  it('forgets remembered versions when sealed (deletions while sealed could not be reported)', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const v1 = barrier.encryptRecord('key', 'id-1', 1, Buffer.from('one'));
    barrier.decryptRecord('key', 'id-1', 2, barrier.encryptRecord('key', 'id-1', 2, Buffer.from('two')));
    assert.throws(() => barrier.decryptRecord('key', 'id-1', 1, v1), { code: 'BARRIER_INTEGRITY_FAILED' });
    barrier.seal();
    const shares = await Promise.all([0, 1].map(async (index) => ({ custodianId: custodianId(domain, index), share: await plainShare(domain, index) })));
    await barrier.unsealWithShares(shares);
    assert.equal(Buffer.from(barrier.decryptRecord('key', 'id-1', 1, v1)).toString(), 'one');
  });

  it('a failed decryption does not raise the remembered version', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const v1 = barrier.encryptRecord('key', 'id-1', 1, plaintext);
    const v5 = barrier.encryptRecord('key', 'id-1', 5, plaintext);
    assert.throws(() => barrier.decryptRecord('key', 'id-1', 5, flip(v5, 30)), { code: 'BARRIER_INTEGRITY_FAILED' });
    barrier.decryptRecord('key', 'id-1', 1, v1);
  });

  it('validates kind, id, version and bytes', async () => {
    const barrier = await unsealedBarrier(domain, [0, 1]);
    const sealed = barrier.encryptRecord('key', 'id', 1, plaintext);
    const bad: [unknown, unknown, unknown][] = [
      ['', 'id', 1], ['key', '', 1], ['key', 'id', 0], ['key', 'id', -1], ['key', 'id', 1.5], ['key', 'id', Number.NaN],
      ['key', 'id', Number.MAX_SAFE_INTEGER + 1], ['key', 'id', '1'], [1, 'id', 1], ['key', '\ud800', 1], ['key', 'x'.repeat(1025), 1],
    ];
    for (const [kind, id, version] of bad) {
      assert.throws(() => barrier.encryptRecord(kind as string, id as string, version as number, plaintext), { code: 'INVALID_ARGUMENT' }, `${String(kind)} ${String(version)}`);
      assert.throws(() => barrier.decryptRecord(kind as string, id as string, version as number, sealed), { code: 'INVALID_ARGUMENT' });
    }
    assert.throws(() => barrier.encryptRecord('key', 'id', 1, 'text' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => barrier.decryptRecord('key', 'id', 1, 'text' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT' });
    barrier.decryptRecord('key', 'id', 1, sealed);
    barrier.decryptRecord('k', 'i', Number.MAX_SAFE_INTEGER, barrier.encryptRecord('k', 'i', Number.MAX_SAFE_INTEGER, plaintext));
  });
});

describe('audit checkpoint key', () => {
  it('is Ed25519 and its public half is the descriptor auditPublicKey', async () => {
    const barrier = await unsealedBarrier(domain, [1, 2]);
    const key = barrier.auditSigningKey();
    assert.equal(key.asymmetricKeyType, 'ed25519');
    assert.equal(key.type, 'private');
    assert.equal(createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64url'), domain.descriptor.auditPublicKey);
    const auditor = createPublicKey({ key: Buffer.from(domain.descriptor.auditPublicKey, 'base64url'), format: 'der', type: 'spki' });
    const signature = sign(null, Buffer.from('checkpoint'), key);
    assert.ok(verify(null, Buffer.from('checkpoint'), auditor, signature));
    // Deterministic: another node of the domain derives the same key.
    const other = await unsealedBarrier(domain, [0, 2]);
    assert.ok(verify(null, Buffer.from('checkpoint'), other.auditSigningKey(), signature));
  });
});
