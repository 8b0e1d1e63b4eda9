// Approval for key use over a real node with mutual TLS on loopback: a 2-of-3 signing key driven
// through the SDK, a sealed 3-of-5 Ed25519 key driven through the `coffer` command, a rejection that
// ends a request, an approver refusing a node whose digest does not match the binding it shows, and
// the audit trail of it all. Refusals are asserted by code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApproverKeys, signApproval } from '../src/approvals/key-use/approver-side.ts';
import { keyUseRequestDigest, type ApproverKeys, type CofferClient, type KeyUseRequestView } from '../src/client/index.ts';
import { KeyUseApi } from '../src/client/key-use-api.ts';
import type { HttpTransport } from '../src/client/http-transport.ts';
import { isCofferError } from '../src/core/errors.ts';
import { coffer, failsWith, ok } from './coffer-command-kit.ts';
import { journal, refused, startReadyNode, type TlsNode } from './tls-node-kit.ts';

const APPROVER_PASSWORD = 'approver pass phrase of some length';
const MESSAGE = Buffer.from('release 1.2.3: sha256 of the artifact goes here');

/** A ready node (officer olivia, user ursula in project alpha) with users `names` who log in by password. */
async function nodeWithApprovers(t: Parameters<typeof startReadyNode>[0], names: readonly string[]): Promise<TlsNode & { officer: CofferClient }> {
  const node = await startReadyNode(t);
  const officer = node.client(node.pki.officer);
  for (const name of names) await officer.principals.create({ name, role: 'user', projects: ['alpha'], defaultProject: 'alpha', password: APPROVER_PASSWORD });
  return { ...node, officer };
}

/** Each approver's client (logged in) and their keys, registered with the node. */
async function registeredApprovers<N extends string>(node: TlsNode, names: readonly N[]): Promise<Record<N, { client: CofferClient; keys: ApproverKeys }>> {
  const approvers = {} as Record<N, { client: CofferClient; keys: ApproverKeys }>;
  for (const name of names) {
    const client = node.client();
    await client.auth.login(name, APPROVER_PASSWORD);
    const pair = generateApproverKeys();
    const info = await client.keyUse.registerApproverKeys({ signingKey: pair.signingPublicKeyPem, shareKey: pair.sharePublicKey });
    assert.deepEqual([info.principal, info.signingAlgorithm, info.shareKey], [name, 'Ed25519', pair.sharePublicKey]);
    approvers[name] = { client, keys: { signingKey: pair.signingPrivateKey, shareKey: pair.sharePrivateKey } };
  }
  return approvers;
}

describe('approval for key use through the SDK', () => {
  it('2 of 3 approvers let a key sign once; the requester never counts; the journal shows every step', async (t) => {
    const node = await nodeWithApprovers(t, ['ann', 'bob', 'cy']);
    const approvers = await registeredApprovers(node, ['ann', 'bob', 'cy'] as const);
    const ursula = node.client(node.pki.user);
    // ursula registers approver keys too, so that her refusal below is about who she is.
    const own = generateApproverKeys();
    await ursula.keyUse.registerApproverKeys({ signingKey: own.signingPublicKeyPem, shareKey: own.sharePublicKey });
    assert.equal((await approvers.ann.client.keyUse.approverKeys('ursula')).principal, 'ursula');

    const key = await ursula.keys.create({ project: 'alpha', name: 'release', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: ['cy', 'ann', 'bob'] } });
    assert.deepEqual(key.approval, { threshold: 2, approvers: ['ann', 'bob', 'cy'], rejectionEnds: true, sealed: false });
    await refused(ursula.crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE }), 'APPROVAL_REQUIRED', 403);

    const view = await ursula.keyUse.request({ use: 'sign', key: 'alpha/release', algorithm: 'ECDSA_SHA_256', message: MESSAGE }, { metadata: { ticket: 'CHG-1' } });
    assert.deepEqual([view.status, view.use, view.keyId, view.keyVersion, view.requester, view.threshold, view.sealed], ['pending', 'sign', key.id, 1, 'ursula', 2, false]);
    assert.deepEqual(view.approvers, ['ann', 'bob', 'cy']);
    assert.deepEqual(view.metadata, { ticket: 'CHG-1' });
    assert.equal(view.inputDigest, createHash('sha256').update(MESSAGE).digest('hex'));
    assert.equal(keyUseRequestDigest(view), view.digest);
    assert.deepEqual((await approvers.bob.client.keyUse.list()).map((r) => r.requestId), [view.requestId]);
    assert.deepEqual((await ursula.keyUse.list('requester')).map((r) => r.requestId), [view.requestId]);

    await refused(ursula.keyUse.approveAsApprover(view.requestId, { signingKey: own.signingPrivateKey }), 'APPROVAL_SELF_NOT_ALLOWED', 403);
    // Bob's key does not sign for cy.
    await refused(approvers.cy.client.keyUse.approve(view.requestId, { signature: signApproval(approvers.bob.keys.signingKey, view.digest) }), 'APPROVAL_SIGNATURE_INVALID', 400);

    const once = await approvers.bob.client.keyUse.approveAsApprover(view.requestId, approvers.bob.keys);
    assert.deepEqual([once.status, once.approvals.map((a) => a.approver)], ['pending', ['bob']]);
    await refused(approvers.bob.client.keyUse.approveAsApprover(view.requestId, approvers.bob.keys), 'APPROVAL_DUPLICATE', 409);
    assert.equal((await ursula.keyUse.result(view.requestId)).status, 'pending');
    assert.deepEqual(await approvers.bob.client.keyUse.list(), []);

    const twice = await approvers.cy.client.keyUse.approveAsApprover(view.requestId, approvers.cy.keys);
    assert.deepEqual(twice.approvals.map((a) => a.approver), ['bob', 'cy']);
    const outcome = await ursula.keyUse.waitForResult(view.requestId, 30);
    assert.equal(outcome.status, 'completed', JSON.stringify(outcome.error));
    assert.ok(outcome.result !== undefined && 'signature' in outcome.result);
    assert.ok(outcome.result.signature instanceof Uint8Array);
    assert.deepEqual([outcome.result.keyId, outcome.result.keyVersion], [key.id, 1]);
    const publicKey = createPublicKey((await ursula.keys.publicKey(key.id)).pem);
    assert.ok(verifySignature('sha256', MESSAGE, publicKey, outcome.result.signature));
    assert.equal(verifySignature('sha256', Buffer.from('another message'), publicKey, outcome.result.signature), false);

    await refused(approvers.ann.client.keyUse.approveAsApprover(view.requestId, approvers.ann.keys), 'APPROVAL_ALREADY_USED', 409);
    assert.equal((await approvers.ann.client.keyUse.show(view.requestId)).status, 'completed');
    // Still no direct use: the approval was for one signature.
    await refused(ursula.crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE }), 'APPROVAL_REQUIRED', 403);

    // The journal: the request, each approval, the outcome and the signature itself.
    const entries = journal(node);
    const mentions = (e: Record<string, unknown>): boolean => JSON.stringify(e).includes(view.requestId);
    const keyUse = entries.filter((e) => String(e['operation']).startsWith('key-use.') && mentions(e));
    const allowed = (operation: string): Record<string, unknown>[] => keyUse.filter((e) => e['operation'] === operation && e['outcome'] === 'ALLOWED');
    assert.equal(allowed('key-use.request').length, 1, JSON.stringify(keyUse.map((e) => [e['operation'], e['outcome']])));
    assert.deepEqual(allowed('key-use.approve').map((e) => e['principal']), ['bob', 'cy']);
    assert.ok(keyUse.some((e) => e['operation'] === 'key-use.approve' && e['outcome'] !== 'ALLOWED' && e['principal'] === 'ursula'), 'the refused self-approval is journalled');
    assert.equal(allowed('key-use.outcome').length, 1);
    const signs = entries.filter((e) => e['operation'] === 'crypto.sign' && e['keyId'] === key.id);
    // Direct sign refused, the approved one run, direct sign refused again.
    assert.equal(signs.length, 3, JSON.stringify(signs));
    assert.deepEqual(signs.map((e) => e['outcome'] === 'ALLOWED'), [false, true, false]);
    assert.equal(JSON.stringify(entries).includes(MESSAGE.toString('base64')), false);
  });

  it('a rejection ends the request: approving afterwards is APPROVAL_REJECTED, and nothing runs', async (t) => {
    const node = await nodeWithApprovers(t, ['ann', 'bob', 'cy']);
    const approvers = await registeredApprovers(node, ['ann', 'bob', 'cy'] as const);
    const ursula = node.client(node.pki.user);
    const key = await ursula.keys.create({ project: 'alpha', name: 'guarded', spec: 'EC_P256', usage: 'SIGN_VERIFY', approval: { threshold: 2, approvers: ['ann', 'bob', 'cy'] } });
    const view = await ursula.keyUse.request({ use: 'sign', key: key.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE });

    const rejected = await approvers.ann.client.keyUse.rejectAsApprover(view.requestId, approvers.ann.keys, 'not during the freeze');
    assert.equal(rejected.status, 'rejected');
    assert.deepEqual(rejected.rejections.map((r) => [r.approver, r.reason]), [['ann', 'not during the freeze']]);
    await refused(approvers.bob.client.keyUse.approveAsApprover(view.requestId, approvers.bob.keys), 'APPROVAL_REJECTED', 409);
    await refused(approvers.cy.client.keyUse.approveAsApprover(view.requestId, approvers.cy.keys), 'APPROVAL_REJECTED', 409);
    const outcome = await ursula.keyUse.result(view.requestId).catch((e: unknown) => e);
    if (isCofferError(outcome)) assert.equal(outcome.code, 'APPROVAL_REJECTED');
    else assert.equal((outcome as { status: string }).status, 'rejected');
    assert.equal(journal(node).filter((e) => e['operation'] === 'crypto.sign' && e['keyId'] === key.id && e['outcome'] === 'ALLOWED').length, 0);
  });
});

describe('an approver never trusts the node for what it signs', () => {
  const binding = {
    requestId: '6a4c1b9e-0c1d-4e8f-9a2b-3c4d5e6f7a8b', use: 'sign', keyId: '0f1e2d3c-4b5a-4968-8776-655443322110', keyVersion: 1,
    inputDigest: createHash('sha256').update(MESSAGE).digest('hex'), requester: 'ursula', createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T01:00:00.000Z', threshold: 2, approvers: ['ann', 'bob', 'cy'], metadata: { ticket: 'CHG-1' },
  } as const;
  const honest: KeyUseRequestView = {
    ...binding, digest: keyUseRequestDigest(binding), project: 'alpha', sealed: false, rejectionEnds: true, status: 'pending', approvals: [], rejections: [],
  };

  it('the digest covers every field of the binding and nothing else', () => {
    assert.match(honest.digest, /^[0-9a-f]{64}$/);
    for (const altered of [{ inputDigest: '00'.repeat(32) }, { keyVersion: 2 }, { requester: 'mallory' }, { approvers: ['ann', 'bob'] }, { threshold: 1 }, { metadata: { ticket: 'CHG-2' } }, { expiresAt: '2026-01-02T01:00:00.000Z' }, { ephemeralPublicKey: 'A'.repeat(43) }]) {
      assert.notEqual(keyUseRequestDigest({ ...binding, ...altered }), honest.digest, JSON.stringify(altered));
    }
    // Status and approvals are not part of what was approved.
    const later: KeyUseRequestView = { ...honest, status: 'completed', approvals: [{ approver: 'bob', approvedAt: binding.createdAt }] };
    assert.equal(keyUseRequestDigest(later), honest.digest);
  });

  it('approveAsApprover and rejectAsApprover refuse a view whose digest is not the binding\'s, before signing or sending', async () => {
    const sent: string[] = [];
    // A node that shows one input but presents the digest of another.
    const tampered: KeyUseRequestView = { ...honest, inputDigest: createHash('sha256').update('something else').digest('hex') };
    const transport = {
      send: (method: string, path: string): Promise<unknown> => {
        sent.push(`${method} ${path}`);
        return Promise.resolve(method === 'GET' ? tampered : {});
      },
    };
    const api = new KeyUseApi(transport as unknown as HttpTransport, 30_000);
    const keys = { signingKey: generateApproverKeys().signingPrivateKey };
    for (const attempt of [api.approveAsApprover(honest.requestId, keys), api.rejectAsApprover(honest.requestId, keys)]) {
      const error = await attempt.then(() => undefined, (e: unknown) => e);
      assert.ok(isCofferError(error), String(error));
      assert.equal(error.code, 'APPROVAL_MISMATCH');
    }
    assert.deepEqual(sent, [`GET /v1/key-use/requests/${honest.requestId}`, `GET /v1/key-use/requests/${honest.requestId}`]);
  });
});

describe('approval for key use through the coffer command', () => {
  it('3 of 5 approvers release their shares of a sealed Ed25519 key while `use sign --wait` waits', async (t) => {
    const names = ['ann', 'bob', 'cy', 'dee', 'eve'] as const;
    const node = await nodeWithApprovers(t, names);
    const file = (name: string): string => join(node.dir, name);
    const base = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath };
    const ursula = { ...base, COFFER_CERT: node.pki.user.certPath, COFFER_KEY: node.pki.user.keyPath };
    writeFileSync(file('password'), `${APPROVER_PASSWORD}\n`);
    const env: Partial<Record<string, Record<string, string>>> = {};
    for (const name of names) {
      const token = ok(await coffer(['login', name, '--password-file', file('password')], base), `login ${name}`).trim();
      env[name] = { ...base, COFFER_TOKEN: token };
    }
    const as = (name: string): Record<string, string> => env[name] ?? {};

    for (const name of names) {
      const printed = ok(await coffer(['approver', 'keygen', '--out', file(`${name}.keys`)], {}), `keygen ${name}`);
      assert.equal(statSync(file(`${name}.keys`)).mode & 0o777, 0o600);
      assert.match(printed, /^-----BEGIN PUBLIC KEY-----\n/);
      assert.match(printed, /^shareKey: [A-Za-z0-9_-]{43}$/m);
      assert.doesNotMatch(printed, /PRIVATE/);
      const registered = JSON.parse(ok(await coffer(['approver', 'register', '--key-file', file(`${name}.keys`), '--json'], as(name)), `register ${name}`)) as Record<string, unknown>;
      assert.deepEqual([registered['principal'], registered['signingAlgorithm']], [name, 'Ed25519']);
      assert.match(String(registered['shareKey']), /^[A-Za-z0-9_-]{43}$/);
    }
    failsWith(await coffer(['approver', 'keygen', '--out', file('ann.keys')], {}), 'INVALID_ARGUMENT', 'keygen never overwrites');

    const created = JSON.parse(ok(await coffer(['keys', 'create', 'alpha/vault', '--spec', 'ED25519', '--usage', 'SIGN_VERIFY', '--approvers', names.join(','), '--threshold', '3', '--sealed', '--json'], ursula), 'keys create')) as Record<string, unknown>;
    assert.deepEqual(created['approval'], { threshold: 3, approvers: [...names], rejectionEnds: true, sealed: true });
    writeFileSync(file('artifact'), MESSAGE);
    failsWith(await coffer(['sign', 'alpha/vault', '--algorithm', 'ED25519', '--in', file('artifact')], ursula), 'APPROVAL_REQUIRED', 'direct sign');

    // The requester waits in the background while the approvers act.
    const waiting = coffer(['use', 'sign', 'alpha/vault', '--algorithm', 'ED25519', '--message-file', file('artifact'), '--metadata', 'ticket=CHG-9', '--wait', '60', '--out', file('artifact.sig')], ursula);
    let requestId: string | undefined;
    for (let attempt = 0; attempt < 100 && requestId === undefined; attempt++) {
      const pending = JSON.parse(ok(await coffer(['approve', 'list', '--json'], as('bob')), 'approve list')) as { requestId: string }[];
      requestId = pending[0]?.requestId;
      if (requestId === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(requestId !== undefined, 'the request reached the approvers');
    const shown = ok(await coffer(['approve', 'show', requestId], as('bob')), 'approve show');
    assert.match(shown, /^sealed: +true$/m);
    assert.match(shown, /^metadata: +\{"ticket":"CHG-9"\}$/m);
    assert.match(shown, /^recomputed: [0-9a-f]{64} \(matches\)$/m);
    // Ann's share key does not open bob's share: refused on bob's machine, before anything is sent.
    failsWith(await coffer(['approve', 'yes', requestId, '--key-file', file('ann.keys')], as('bob')), 'APPROVAL_SHARE_INVALID', 'bob with ann\'s keys');

    for (const name of ['bob', 'dee', 'eve']) ok(await coffer(['approve', 'yes', requestId, '--key-file', file(`${name}.keys`)], as(name)), `approve ${name}`);
    const done = await waiting;
    ok(done, 'use sign --wait');
    assert.match(done.stderr, new RegExp(`request ${requestId}`));
    const signature = readFileSync(file('artifact.sig'));
    assert.equal(signature.length, 64);
    const pem = ok(await coffer(['keys', 'public-key', 'alpha/vault'], ursula), 'public-key');
    assert.ok(verifySignature(null, MESSAGE, createPublicKey(pem), signature));

    failsWith(await coffer(['approve', 'yes', requestId, '--key-file', file('ann.keys')], as('ann')), 'APPROVAL_ALREADY_USED', 'a fourth approval');
    const mine = JSON.parse(ok(await coffer(['use', 'list', '--json'], ursula), 'use list')) as { requestId: string; status: string }[];
    assert.deepEqual(mine.map((r) => [r.requestId, r.status]), [[requestId, 'completed']]);
    const again = JSON.parse(ok(await coffer(['use', 'result', requestId, '--json'], ursula), 'use result')) as { status: string; result: { signature: string } };
    assert.equal(Buffer.from(again.result.signature, 'base64').toString('hex'), signature.toString('hex'));
  });
});
