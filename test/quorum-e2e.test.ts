// Quorum over a real node with mutual TLS on loopback, enforced: under a policy for principal.delete
// (2 of 3) the direct route is QUORUM_REQUIRED and the deletion runs once through a token (two
// appliers racing over HTTP: one wins), a password reset binds its password by digest, and through
// the `coffer quorum` commands a key's owner has its key deleted with 3 of 5 officers approving.
// Refusals are asserted by code; the audit journal shows every step.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signQuorumStatement } from '../src/approvals/quorum/index.ts';
import { bindQuorumPassword, CofferApiError, type CofferClient, type QuorumRules } from '../src/client/index.ts';
import { coffer, failsWith, ok } from './coffer-command-kit.ts';
import { journal, refused, startReadyNode, USER_PASSWORD, type TlsNode } from './tls-node-kit.ts';

const OFFICER_PASSWORD = 'officer pass phrase of some length';
const OFFICERS = ['olivia', 'bert', 'cora'] as const;
/** Five officers approve key deletions: olivia (certificate) and four with passwords. */
const KEY_OFFICERS = [...OFFICERS, 'dina', 'eve'] as const;
/** Approvers in name order, as the node keeps them. */
const RULES: QuorumRules = {
  'principal.delete': { threshold: 2, approvers: [...OFFICERS].sort() },
  'key.delete': { threshold: 3, approvers: [...KEY_OFFICERS].sort() },
  'quorum.policy-change': { threshold: 2, approvers: [...OFFICERS].sort() },
};
const PARAMETERS = { name: 'zed' };

/** A node with officer olivia (certificate), officers bert, cora, dina and eve (passwords), user ursula (certificate) and user zed. */
async function quorumNode(t: Parameters<typeof startReadyNode>[0]): Promise<TlsNode & { olivia: CofferClient }> {
  const node = await startReadyNode(t);
  const olivia = node.client(node.pki.officer);
  for (const name of KEY_OFFICERS.slice(1)) await olivia.principals.create({ name, role: 'officer', password: OFFICER_PASSWORD });
  await olivia.principals.create({ name: 'zed', role: 'user', projects: ['alpha'] });
  return { ...node, olivia };
}

function ed25519(): { pem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(), privateKey };
}

describe('quorum through the SDK', () => {
  it('2 of 3 officers approve a request, its requester applies it once', async (t) => {
    const node = await quorumNode(t);
    const clients: Record<(typeof OFFICERS)[number], CofferClient> = { olivia: node.olivia, bert: node.client(), cora: node.client() };
    await clients.bert.auth.login('bert', OFFICER_PASSWORD);
    await clients.cora.auth.login('cora', OFFICER_PASSWORD);
    const user = node.client(node.pki.user);

    const keys = Object.fromEntries(OFFICERS.map((name) => [name, ed25519()])) as Record<(typeof OFFICERS)[number], ReturnType<typeof ed25519>>;
    for (const name of OFFICERS) {
      const info = await clients[name].quorum.registerApprovalKey(keys[name].pem);
      assert.deepEqual([info.officer, info.algorithm], [name, 'Ed25519']);
      assert.match(info.fingerprint, /^[0-9a-f]{64}$/);
    }
    await refused(user.quorum.registerApprovalKey(ed25519().pem), 'ACCESS_DENIED', 403);
    await refused(clients.bert.quorum.registerApprovalKey(keys.bert.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), 'INVALID_KEY_MATERIAL', 400);

    await refused(node.olivia.quorum.policy(), 'QUORUM_POLICY_MISSING', 409);
    assert.deepEqual(await node.olivia.quorum.initializePolicy(RULES), { version: 1, rules: RULES });
    await refused(clients.bert.quorum.initializePolicy(RULES), 'QUORUM_POLICY_EXISTS', 409);
    assert.deepEqual((await clients.cora.quorum.policy()).rules, RULES);
    await refused(user.quorum.policy(), 'ACCESS_DENIED', 403);

    const token = await node.olivia.quorum.request('principal.delete', PARAMETERS);
    assert.deepEqual([token.status, token.requester, token.parameters, token.approvals], ['pending', 'olivia', PARAMETERS, []]);
    await refused(user.quorum.request('principal.delete', PARAMETERS), 'ACCESS_DENIED', 403);
    await refused(node.olivia.quorum.signAndApprove(token.tokenId, keys.olivia.privateKey), 'APPROVAL_SELF_NOT_ALLOWED', 403);
    await refused(node.olivia.quorum.apply(token.tokenId, PARAMETERS), 'APPROVAL_INSUFFICIENT', 403);
    // Bert's key does not sign for cora.
    await refused(clients.cora.quorum.approve(token.tokenId, signQuorumStatement(keys.bert.privateKey, token.digest)), 'APPROVAL_SIGNATURE_INVALID', 400);

    assert.equal((await clients.bert.quorum.signAndApprove(token.tokenId, keys.bert.privateKey)).approvals.length, 1);
    await refused(clients.bert.quorum.signAndApprove(token.tokenId, keys.bert.privateKey), 'APPROVAL_DUPLICATE', 409);
    const approved = await clients.cora.quorum.approve(token.tokenId, signQuorumStatement(keys.cora.privateKey, token.digest));
    assert.deepEqual(approved.approvals.map((a) => a.approver), ['bert', 'cora']);
    assert.deepEqual((await clients.bert.quorum.list()).map((r) => r.tokenId), [token.tokenId]);
    await refused(user.quorum.list(), 'ACCESS_DENIED', 403);
    await refused(user.quorum.show(token.tokenId), 'ACCESS_DENIED', 403);

    await refused(clients.bert.quorum.apply(token.tokenId, PARAMETERS), 'ACCESS_DENIED', 403);
    await refused(node.olivia.quorum.apply(token.tokenId, { name: 'ursula' }), 'APPROVAL_MISMATCH', 400);
    await refused(node.olivia.quorum.apply(token.tokenId, PARAMETERS, { secret: { password: 'none is bound' } }), 'INVALID_ARGUMENT', 400);
    // The direct route is refused while the policy covers principal.delete; zed is still there.
    await refused(node.olivia.principals.delete('zed'), 'QUORUM_REQUIRED', 403);
    assert.equal((await node.olivia.principals.get('zed')).name, 'zed');

    // Two appliers race over HTTP: exactly one runs the deletion, the other is APPROVAL_ALREADY_USED.
    const racer = node.client(node.pki.officer);
    const raced = await Promise.allSettled([node.olivia.quorum.apply(token.tokenId, PARAMETERS), racer.quorum.apply(token.tokenId, PARAMETERS)]);
    const won = raced.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const lost = raced.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
    assert.equal(won.length, 1);
    assert.deepEqual(won[0], { tokenId: token.tokenId, operation: 'principal.delete', parameters: PARAMETERS, requester: 'olivia', approvers: ['bert', 'cora'], digest: token.digest, result: null });
    assert.ok(lost[0] instanceof CofferApiError && lost[0].code === 'APPROVAL_ALREADY_USED', String(lost[0]));
    await refused(node.olivia.quorum.apply(token.tokenId, PARAMETERS), 'APPROVAL_ALREADY_USED', 409);
    await refused(node.olivia.principals.get('zed'), 'PRINCIPAL_NOT_FOUND', 404);

    const used = await clients.cora.quorum.show(token.tokenId);
    assert.deepEqual([used.status, used.usedBy], ['used', 'olivia']);
    assert.deepEqual(await clients.bert.quorum.list(), []);

    // The journal: request, each approval, apply and outcome for the token, and one deletion.
    const entries = journal(node);
    const steps = entries.filter((e) => e['detail']?.['tokenId'] === token.tokenId && e['outcome'] === 'ALLOWED').map((e) => `${String(e['operation'])}:${String(e['principal'])}`);
    assert.deepEqual(steps, ['quorum.request:olivia', 'quorum.approve:bert', 'quorum.approve:cora', 'quorum.apply:olivia', 'quorum.outcome:olivia']);
    const deletions = entries.filter((e) => e['operation'] === 'principal.delete' && e['detail']?.['target'] === 'zed');
    assert.deepEqual(deletions.map((e) => [e['outcome'], e['errorCode'] ?? null]), [['DENIED', 'QUORUM_REQUIRED'], ['ALLOWED', null]], 'refused directly, then deleted exactly once');
    assert.ok(entries.some((e) => e['operation'] === 'quorum.apply' && e['outcome'] === 'DENIED' && e['errorCode'] === 'APPROVAL_ALREADY_USED'));
  });

  it('a password reset binds the password by digest: a wrong one at apply is APPROVAL_MISMATCH; unimplemented classes are refused', async (t) => {
    const node = await quorumNode(t);
    const bert = node.client();
    await bert.auth.login('bert', OFFICER_PASSWORD);
    const keys = { olivia: ed25519(), bert: ed25519() };
    await node.olivia.quorum.registerApprovalKey(keys.olivia.pem);
    await bert.quorum.registerApprovalKey(keys.bert.pem);
    const rule = { threshold: 1, approvers: ['bert', 'olivia'] };
    await node.olivia.quorum.initializePolicy({ 'principal.password-reset': rule, 'backup.restore': rule, 'quorum.policy-change': rule });

    const newPassword = 'a brand new pass phrase for ursula';
    await refused(node.olivia.principals.setPassword('ursula', newPassword), 'QUORUM_REQUIRED', 403);
    // Changing one's own password needs no quorum.
    const ursula = node.client(node.pki.user);
    await ursula.principals.setPassword('ursula', USER_PASSWORD);
    await refused(node.olivia.quorum.request('principal.password-reset', { name: 'ursula', password: newPassword }), 'INVALID_ARGUMENT', 400);
    await refused(node.olivia.quorum.request('backup.restore', {}), 'INVALID_ARGUMENT', 400);
    await refused(node.olivia.quorum.request('principal.password-reset', { name: 'olivia', ...(await bindQuorumPassword('olivia', newPassword)) }), 'INVALID_ARGUMENT', 400);

    const parameters = { name: 'ursula', ...(await bindQuorumPassword('ursula', newPassword)) };
    const token = await node.olivia.quorum.request('principal.password-reset', parameters);
    await bert.quorum.signAndApprove(token.tokenId, keys.bert.privateKey);
    await refused(node.olivia.quorum.apply(token.tokenId, parameters, { secret: { password: 'not the bound one at all' } }), 'APPROVAL_MISMATCH', 400);
    await refused(node.olivia.quorum.apply(token.tokenId, parameters), 'APPROVAL_MISMATCH', 400);
    const applied = await node.olivia.quorum.apply(token.tokenId, parameters, { secret: { password: newPassword } });
    assert.equal(applied.result, null);
    await refused(node.client().auth.login('ursula', USER_PASSWORD), 'AUTH_FAILED', 401);
    assert.equal((await node.client().auth.login('ursula', newPassword)).principal.name, 'ursula');
    const everything = `${JSON.stringify(await bert.quorum.show(token.tokenId))}${readFileSync(node.running.node.journalPath, 'utf8')}`;
    assert.ok(!everything.includes(newPassword), 'the password is neither shown nor audited');
  });
});

describe('quorum through the coffer command', () => {
  it('keygen, register-key, policy init; a key owner requests key.delete, 3 of 5 officers approve, the owner applies once', async (t) => {
    const node = await quorumNode(t);
    const file = (name: string): string => join(node.dir, name);
    const base = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath };
    writeFileSync(file('password'), `${OFFICER_PASSWORD}\n`);
    const env: Record<string, Record<string, string>> = {
      olivia: { ...base, COFFER_CERT: node.pki.officer.certPath, COFFER_KEY: node.pki.officer.keyPath },
      ursula: { ...base, COFFER_CERT: node.pki.user.certPath, COFFER_KEY: node.pki.user.keyPath },
    };
    for (const name of KEY_OFFICERS.slice(1)) {
      const token = ok(await coffer(['login', name, '--password-file', file('password')], base), `login ${name}`).trim();
      env[name] = { ...base, COFFER_TOKEN: token };
    }
    const as = (name: string): Record<string, string> => env[name] ?? {};

    for (const name of KEY_OFFICERS) {
      const publicPem = ok(await coffer(['quorum', 'keygen', '--out', file(`${name}.key`)], {}), `keygen ${name}`);
      assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
      assert.equal(statSync(file(`${name}.key`)).mode & 0o777, 0o600);
      writeFileSync(file(`${name}.pub`), publicPem);
      const registered = JSON.parse(ok(await coffer(['quorum', 'register-key', '--public', file(`${name}.pub`), '--json'], as(name)), `register ${name}`)) as Record<string, unknown>;
      assert.deepEqual([registered['officer'], registered['algorithm']], [name, 'Ed25519']);
    }
    failsWith(await coffer(['quorum', 'keygen', '--out', file('olivia.key')], {}), 'INVALID_ARGUMENT', 'keygen never overwrites');

    writeFileSync(file('rules.json'), JSON.stringify(RULES));
    ok(await coffer(['quorum', 'policy', 'init', '--file', file('rules.json')], as('olivia')), 'policy init');
    const policy = JSON.parse(ok(await coffer(['quorum', 'policy', 'show', '--json'], as('bert')), 'policy show')) as Record<string, unknown>;
    assert.deepEqual(policy, { version: 1, rules: RULES });
    failsWith(await coffer(['quorum', 'policy', 'init', '--file', file('rules.json')], as('cora')), 'QUORUM_POLICY_EXISTS', 'a second init');

    // Ursula owns a key; deleting it directly is refused while the policy covers key.delete.
    const ursula = node.client(node.pki.user);
    const key = await ursula.keys.create({ project: 'alpha', name: 'retiring', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await refused(ursula.keys.scheduleDeletion(key.id, 7), 'QUORUM_REQUIRED', 403);
    failsWith(await coffer(['quorum', 'request', 'key.delete', '--param', `keyId=${key.id}`], as('olivia')), 'ACCESS_DENIED', 'an officer does not request a key deletion');
    failsWith(await coffer(['quorum', 'request', 'key.delete', '--param', 'keyId=alpha/retiring'], as('ursula')), 'INVALID_ARGUMENT', 'a key name, not an id');

    const parameters = { waitingDays: 7, keyId: key.id };
    const requested = JSON.parse(ok(await coffer(['quorum', 'request', 'key.delete', '--param', `keyId=${key.id}`, '--parameters', '{"waitingDays":7}', '--json'], as('ursula')), 'request')) as Record<string, unknown>;
    const tokenId = String(requested['tokenId']);
    assert.deepEqual([requested['requester'], requested['parameters']], ['ursula', parameters]);
    failsWith(await coffer(['quorum', 'approve', tokenId, '--private-key', file('olivia.key')], as('ursula')), 'ACCESS_DENIED', 'the owner does not approve');
    for (const name of ['bert', 'dina']) ok(await coffer(['quorum', 'approve', tokenId, '--private-key', file(`${name}.key`)], as(name)), `approve ${name}`);
    failsWith(await coffer(['quorum', 'apply', tokenId, '--param', `keyId=${key.id}`, '--parameters', '{"waitingDays":7}'], as('ursula')), 'APPROVAL_INSUFFICIENT', 'apply with 2 of 3');
    failsWith(await coffer(['quorum', 'approve', tokenId, '--private-key', file('cora.key')], as('eve')), 'APPROVAL_SIGNATURE_INVALID', 'another officer’s key');
    ok(await coffer(['quorum', 'approve', tokenId, '--private-key', file('eve.key')], as('eve')), 'approve eve');

    const listed = JSON.parse(ok(await coffer(['quorum', 'list', '--json'], as('cora')), 'list')) as { tokenId: string; approvals: { approver: string }[] }[];
    assert.deepEqual(listed.map((r) => [r.tokenId, r.approvals.map((a) => a.approver)]), [[tokenId, ['bert', 'dina', 'eve']]]);
    assert.match(ok(await coffer(['quorum', 'show', tokenId], as('ursula')), 'the requester reads its token'), /^approvals: +bert,dina,eve$/m);
    failsWith(await coffer(['quorum', 'apply', tokenId, '--param', `keyId=${key.id}`], as('ursula')), 'APPROVAL_MISMATCH', 'parameters differ');

    const applied = JSON.parse(ok(await coffer(['quorum', 'apply', tokenId, '--param', `keyId=${key.id}`, '--parameters', '{"waitingDays":7}', '--json'], as('ursula')), 'apply')) as Record<string, unknown>;
    assert.deepEqual([applied['operation'], applied['parameters'], applied['approvers']], ['key.delete', parameters, ['bert', 'dina', 'eve']]);
    const result = applied['result'] as Record<string, unknown>;
    assert.deepEqual([result['id'], result['state']], [key.id, 'PENDING_DELETION']);
    assert.equal((await ursula.keys.get(key.id)).state, 'PENDING_DELETION', 'the deletion happened');
    failsWith(await coffer(['quorum', 'apply', tokenId, '--param', `keyId=${key.id}`, '--parameters', '{"waitingDays":7}'], as('ursula')), 'APPROVAL_ALREADY_USED', 'a second apply');
    assert.match(ok(await coffer(['quorum', 'show', tokenId], as('cora')), 'show used'), /^status: +used$/m);

    const steps = journal(node).filter((e) => e['detail']?.['tokenId'] === tokenId && e['outcome'] === 'ALLOWED').map((e) => `${String(e['operation'])}:${String(e['principal'])}`);
    assert.deepEqual(steps, ['quorum.request:ursula', 'quorum.approve:bert', 'quorum.approve:dina', 'quorum.approve:eve', 'quorum.apply:ursula', 'quorum.outcome:ursula']);
  });

  it('a password reset from the CLI: the password is bound at request and given again at apply', async (t) => {
    const node = await quorumNode(t);
    const file = (name: string): string => join(node.dir, name);
    const base = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath };
    const olivia = { ...base, COFFER_CERT: node.pki.officer.certPath, COFFER_KEY: node.pki.officer.keyPath };
    const bert = node.client();
    await bert.auth.login('bert', OFFICER_PASSWORD);
    const bertKey = ed25519();
    await bert.quorum.registerApprovalKey(bertKey.pem);
    await node.olivia.quorum.registerApprovalKey(ed25519().pem);
    const rule = { threshold: 1, approvers: ['bert', 'olivia'] };
    await node.olivia.quorum.initializePolicy({ 'principal.password-reset': rule, 'quorum.policy-change': rule });
    const newPassword = 'zed gets a fresh pass phrase today';
    writeFileSync(file('new-password'), `${newPassword}\n`);
    writeFileSync(file('wrong-password'), 'some other pass phrase entirely\n');

    failsWith(await coffer(['principals', 'set-password', 'zed', '--password-file', file('new-password')], olivia), 'QUORUM_REQUIRED', 'direct reset');
    const requested = JSON.parse(ok(await coffer(['quorum', 'request', 'principal.password-reset', '--param', 'name=zed', '--password-file', file('new-password'), '--json'], olivia), 'request')) as { tokenId: string; parameters: Record<string, unknown> };
    assert.deepEqual(Object.keys(requested.parameters).sort(), ['name', 'passwordDigest', 'passwordSalt']);
    await bert.quorum.signAndApprove(requested.tokenId, bertKey.privateKey);
    failsWith(await coffer(['quorum', 'apply', requested.tokenId, '--parameters', JSON.stringify(requested.parameters), '--password-file', file('wrong-password')], olivia), 'APPROVAL_MISMATCH', 'wrong password');
    ok(await coffer(['quorum', 'apply', requested.tokenId, '--parameters', JSON.stringify(requested.parameters), '--password-file', file('new-password')], olivia), 'apply');
    assert.equal((await node.client().auth.login('zed', newPassword)).principal.name, 'zed');
    assert.ok(!readFileSync(node.running.node.journalPath, 'utf8').includes(newPassword));
  });
});
