// Login, tokens, principals and projects through the API; the directory authorises and audits, the
// routes only carry requests and answers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrincipal, errorCode, openTestServer, PASSWORD } from './server-test-kit.ts';

describe('authentication routes', () => {
  it('log in, identify, log out; wrong credentials, malformed headers and rate limits are refused', async (t) => {
    const server = await openTestServer(t);
    const token = await createPrincipal(server, 'alice', 'user');

    const whoami = await server.call('GET', '/v1/auth/whoami', { token });
    assert.equal(whoami.status, 200);
    assert.equal(whoami.body['name'], 'alice');
    assert.deepEqual(whoami.body['projects'], ['alpha']);
    assert.equal('passwordHash' in whoami.body, false);

    const none = await server.call('GET', '/v1/auth/whoami');
    assert.equal(none.status, 401);
    assert.equal(errorCode(none), 'AUTH_REQUIRED');
    assert.equal(errorCode(await server.call('GET', '/v1/auth/whoami', { headers: { authorization: 'Basic YWxpY2U6eA==' } })), 'AUTH_FAILED');
    assert.equal(errorCode(await server.call('GET', '/v1/auth/whoami', { token: 'A'.repeat(43) })), 'AUTH_FAILED');

    const wrong = await server.call('POST', '/v1/auth/login', { body: { name: 'alice', password: 'wrong password!' } });
    assert.equal(wrong.status, 401);
    assert.equal(errorCode(wrong), 'AUTH_FAILED');
    const login = await server.call('POST', '/v1/auth/login', { body: { name: 'alice', password: PASSWORD } });
    assert.equal(login.status, 200);
    assert.equal((login.body['principal'] as Record<string, unknown>)['name'], 'alice');
    assert.ok(Date.parse(String(login.body['expiresAt'])) > Date.now());

    const logout = await server.call('POST', '/v1/auth/logout', { token });
    assert.equal(logout.status, 204);
    assert.equal(errorCode(await server.call('GET', '/v1/auth/whoami', { token })), 'AUTH_FAILED');
    assert.equal((await server.call('GET', '/v1/auth/whoami', { token: String(login.body['token']) })).status, 200, 'other sessions live on');

    // Five failures a minute per name (the default), then RATE_LIMITED even for the right password.
    for (let i = 0; i < 5; i++) await server.call('POST', '/v1/auth/login', { body: { name: 'alice', password: `wrong password ${i}` } });
    const limited = await server.call('POST', '/v1/auth/login', { body: { name: 'alice', password: PASSWORD } });
    assert.equal(limited.status, 429);
    assert.equal(errorCode(limited), 'RATE_LIMITED');
  });
});

describe('principal and project routes', () => {
  it('officers manage principals and projects; others are refused', async (t) => {
    const server = await openTestServer(t);
    const officer = await server.login('olivia');
    const alice = await createPrincipal(server, 'alice', 'user', ['alpha']);

    const project = await server.call('POST', '/v1/projects', { token: officer, body: { name: 'beta', description: 'second' } });
    assert.equal(project.status, 201);
    assert.equal(project.body['description'], 'second');
    assert.equal(errorCode(await server.call('POST', '/v1/projects', { token: officer, body: { name: 'beta' } })), 'PROJECT_ALREADY_EXISTS');
    assert.equal(errorCode(await server.call('POST', '/v1/projects', { token: alice, body: { name: 'gamma' } })), 'ACCESS_DENIED');
    assert.equal((await server.call('GET', '/v1/projects/beta', { token: officer })).body['name'], 'beta');
    assert.equal(errorCode(await server.call('GET', '/v1/projects/nope', { token: officer })), 'PROJECT_NOT_FOUND');
    const listed = await server.call('GET', '/v1/projects?limit=1', { token: officer });
    assert.deepEqual((listed.body['projects'] as { name: string }[]).map((p) => p.name), ['alpha']);
    assert.equal(listed.body['next'], 'alpha');
    const rest = await server.call('GET', '/v1/projects?after=alpha', { token: officer });
    assert.deepEqual((rest.body['projects'] as { name: string }[]).map((p) => p.name), ['beta']);
    assert.equal(rest.body['next'], undefined);
    assert.deepEqual(((await server.call('GET', '/v1/projects', { token: alice })).body['projects'] as { name: string }[]).map((p) => p.name), ['alpha']);

    const bob = await server.call('POST', '/v1/principals', {
      token: officer,
      body: { name: 'bob', role: 'user', projects: ['beta'], certificates: [{ fingerprint: 'ab'.repeat(32), subject: 'CN=bob' }] },
    });
    assert.equal(bob.status, 201, bob.text);
    assert.equal(bob.body['hasPassword'], false);
    assert.equal(errorCode(await server.call('POST', '/v1/principals', { token: officer, body: { name: 'bob', role: 'user' } })), 'PRINCIPAL_ALREADY_EXISTS');
    assert.equal(errorCode(await server.call('POST', '/v1/principals', { token: officer, body: { name: 'eve', role: 'root' } })), 'MALFORMED_REQUEST');
    assert.equal(errorCode(await server.call('POST', '/v1/principals', { token: alice, body: { name: 'eve', role: 'user' } })), 'ACCESS_DENIED');
    assert.equal(errorCode(await server.call('GET', '/v1/principals/nobody', { token: officer })), 'PRINCIPAL_NOT_FOUND');
    const byId = await server.call('GET', `/v1/principals/${String(bob.body['id'])}`, { token: officer });
    assert.equal(byId.body['name'], 'bob');

    const page = await server.call('GET', '/v1/principals?limit=2', { token: officer });
    assert.deepEqual((page.body['principals'] as { name: string }[]).map((p) => p.name), ['alice', 'bob']);
    assert.equal(page.body['next'], 'bob');
    const last = await server.call('GET', '/v1/principals?after=bob', { token: officer });
    assert.deepEqual((last.body['principals'] as { name: string }[]).map((p) => p.name), ['olivia']);
    assert.equal(errorCode(await server.call('GET', '/v1/principals', { token: alice })), 'ACCESS_DENIED');

    const moved = await server.call('PATCH', '/v1/principals/bob', { token: officer, body: { projects: ['alpha', 'beta'], defaultProject: 'beta' } });
    assert.deepEqual(moved.body['projects'], ['alpha', 'beta']);
    assert.equal(moved.body['defaultProject'], 'beta');
    assert.equal(errorCode(await server.call('PATCH', '/v1/principals/bob', { token: officer, body: {} })), 'MALFORMED_REQUEST');

    assert.equal((await server.call('PUT', '/v1/principals/bob/password', { token: officer, body: { password: PASSWORD } })).status, 204);
    const bobToken = await server.login('bob');
    assert.equal((await server.call('GET', '/v1/auth/whoami', { token: bobToken })).body['hasPassword'], true);

    // Disabling ends the principal's sessions.
    const disabled = await server.call('PATCH', '/v1/principals/bob', { token: officer, body: { status: 'DISABLED' } });
    assert.equal(disabled.body['status'], 'DISABLED');
    assert.equal(errorCode(await server.call('GET', '/v1/auth/whoami', { token: bobToken })), 'AUTH_FAILED');

    // A project with keys cannot go; an empty one can once no principal lists it.
    const key = await server.call('POST', '/v1/keys', { token: alice, body: { project: 'alpha', name: 'k', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' } });
    assert.equal(key.status, 201);
    await server.call('PATCH', '/v1/principals/alice', { token: officer, body: { projects: ['beta'] } });
    await server.call('PATCH', '/v1/principals/bob', { token: officer, body: { projects: ['beta'] } });
    const notEmpty = await server.call('DELETE', '/v1/projects/alpha', { token: officer });
    assert.equal(notEmpty.status, 409);
    assert.equal(errorCode(notEmpty), 'PROJECT_NOT_EMPTY');
    assert.equal((await server.call('POST', '/v1/projects', { token: officer, body: { name: 'empty' } })).status, 201);
    assert.equal((await server.call('DELETE', '/v1/projects/empty', { token: officer })).status, 204);
    assert.equal(errorCode(await server.call('GET', '/v1/projects/empty', { token: officer })), 'PROJECT_NOT_FOUND');

    assert.equal((await server.call('DELETE', '/v1/principals/bob', { token: officer })).status, 204);
    assert.equal(errorCode(await server.call('GET', '/v1/principals/bob', { token: officer })), 'PRINCIPAL_NOT_FOUND');
  });
});
