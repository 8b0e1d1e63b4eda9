// Key-use approval end to end over real parts: M signed approvals run the use exactly once, as the
// requester; rejections, expiry, races and long-polls; what the audit journal records.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { at, journal, openKeyUseFixture, user } from './key-use-test-kit.ts';

const message = Buffer.from('release 2.0');

describe('approval for key use', () => {
  it('2-of-3: a sign request runs once the second approval is in; the signature verifies with node:crypto', async (t) => {
    const f = await openKeyUseFixture(t, 3);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'release', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: f.approvers.map((a) => a.name) } }, f.service.hooks);
    await assert.rejects(f.engine.crypto.sign(f.alice, key.id, { algorithm: 'ECDSA_SHA_256', message }), { code: 'APPROVAL_REQUIRED' });
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message }, { metadata: { artifact: 'app-2.0.tar.gz' } });
    assert.equal(view.status, 'pending');
    assert.deepEqual(view.metadata, { artifact: 'app-2.0.tar.gz' });
    assert.equal(view.ephemeralPublicKey, undefined);
    assert.deepEqual((await f.service.list(at(f.approvers, 0).caller)).map((v) => v.requestId), [view.requestId]);
    const first = await f.approve(at(f.approvers, 0), view);
    assert.equal(first.status, 'pending');
    assert.deepEqual(await f.service.list(at(f.approvers, 0).caller), [], 'acted on: no longer listed for that approver');
    assert.equal((await f.service.outcome(f.alice, view.requestId)).status, 'pending');
    const second = await f.approve(at(f.approvers, 1), view);
    assert.equal(second.status, 'completed');
    const outcome = await f.service.outcome(f.alice, view.requestId);
    assert.equal(outcome.status, 'completed');
    assert.ok(outcome.result?.use === 'sign');
    const pub = await f.engine.crypto.getPublicKey(f.alice, key.id);
    assert.ok(nodeVerify('sha256', message, createPublicKey(pub.pem), outcome.result.signature));
    assert.deepEqual((await f.service.list(f.alice, 'requester')).map((v) => v.status), ['completed']);
    // The journal: request, approvals, the engine's own sign (as alice) and the outcome; no signatures or results.
    const entries = journal(f.node).filter((e) => (String(e['operation']).startsWith('key-use.') && e['operation'] !== 'key-use.approver-keys.register') || e['operation'] === 'crypto.sign');
    assert.deepEqual(entries.map((e) => `${String(e['operation'])} ${String(e['outcome'])}`), [
      'crypto.sign FAILED', 'key-use.request ALLOWED', 'key-use.approve ALLOWED', 'key-use.result ALLOWED',
      'key-use.approve ALLOWED', 'crypto.sign ALLOWED', 'key-use.outcome ALLOWED', 'key-use.result ALLOWED',
    ]);
    const signEntry = entries.find((e) => e['operation'] === 'crypto.sign' && e['outcome'] === 'ALLOWED') ?? assert.fail('no sign entry');
    assert.equal(signEntry['principal'], 'alice');
    const requestEntry = entries.find((e) => e['operation'] === 'key-use.request') ?? assert.fail('no request entry');
    assert.deepEqual([requestEntry['keyId'], requestEntry['inputDigest'], requestEntry.detail], [key.id, view.inputDigest, { use: 'sign', requestId: view.requestId, threshold: 2 }]);
    const text = JSON.stringify(journal(f.node));
    assert.ok(!text.includes(Buffer.from(outcome.result.signature).toString('base64url')) && !text.includes(Buffer.from(outcome.result.signature).toString('base64')), 'no signature in the journal');
    assert.ok(!text.includes(message.toString('base64')), 'no input in the journal');
  });

  it('3-of-5: a decrypt request on an RSA key returns the plaintext to the requester only', async (t) => {
    const f = await openKeyUseFixture(t, 5);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'rsa', spec: 'RSA_2048', usage: 'ENCRYPT_DECRYPT', approval: { threshold: 3, approvers: f.approvers.map((a) => a.name) } }, f.service.hooks);
    const { ciphertext } = await f.engine.crypto.encrypt(f.alice, key.id, Buffer.from('secret'));
    const view = await f.service.request(f.alice, { use: 'decrypt', ciphertext });
    assert.equal(view.keyId, key.id);
    for (const i of [4, 2]) assert.equal((await f.approve(at(f.approvers, i), view)).status, 'pending');
    await assert.rejects(f.service.outcome(at(f.approvers, 0).caller, view.requestId), { code: 'APPROVAL_NOT_FOUND' });
    assert.equal((await f.approve(at(f.approvers, 0), view)).status, 'completed');
    const outcome = await f.service.outcome(f.alice, view.requestId);
    assert.ok(outcome.result?.use === 'decrypt');
    assert.equal(Buffer.from(outcome.result.plaintext).toString(), 'secret');
  });

  it('two approvers racing to be the M-th: the use runs exactly once', async (t) => {
    const f = await openKeyUseFixture(t, 3);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'race', spec: 'ED25519', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: f.approvers.map((a) => a.name) } }, f.service.hooks);
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ED25519', message });
    await f.approve(at(f.approvers, 0), view);
    const results = await Promise.allSettled([f.approve(at(f.approvers, 1), view), f.approve(at(f.approvers, 2), view)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, 'exactly one approval counted');
    const lost = results.find((r) => r.status === 'rejected');
    assert.equal((lost?.reason as { code?: string } | undefined)?.code, 'APPROVAL_ALREADY_USED');
    const signs = journal(f.node).filter((e) => e['operation'] === 'crypto.sign' && e['outcome'] === 'ALLOWED');
    assert.equal(signs.length, 1);
    assert.equal((await f.service.outcome(f.alice, view.requestId)).status, 'completed');
  });

  it('expiry on the injected clock: from expiresAt on, approve and reject refuse and the status is expired', async (t) => {
    const f = await openKeyUseFixture(t, 3);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'exp', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: f.approvers.map((a) => a.name) } }, f.service.hooks);
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message }, { expiresInSeconds: 60 });
    await f.approve(at(f.approvers, 0), view);
    f.clock.advance(59_999);
    assert.equal((await f.service.show(f.alice, view.requestId)).status, 'pending');
    f.clock.advance(1);
    await assert.rejects(f.approve(at(f.approvers, 1), view), { code: 'APPROVAL_EXPIRED' });
    await assert.rejects(f.reject(at(f.approvers, 2), view), { code: 'APPROVAL_EXPIRED' });
    assert.equal((await f.service.show(f.alice, view.requestId)).status, 'expired');
    assert.equal((await f.service.outcome(f.alice, view.requestId)).status, 'expired');
    assert.deepEqual(await f.service.list(at(f.approvers, 1).caller), []);
    // Pruned a day after it ended.
    f.clock.advance(24 * 3600 * 1000);
    assert.equal(await f.service.prune(), 1);
    await assert.rejects(f.service.show(f.alice, view.requestId), { code: 'APPROVAL_NOT_FOUND' });
  });

  it('a rejection ends the request when rejectionEnds; otherwise only when M can no longer be reached', async (t) => {
    const f = await openKeyUseFixture(t, 3);
    const names = f.approvers.map((a) => a.name);
    const ends = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'ends', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: names } }, f.service.hooks);
    const one = await f.service.request(f.alice, { use: 'sign', key: ends.id, algorithm: 'ECDSA_SHA_256', message });
    const rejected = await f.reject(at(f.approvers, 0), one, 'not this build');
    assert.equal(rejected.status, 'rejected');
    assert.deepEqual(rejected.rejections.map((r) => [r.approver, r.reason]), [['approver-0', 'not this build']]);
    await assert.rejects(f.approve(at(f.approvers, 1), one), { code: 'APPROVAL_REJECTED' });
    await assert.rejects(f.service.outcome(f.alice, one.requestId), { code: 'APPROVAL_REJECTED' });

    const goes = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'goes-on', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: names, rejectionEnds: false } }, f.service.hooks);
    const two = await f.service.request(f.alice, { use: 'sign', key: goes.id, algorithm: 'ECDSA_SHA_256', message });
    assert.equal((await f.reject(at(f.approvers, 0), two)).status, 'pending');
    assert.equal((await f.approve(at(f.approvers, 1), two)).status, 'pending');
    assert.equal((await f.approve(at(f.approvers, 2), two)).status, 'completed');
    const three = await f.service.request(f.alice, { use: 'sign', key: goes.id, algorithm: 'ECDSA_SHA_256', message });
    assert.equal((await f.reject(at(f.approvers, 0), three)).status, 'pending');
    assert.equal((await f.reject(at(f.approvers, 1), three)).status, 'rejected', 'one approver left: 2 can no longer be reached');
  });

  it('a long-poll answers as soon as the use ran, and a wait that ends answers the status', async (t) => {
    const f = await openKeyUseFixture(t, 2);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'poll', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 1, approvers: f.approvers.map((a) => a.name) } }, f.service.hooks);
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', digest: Buffer.alloc(32, 7) });
    const started = performance.now();
    const waiting = f.service.outcome(f.alice, view.requestId, 30);
    setTimeout(() => void f.approve(at(f.approvers, 1), view), 50).unref();
    const outcome = await waiting;
    assert.equal(outcome.status, 'completed');
    assert.ok(performance.now() - started < 5000, 'answered on completion, not at the end of the wait');
    const other = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', digest: Buffer.alloc(32, 8) });
    assert.equal((await f.service.outcome(f.alice, other.requestId, 0.3)).status, 'pending');
  });

  it('shows a request to its requester, listed approvers, officers and auditors; to others it does not exist', async (t) => {
    const f = await openKeyUseFixture(t, 2);
    const key = await f.engine.keys.create(f.alice, { project: 'alpha', name: 'seen', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 1, approvers: f.approvers.map((a) => a.name) } }, f.service.hooks);
    const view = await f.service.request(f.alice, { use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message });
    for (const who of [f.alice, at(f.approvers, 0).caller, { ...user('olivia'), roles: ['officer' as const] }, { ...user('audrey'), roles: ['auditor' as const] }]) {
      assert.equal((await f.service.show(who, view.requestId)).requestId, view.requestId);
    }
    await assert.rejects(f.service.show(user('bob'), view.requestId), { code: 'APPROVAL_NOT_FOUND' });
  });
});
