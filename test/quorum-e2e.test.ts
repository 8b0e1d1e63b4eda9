// Quorum over a real node with mutual TLS on loopback: three officers register approval keys, set a
// 2-of-3 policy for principal.delete, and one request is approved by the other two and applied once,
// through the SDK and again through the `coffer quorum` commands. Refusals are asserted by code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { signQuorumStatement } from '../src/approvals/quorum/index.ts';
import { CofferApiError, type CofferClient, type QuorumRules } from '../src/client/index.ts';
import { startReadyNode, type TlsNode } from './tls-node-kit.ts';

const MAIN = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const OFFICER_PASSWORD = 'officer pass phrase of some length';
const OFFICERS = ['olivia', 'bert', 'cora'] as const;
/** Approvers in name order, as the node keeps them. */
const RULES: QuorumRules = {
  'principal.delete': { threshold: 2, approvers: [...OFFICERS].sort() },
  'quorum.policy-change': { threshold: 2, approvers: [...OFFICERS].sort() },
};
const PARAMETERS = { name: 'zed' };

async function refused(call: Promise<unknown>, code: string, status: number): Promise<void> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CofferApiError, `expected CofferApiError ${code}, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.equal(error.status, status);
}

/** A node with officer olivia (certificate), officers bert and cora (passwords) and user zed. */
async function quorumNode(t: Parameters<typeof startReadyNode>[0]): Promise<TlsNode & { olivia: CofferClient }> {
  const node = await startReadyNode(t);
  const olivia = node.client(node.pki.officer);
  for (const name of ['bert', 'cora']) await olivia.principals.create({ name, role: 'officer', password: OFFICER_PASSWORD });
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
    const applied = await node.olivia.quorum.apply(token.tokenId, PARAMETERS);
    assert.deepEqual(applied, { tokenId: token.tokenId, operation: 'principal.delete', parameters: PARAMETERS, requester: 'olivia', approvers: ['bert', 'cora'], digest: token.digest });
    await refused(node.olivia.quorum.apply(token.tokenId, PARAMETERS), 'APPROVAL_ALREADY_USED', 409);

    const used = await clients.cora.quorum.show(token.tokenId);
    assert.deepEqual([used.status, used.usedBy], ['used', 'olivia']);
    assert.deepEqual(await clients.bert.quorum.list(), []);
    // Quorum is not yet enforced on the operation itself: zed is still there.
    assert.equal((await node.olivia.principals.get('zed')).name, 'zed');
  });
});

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `coffer args…` with the given environment (no COFFER_* from the test's own). */
function coffer(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_')));
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (status) => {
      done({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

function ok(run: Run, what: string): string {
  assert.equal(run.status, 0, `${what}: exit ${String(run.status)}, stderr: ${run.stderr}`);
  return run.stdout;
}

function failsWith(run: Run, code: string, what: string): void {
  assert.equal(run.status, 1, `${what}: exit ${String(run.status)}, stdout: ${run.stdout}`);
  assert.match(run.stderr, new RegExp(`^coffer: ${code}: `), what);
}

describe('quorum through the coffer command', () => {
  it('keygen, register-key, policy init, request, approve by two others, apply once', async (t) => {
    const node = await quorumNode(t);
    const file = (name: string): string => join(node.dir, name);
    const base = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath };
    writeFileSync(file('password'), `${OFFICER_PASSWORD}\n`);
    const env: Record<string, Record<string, string>> = { olivia: { ...base, COFFER_CERT: node.pki.officer.certPath, COFFER_KEY: node.pki.officer.keyPath } };
    for (const name of ['bert', 'cora']) {
      const token = ok(await coffer(['login', name, '--password-file', file('password')], base), `login ${name}`).trim();
      env[name] = { ...base, COFFER_TOKEN: token };
    }
    const as = (name: string): Record<string, string> => env[name] ?? {};

    for (const name of OFFICERS) {
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

    const requested = JSON.parse(ok(await coffer(['quorum', 'request', '--operation', 'principal.delete', '--parameters', JSON.stringify(PARAMETERS), '--json'], as('olivia')), 'request')) as Record<string, unknown>;
    const tokenId = String(requested['tokenId']);
    assert.deepEqual(requested['parameters'], PARAMETERS);
    failsWith(await coffer(['quorum', 'approve', tokenId, '--private-key', file('olivia.key')], as('olivia')), 'APPROVAL_SELF_NOT_ALLOWED', 'self-approval');
    failsWith(await coffer(['quorum', 'apply', tokenId, '--parameters', JSON.stringify(PARAMETERS)], as('olivia')), 'APPROVAL_INSUFFICIENT', 'apply before approvals');
    for (const name of ['bert', 'cora']) ok(await coffer(['quorum', 'approve', tokenId, '--private-key', file(`${name}.key`)], as(name)), `approve ${name}`);

    const listed = JSON.parse(ok(await coffer(['quorum', 'list', '--json'], as('cora')), 'list')) as { tokenId: string; approvals: { approver: string }[] }[];
    assert.deepEqual(listed.map((r) => [r.tokenId, r.approvals.map((a) => a.approver)]), [[tokenId, ['bert', 'cora']]]);
    assert.match(ok(await coffer(['quorum', 'show', tokenId], as('bert')), 'show'), /^approvals: +bert,cora$/m);

    const applied = JSON.parse(ok(await coffer(['quorum', 'apply', tokenId, '--parameters', JSON.stringify(PARAMETERS), '--json'], as('olivia')), 'apply')) as Record<string, unknown>;
    assert.deepEqual([applied['operation'], applied['parameters'], applied['approvers']], ['principal.delete', PARAMETERS, ['bert', 'cora']]);
    failsWith(await coffer(['quorum', 'apply', tokenId, '--parameters', JSON.stringify(PARAMETERS)], as('olivia')), 'APPROVAL_ALREADY_USED', 'a second apply');
    assert.match(ok(await coffer(['quorum', 'show', tokenId], as('cora')), 'show used'), /^status: +used$/m);
  });
});
