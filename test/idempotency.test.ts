// Idempotency keys through the real app: a retried key creation makes one key and answers the same
// body, a reused key with another body or a concurrent duplicate is refused, malformed keys are
// refused, crypto routes record nothing, expired records are pruned; and two nodes sharing one store
// dedupe each other's retries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrincipal, errorCode, openTestServer, type TestServer } from '../src/server/server-test-kit.ts';
import { createApp } from '../src/server/app.ts';
import { IDEMPOTENCY_TTL_MS, pruneIdempotencyRecords } from '../src/server/idempotency.ts';
import { NodeServices } from '../src/server/node-services.ts';

const SPEC = { project: 'alpha', spec: 'EC_P256', usage: 'SIGN_VERIFY' };

async function idemRecords(server: TestServer): Promise<number> {
  return (await server.node.store.list('idem/')).length;
}

async function keyCount(server: TestServer, token: string): Promise<number> {
  const listed = await server.call('GET', '/v1/keys?project=alpha', { token });
  return (listed.body['keys'] as unknown[]).length;
}

describe('Idempotency-Key on writes', () => {
  it('runs a retried key creation once and answers the same body, marked as a replay', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    const headers = { 'idempotency-key': 'create-signing-1' };
    const first = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'signing', ...SPEC }, headers });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers['idempotent-replay'], undefined);
    const again = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'signing', ...SPEC }, headers });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers['idempotent-replay'], 'true');
    assert.equal(again.text, first.text);
    assert.equal(await keyCount(server, alice), 1);
    // Without the key the same body is a new request: the name is taken.
    assert.equal(errorCode(await server.call('POST', '/v1/keys', { token: alice, body: { name: 'signing', ...SPEC } })), 'KEY_ALREADY_EXISTS');

    // The same key with another body is a client bug, not a retry.
    const reused = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'other', ...SPEC }, headers });
    assert.equal(reused.status, 409);
    assert.equal(errorCode(reused), 'IDEMPOTENCY_KEY_REUSED');
    // ... and so is another path.
    const id = (first.body as { id: string }).id;
    assert.equal(errorCode(await server.call('POST', `/v1/keys/${id}/rotate`, { token: alice, headers })), 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(await keyCount(server, alice), 1);

    // Keys are per principal: bob's "create-signing-1" is his own.
    const bob = await createPrincipal(server, 'bob', 'user');
    const bobs = await server.call('POST', '/v1/keys', { token: bob, body: { name: 'bobs', ...SPEC }, headers });
    assert.equal(bobs.status, 201, bobs.text);
    assert.equal(bobs.headers['idempotent-replay'], undefined);

    // A refusal is an answer too: replayed, not run again.
    const refusedHeaders = { 'idempotency-key': 'dup-name' };
    const refusal = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'signing', ...SPEC }, headers: refusedHeaders });
    assert.equal(errorCode(refusal), 'KEY_ALREADY_EXISTS');
    const refusalAgain = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'signing', ...SPEC }, headers: refusedHeaders });
    assert.equal(refusalAgain.headers['idempotent-replay'], 'true');
    assert.equal(refusalAgain.text, refusal.text);
    // The stored record is sealed by the barrier: the key's metadata is not in the store in clear.
    for (const entry of await server.node.store.list('idem/')) assert.equal(Buffer.from(entry.value).includes('signing'), false);
  });

  it('refuses a concurrent duplicate while the first is in flight', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    const headers = { 'idempotency-key': 'parallel' };
    const replies = await Promise.all([1, 2, 3].map(() => server.call('POST', '/v1/keys', { token: alice, body: { name: 'once', ...SPEC }, headers })));
    const statuses = replies.map((r) => (r.status === 201 ? (r.headers['idempotent-replay'] === 'true' ? 'replay' : 'created') : String(errorCode(r))));
    assert.equal(statuses.filter((s) => s === 'created').length, 1, statuses.join());
    for (const s of statuses) assert.ok(['created', 'replay', 'IDEMPOTENCY_KEY_IN_FLIGHT'].includes(s), s);
    assert.equal(await keyCount(server, alice), 1);
    // Once done, the duplicate gets the answer.
    const later = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'once', ...SPEC }, headers });
    assert.equal(later.headers['idempotent-replay'], 'true');
  });

  it('refuses malformed keys and records nothing for crypto, reads or keyless writes', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    for (const bad of ['x'.repeat(129), 'caf\u00e9', 'tab\there']) {
      const reply = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'bad', ...SPEC }, headers: { 'idempotency-key': bad } });
      assert.equal(reply.status, 400, bad);
      assert.equal(errorCode(reply), 'MALFORMED_REQUEST');
    }
    assert.equal(await keyCount(server, alice), 0);
    assert.equal((await server.call('POST', '/v1/keys', { token: alice, body: { name: 'max', ...SPEC }, headers: { 'idempotency-key': '~'.repeat(128) } })).status, 201);
    assert.equal(await idemRecords(server), 1);

    const created = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'k', ...SPEC } });
    assert.equal(await idemRecords(server), 1);
    const keyId = (created.body as { id: string }).id;
    const sign = { keyId, algorithm: 'ECDSA_SHA_256', message: Buffer.from('m').toString('base64') };
    const headers = { 'idempotency-key': 'sign-1' };
    const one = await server.call('POST', '/v1/crypto/sign', { token: alice, body: sign, headers });
    const two = await server.call('POST', '/v1/crypto/sign', { token: alice, body: sign, headers });
    assert.equal(one.status, 200);
    assert.equal(two.status, 200);
    // Computed twice (ECDSA signatures are randomised), never replayed from the store.
    assert.equal(two.headers['idempotent-replay'], undefined);
    assert.notEqual(one.body['signature'], two.body['signature']);
    assert.equal(await idemRecords(server), 1);
    assert.equal((await server.call('GET', `/v1/keys/${keyId}`, { token: alice, headers })).headers['idempotent-replay'], undefined);
    assert.equal(await idemRecords(server), 1);
  });

  it('never records a join token: each issue answers a fresh token and stores no answer', async (t) => {
    const server = await openTestServer(t);
    const officer = await server.login('olivia');
    const headers = { 'idempotency-key': 'join-1' };
    const one = await server.call('POST', '/v1/cluster/join-tokens', { token: officer, body: { nodeName: 'node-new' }, headers });
    const two = await server.call('POST', '/v1/cluster/join-tokens', { token: officer, body: { nodeName: 'node-new' }, headers });
    assert.equal(one.status, 201, one.text);
    assert.equal(two.status, 201, two.text);
    assert.equal(two.headers['idempotent-replay'], undefined);
    assert.notEqual(one.body['token'], two.body['token']);
    assert.equal(await idemRecords(server), 0);
  });

  it('prunes records older than a day', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    await server.call('POST', '/v1/keys', { token: alice, body: { name: 'a', ...SPEC }, headers: { 'idempotency-key': 'a' } });
    assert.equal(await pruneIdempotencyRecords(server.node.store, server.node.barrier, Date.now()), 0);
    assert.equal(await idemRecords(server), 1);
    assert.equal(await pruneIdempotencyRecords(server.node.store, server.node.barrier, Date.now() + IDEMPOTENCY_TTL_MS + 1), 1);
    assert.equal(await idemRecords(server), 0);
    // The key may be used afresh: a new request (the name is taken now, so a refusal).
    const reply = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'a', ...SPEC }, headers: { 'idempotency-key': 'a' } });
    assert.equal(errorCode(reply), 'KEY_ALREADY_EXISTS');
    assert.equal(reply.headers['idempotent-replay'], undefined);
  });

  it('dedupes across apps that share the store (a retry on another node)', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    // A second app over the same node and store stands in for a second node: no state but the store is shared.
    const other = createApp(new NodeServices(server.node, { version: '9.9.9' }), { logger: false });
    t.after(() => other.close());
    const headers = { authorization: `Bearer ${alice}`, 'idempotency-key': 'cross-node' };
    const first = await server.call('POST', '/v1/keys', { token: alice, body: { name: 'shared', ...SPEC }, headers: { 'idempotency-key': 'cross-node' } });
    assert.equal(first.status, 201);
    // Tokens live in one directory's memory, so the second app learns alice's token by logging in.
    const login = await other.inject({ method: 'POST', url: '/v1/auth/login', payload: { name: 'alice', password: 'correct horse battery staple' } });
    const token = (JSON.parse(login.body) as { token: string }).token;
    const retried = await other.inject({ method: 'POST', url: '/v1/keys', headers: { ...headers, authorization: `Bearer ${token}` }, payload: { name: 'shared', ...SPEC } });
    assert.equal(retried.statusCode, 201, retried.body);
    assert.equal(retried.headers['idempotent-replay'], 'true');
    assert.equal(retried.body, first.text);
  });
});
