import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../errors.ts';
import { KEY_SPECS } from '../key-record.ts';
import type { GranteeCheck } from './key-manager.ts';
import { alice, auditor, bob, carol, newEngine, officer } from './engine-test-kit.ts';

/** A grantee check that lets every name through (sharing rules other than the grantee's existence). */
const anyone: GranteeCheck = () => Promise.resolve();

const USAGE_FOR: Record<string, string> = { AES_256: 'ENCRYPT_DECRYPT', HMAC_256: 'GENERATE_VERIFY_MAC', HMAC_384: 'GENERATE_VERIFY_MAC', HMAC_512: 'GENERATE_VERIFY_MAC' };

describe('key lifecycle', () => {
  it('creates every spec with safe defaults and never shows material', async () => {
    const { engine, repository } = newEngine();
    for (const spec of KEY_SPECS) {
      const key = await engine.keys.create(alice, { project: 'alpha', name: `k-${spec}`, spec, usage: USAGE_FOR[spec] ?? 'SIGN_VERIFY' });
      assert.equal(key.state, 'ENABLED');
      assert.equal(key.exportable, false);
      assert.equal(key.owner, 'alice');
      assert.equal(key.currentVersion, 1);
      const stored = await repository.get(key.id);
      const material = stored?.record.versions[0]?.material;
      assert.ok(material !== undefined && material.length >= 32);
      const shown = JSON.stringify(key);
      assert.ok(!shown.includes(Buffer.from(material).toString('base64')), 'metadata must not carry material');
      assert.ok(!shown.includes('material'));
    }
    const listed = await engine.keys.list(alice, 'alpha', { limit: 1000 });
    assert.equal(listed.length, KEY_SPECS.length);
    assert.deepEqual(listed.map((k) => k.name), [...listed.map((k) => k.name)].sort());
    const page = await engine.keys.list(alice, 'alpha', { limit: 2, after: listed[1]?.name ?? '' });
    assert.deepEqual(page.map((k) => k.name), listed.slice(2, 4).map((k) => k.name));
  });

  it('validates input and names', async () => {
    const { engine } = newEngine();
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'bad name!', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'DES', usage: 'ENCRYPT_DECRYPT' }), { code: 'UNSUPPORTED_ALGORITHM' });
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'AES_256', usage: 'TELEPORT' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', tags: { '': 'x' } }), { code: 'INVALID_ARGUMENT' });
    await engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await assert.rejects(engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }), { code: 'KEY_ALREADY_EXISTS' });
    await assert.rejects(engine.keys.describe(alice, 'not-a-uuid'), { code: 'KEY_NOT_FOUND' });
    await assert.rejects(engine.keys.list(alice, 'alpha', { limit: 0 }), { code: 'INVALID_ARGUMENT' });
  });

  it('rotation adds versions; minDecryptVersion retires old ones', async () => {
    const { engine } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'rot', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const v1 = await engine.crypto.encrypt(alice, key.id, Buffer.from('one'));
    const rotated = await engine.keys.rotate(alice, key.id);
    assert.equal(rotated.currentVersion, 2);
    const v2 = await engine.crypto.encrypt(alice, key.id, Buffer.from('two'));
    assert.equal(v2.keyVersion, 2);
    assert.equal((await engine.crypto.decrypt(alice, v1.ciphertext)).plaintext.toString(), 'one');
    assert.equal((await engine.crypto.decrypt(alice, v2.ciphertext)).keyVersion, 2);
    await engine.keys.setMinDecryptVersion(alice, key.id, 2);
    await assert.rejects(engine.crypto.decrypt(alice, v1.ciphertext), { code: 'KEY_VERSION_DISABLED' });
    await assert.rejects(engine.keys.setMinDecryptVersion(alice, key.id, 3), { code: 'INVALID_ARGUMENT' });
    const signing = await engine.keys.create(alice, { project: 'alpha', name: 'rot-sign', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    const message = Buffer.from('m');
    const old = await engine.crypto.sign(alice, signing.id, { algorithm: 'ED25519', message });
    await engine.keys.rotate(alice, signing.id);
    assert.deepEqual(await engine.crypto.verify(alice, signing.id, { algorithm: 'ED25519', message, signature: old.signature }), { valid: true, keyId: signing.id, keyVersion: 1 });
    await assert.rejects(engine.crypto.getPublicKey(alice, signing.id, { version: 5 }), { code: 'KEY_VERSION_NOT_FOUND' });
    await assert.rejects(engine.crypto.verify(alice, signing.id, { algorithm: 'ED25519', message, signature: old.signature, keyVersion: 9 }), { code: 'KEY_VERSION_NOT_FOUND' });
    await engine.keys.setMinDecryptVersion(alice, signing.id, 2);
    assert.equal((await engine.crypto.verify(alice, signing.id, { algorithm: 'ED25519', message, signature: old.signature })).valid, false);
  });

  it('enforces states on every operation and the deletion waiting period', async () => {
    const { engine, clock, repository } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'states', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const sign = () => engine.crypto.sign(alice, key.id, { algorithm: 'ECDSA_SHA_256', message: Buffer.from('m') });
    await engine.keys.disable(alice, key.id);
    await assert.rejects(sign(), { code: 'KEY_DISABLED' });
    await assert.rejects(engine.keys.rotate(alice, key.id), { code: 'KEY_DISABLED' });
    await engine.keys.enable(alice, key.id);
    await sign();
    await assert.rejects(engine.keys.scheduleDeletion(alice, key.id, 6), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(engine.keys.scheduleDeletion(alice, key.id, 31), { code: 'INVALID_ARGUMENT' });
    const pending = await engine.keys.scheduleDeletion(alice, key.id, 7);
    assert.equal(pending.state, 'PENDING_DELETION');
    assert.equal(pending.deletionDate, '2026-01-08T00:00:00.000Z');
    await assert.rejects(sign(), { code: 'KEY_PENDING_DELETION' });
    await assert.rejects(engine.keys.enable(alice, key.id), { code: 'INVALID_STATE_TRANSITION' });
    const cancelled = await engine.keys.cancelDeletion(alice, key.id);
    assert.equal(cancelled.state, 'DISABLED');
    assert.equal(cancelled.deletionDate, undefined);
    await assert.rejects(engine.keys.cancelDeletion(alice, key.id), { code: 'INVALID_STATE_TRANSITION' });
    await engine.keys.scheduleDeletion(alice, key.id, 7);
    clock.advanceDays(6);
    assert.deepEqual(await engine.keys.destroyDue(alice), []);
    clock.advanceDays(2);
    assert.deepEqual(await engine.keys.destroyDue(alice), [key.id]);
    await assert.rejects(sign(), { code: 'KEY_DESTROYED' });
    await assert.rejects(engine.crypto.getPublicKey(alice, key.id), { code: 'KEY_DESTROYED' });
    await assert.rejects(engine.keys.cancelDeletion(alice, key.id), { code: 'INVALID_STATE_TRANSITION' });
    const stored = await repository.get(key.id);
    assert.equal(stored?.record.state, 'DESTROYED');
    assert.ok(stored.record.versions.every((v) => v.material === undefined), 'material is erased');
  });

  it('exportable can only go from true to false', async () => {
    const { engine } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'exp', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', exportable: true });
    assert.equal(key.exportable, true);
    assert.equal((await engine.keys.update(alice, key.id, { exportable: false, description: 'locked' })).exportable, false);
    await assert.rejects(engine.keys.update(alice, key.id, { exportable: true }), { code: 'INVALID_STATE_TRANSITION' });
    assert.equal((await engine.keys.describe(alice, key.id)).description, 'locked');
  });

  it('separates owners, shared users, other projects, officers and auditors', async () => {
    const { engine } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'shared', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' });
    const mac = (who: typeof alice) => engine.crypto.generateMac(who, key.id, Buffer.from('m'));
    await assert.rejects(mac(bob), { code: 'ACCESS_DENIED' }, 'same project, not owner nor shared');
    await assert.rejects(mac(carol), { code: 'KEY_NOT_FOUND' }, 'other project sees nothing');
    await assert.rejects(mac(officer), { code: 'ACCESS_DENIED' }, 'officers never use keys');
    await assert.rejects(engine.keys.create(officer, { project: 'alpha', name: 'o', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }), { code: 'ACCESS_DENIED' });
    await assert.rejects(engine.keys.create(alice, { project: 'beta', name: 'o', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }), { code: 'ACCESS_DENIED' });
    assert.equal((await engine.keys.describe(auditor, key.id)).id, key.id);
    await assert.rejects(engine.keys.list(carol, 'alpha'), { code: 'ACCESS_DENIED' });

    await engine.keys.share(alice, key.id, 'carol', anyone);
    await mac(carol);
    await assert.rejects(engine.keys.rotate(carol, key.id), { code: 'ACCESS_DENIED' }, 'shared users only use');
    await assert.rejects(engine.keys.share(carol, key.id, 'dave', anyone), { code: 'ACCESS_DENIED' });
    await assert.rejects(engine.keys.share(alice, key.id, 'bad name!', anyone), { code: 'INVALID_ARGUMENT' });
    await engine.keys.unshare(alice, key.id, 'carol');
    await assert.rejects(mac(carol), { code: 'KEY_NOT_FOUND' });
    assert.deepEqual((await engine.keys.describe(alice, key.id)).sharedWith, []);
  });

  it('shares only with a grantee the check confirms, asked only once the caller may manage the key', async () => {
    const { engine, audit } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'grant', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const asked: string[] = [];
    const onlyCarol: GranteeCheck = (name) => {
      asked.push(name);
      return name === 'carol' ? Promise.resolve() : Promise.reject(new CofferError('PRINCIPAL_NOT_FOUND', 'principal not found'));
    };
    await assert.rejects(engine.keys.share(alice, key.id, 'ghost', onlyCarol), { code: 'PRINCIPAL_NOT_FOUND' });
    const refused = audit.events.at(-1);
    assert.deepEqual([refused?.operation, refused?.outcome, refused?.errorCode, refused?.keyId, refused?.detail], ['key.share', 'FAILED', 'PRINCIPAL_NOT_FOUND', key.id, { principal: 'ghost' }]);
    assert.deepEqual((await engine.keys.describe(alice, key.id)).sharedWith, []);

    // No existence oracle: callers who may not manage the key are refused before the check runs.
    await assert.rejects(engine.keys.share(carol, key.id, 'ghost', onlyCarol), { code: 'KEY_NOT_FOUND' });
    await assert.rejects(engine.keys.share(bob, key.id, 'ghost', onlyCarol), { code: 'ACCESS_DENIED' });
    await assert.rejects(engine.keys.share(alice, key.id, 'Bad Name', onlyCarol), { code: 'INVALID_ARGUMENT' });
    assert.deepEqual(asked, ['ghost']);

    assert.deepEqual((await engine.keys.share(alice, key.id, 'carol', onlyCarol)).sharedWith, ['carol']);
    // The owner (the caller) is never asked about; a name granted already is, as it may be gone since.
    assert.deepEqual((await engine.keys.share(alice, key.id, 'alice', onlyCarol)).sharedWith, ['carol']);
    assert.deepEqual(asked, ['ghost', 'carol']);
    const noLonger: GranteeCheck = () => Promise.reject(new CofferError('PRINCIPAL_NOT_FOUND', 'principal not found'));
    await assert.rejects(engine.keys.share(alice, key.id, 'carol', noLonger), { code: 'PRINCIPAL_NOT_FOUND' });
  });

  it('retries a compare-and-set conflict against a fresh read', async () => {
    const { engine, repository } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'cas', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    // Another writer (say, another node) changes the record behind the engine's cache.
    const stored = await repository.get(key.id);
    assert.ok(stored);
    await repository.update({ ...stored.record, description: 'changed elsewhere' }, stored.revision);
    const updated = await engine.keys.update(alice, key.id, { tags: { team: 'x' } });
    assert.equal(updated.description, 'changed elsewhere');
    assert.deepEqual(updated.tags, { team: 'x' });
  });
});

describe('auditing', () => {
  it('writes an entry for every operation, allowed or denied, without secrets', async () => {
    const { engine, audit } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'aud', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const { ciphertext } = await engine.crypto.encrypt(alice, key.id, Buffer.from('top secret plaintext'));
    await assert.rejects(engine.crypto.decrypt(bob, ciphertext), { code: 'ACCESS_DENIED' });
    assert.deepEqual(audit.events.map((e) => [e.operation, e.outcome, e.errorCode ?? null]), [
      ['key.create', 'ALLOWED', null],
      ['crypto.encrypt', 'ALLOWED', null],
      ['crypto.decrypt', 'DENIED', 'ACCESS_DENIED'],
    ]);
    const encryptEntry = audit.events[1];
    assert.equal(encryptEntry?.keyId, key.id);
    assert.equal(encryptEntry.keyVersion, 1);
    assert.equal(encryptEntry.requestId, 'req-alice');
    assert.match(encryptEntry.inputDigest ?? '', /^[0-9a-f]{64}$/);
    const text = JSON.stringify(audit.events);
    assert.ok(!text.includes('top secret'));
    assert.ok(!text.includes(Buffer.from('top secret plaintext').toString('base64')));
  });

  it('fails closed: no answer without a durable audit entry', async () => {
    const { engine, audit } = newEngine();
    const key = await engine.keys.create(alice, { project: 'alpha', name: 'closed', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    audit.failing = true;
    await assert.rejects(engine.crypto.encrypt(alice, key.id, Buffer.from('x')), { code: 'AUDIT_UNAVAILABLE' });
    await assert.rejects(engine.crypto.encrypt(bob, key.id, Buffer.from('x')), { code: 'AUDIT_UNAVAILABLE' });
  });
});
