// The HTTP envelope of the API: one error format for every failure, request ids, the sealed gate,
// one redacted log line per request, and an OpenAPI document generated from the route schemas.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../core/errors.ts';
import { createPrincipal, errorCode, openTestServer } from './server-test-kit.ts';

function codeOf(body: string): unknown {
  return (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
}

describe('the API envelope', () => {
  it('answers every client mistake with a catalogue code and a 4xx', async (t) => {
    const server = await openTestServer(t);
    const alice = await createPrincipal(server, 'alice', 'user');
    const auth = { authorization: `Bearer ${alice}` };

    const unknown = await server.call('GET', '/v1/nothing-here', { token: alice });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { error: { code: 'ROUTE_NOT_FOUND', message: 'no such endpoint' } });

    const wrongMethod = await server.call('DELETE', '/v1/crypto/sign', { token: alice });
    assert.equal(wrongMethod.status, 405);
    assert.equal(errorCode(wrongMethod), 'METHOD_NOT_ALLOWED');
    assert.equal(wrongMethod.headers['allow'], 'POST');

    const text = await server.app.inject({ method: 'POST', url: '/v1/crypto/random', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'bytes=4' });
    assert.equal(text.statusCode, 415);
    assert.equal(codeOf(text.body), 'UNSUPPORTED_MEDIA_TYPE');

    const notJson = await server.app.inject({ method: 'POST', url: '/v1/crypto/random', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"bytes":' });
    assert.equal(notJson.statusCode, 400);
    assert.equal(codeOf(notJson.body), 'MALFORMED_REQUEST');

    const poisoned = await server.app.inject({ method: 'POST', url: '/v1/crypto/random', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"bytes":4,"__proto__":{"admin":true}}' });
    assert.equal(poisoned.statusCode, 400);
    assert.equal(codeOf(poisoned.body), 'MALFORMED_REQUEST');

    const badUrl = await server.app.inject({ method: 'GET', url: '/v1/keys/%E0%A4%A', headers: auth });
    assert.equal(badUrl.statusCode, 400);
    assert.equal(codeOf(badUrl.body), 'MALFORMED_REQUEST');
    const longParam = await server.app.inject({ method: 'GET', url: `/v1/principals/${'a'.repeat(300)}`, headers: auth });
    assert.equal(codeOf(longParam.body), 'MALFORMED_REQUEST');
    const longName = await server.call('GET', `/v1/projects/alpha/keys/${'k'.repeat(128)}`, { token: alice });
    assert.equal(errorCode(longName), 'KEY_NOT_FOUND', 'a 128-character name is a valid name');

    // An empty body declared as JSON is no body: fine where none is needed, refused where one is.
    const spare = await server.login('alice');
    const empty = await server.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${spare}`, 'content-type': 'application/json' }, payload: '' });
    assert.equal(empty.statusCode, 204);
    const missing = await server.app.inject({ method: 'POST', url: '/v1/crypto/random', headers: { 'content-type': 'application/json', authorization: `Bearer ${await server.login('olivia')}` }, payload: '' });
    assert.equal(codeOf(missing.body), 'MALFORMED_REQUEST');

    const extra = await server.call('POST', '/v1/crypto/random', { token: alice, body: { bytes: 4, contxt: {} } });
    assert.equal(extra.status, 400);
    assert.deepEqual(extra.body, { error: { code: 'MALFORMED_REQUEST', message: "body: unknown property 'contxt'" } });

    const wrongType = await server.call('POST', '/v1/crypto/random', { token: alice, body: { bytes: '4' } });
    assert.equal(errorCode(wrongType), 'MALFORMED_REQUEST', 'strings are not coerced to numbers');
    assert.match(String((wrongType.body['error'] as Record<string, unknown>)['message']), /body\.bytes/);

    const badParam = await server.call('GET', '/v1/keys/not-a-uuid', { token: alice });
    assert.equal(badParam.status, 400);
    assert.match(String((badParam.body['error'] as Record<string, unknown>)['message']), /^params\.keyId/);

    const badQuery = await server.call('GET', '/v1/keys?limit=0', { token: alice });
    assert.equal(errorCode(badQuery), 'MALFORMED_REQUEST');

    const huge = await server.call('POST', '/v1/crypto/encrypt', { token: alice, body: { keyId: 'alpha/none', plaintext: 'A'.repeat(300 * 1024) } });
    assert.equal(huge.status, 413);
    assert.equal(errorCode(huge), 'INPUT_TOO_LARGE');

    const nonCanonical = await server.call('POST', '/v1/crypto/sign', { token: alice, body: { keyId: 'alpha/none', algorithm: 'ECDSA_SHA_256', message: 'QR==' } });
    assert.equal(nonCanonical.status, 400);
    assert.equal(errorCode(nonCanonical), 'INVALID_ARGUMENT');
  });

  it('keeps a sane X-Request-Id, replaces any other, and sends no-store', async (t) => {
    const server = await openTestServer(t);
    const kept = await server.call('GET', '/v1/domain', { headers: { 'x-request-id': 'build-42.step:7' } });
    assert.equal(kept.headers['x-request-id'], 'build-42.step:7');
    assert.equal(kept.headers['cache-control'], 'no-store');
    const replaced = await server.call('GET', '/v1/domain', { headers: { 'x-request-id': 'has spaces & <html>' } });
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('refuses everything but the domain routes while sealed or uninitialised', async (t) => {
    const fresh = await openTestServer(t, { state: 'uninitialized' });
    const keys = await fresh.call('GET', '/v1/keys');
    assert.equal(keys.status, 503);
    assert.equal(errorCode(keys), 'DOMAIN_UNINITIALIZED');
    assert.equal((await fresh.call('GET', '/v1/domain')).status, 200);
    assert.equal((await fresh.call('GET', '/v1/openapi.json')).status, 200);

    const sealed = await openTestServer(t, { state: 'sealed' });
    for (const [method, url] of [['GET', '/v1/keys'], ['POST', '/v1/auth/login'], ['GET', '/v1/auth/whoami'], ['POST', '/v1/crypto/sign']] as const) {
      const reply = await sealed.call(method, url, { body: method === 'POST' ? {} : undefined, headers: { authorization: 'Bearer x' } });
      assert.equal(reply.status, 503, `${method} ${url}`);
      assert.equal(errorCode(reply), 'DOMAIN_SEALED', `${method} ${url}`);
    }
  });

  it('hides internal errors from the client and logs them, with one redacted line per request', async (t) => {
    const lines: string[] = [];
    const server = await openTestServer(t, {
      app: {
        logger: { level: 'info', stream: { write: (line: string) => lines.push(line) } },
        testAuthenticator: (request) => {
          if (request.headers['x-test'] === 'explode') throw new Error('ENOENT /var/secret/path');
          if (request.headers['x-test'] === 'sealed') throw new CofferError('STORE_UNAVAILABLE', 'store down');
          if (request.headers['x-test'] === 'later') throw new CofferError('NOT_IMPLEMENTED', 'not yet');
          return Promise.resolve(undefined);
        },
      },
    });
    const boom = await server.call('GET', '/v1/auth/whoami', { headers: { 'x-test': 'explode', 'x-request-id': 'req-boom' } });
    assert.equal(boom.status, 500);
    assert.deepEqual(boom.body, { error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
    const unavailable = await server.call('GET', '/v1/auth/whoami', { headers: { 'x-test': 'sealed' } });
    assert.equal(unavailable.status, 503);
    assert.equal(errorCode(unavailable), 'STORE_UNAVAILABLE');
    const none = await server.call('GET', '/v1/auth/whoami');
    assert.equal(errorCode(none), 'AUTH_REQUIRED');
    const later = await server.call('GET', '/v1/auth/whoami', { headers: { 'x-test': 'later' } });
    assert.equal(later.status, 501);
    assert.equal(errorCode(later), 'NOT_IMPLEMENTED');

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failure = records.find((r) => r['msg'] === 'request failed');
    assert.ok(failure !== undefined, 'the internal error is logged');
    assert.equal(records.filter((r) => r['msg'] === 'request failed').length, 1, 'expected 5xx answers (503, 501) are not faults');
    assert.equal(failure['reqId'], 'req-boom');
    assert.match(JSON.stringify(failure['err']), /ENOENT \/var\/secret\/path/);
    const requests = records.filter((r) => r['msg'] === 'request');
    assert.equal(requests.length, 4, 'one line per request');
    assert.deepEqual(
      requests.map((r) => [r['operation'], r['status'], r['code']]),
      [['GET /v1/auth/whoami', 500, 'INTERNAL_ERROR'], ['GET /v1/auth/whoami', 503, 'STORE_UNAVAILABLE'], ['GET /v1/auth/whoami', 401, 'AUTH_REQUIRED'], ['GET /v1/auth/whoami', 501, 'NOT_IMPLEMENTED']],
    );
    for (const r of requests) assert.equal(typeof r['durationMs'], 'number');

    // Credentials and bodies never reach the log.
    lines.length = 0;
    const token = await server.login('olivia');
    await server.call('POST', '/v1/crypto/random', { token, body: { bytes: 8 } });
    const logged = lines.join('\n');
    assert.equal(logged.includes(token), false, 'no bearer token in the log');
    assert.equal(logged.includes('correct horse'), false, 'no password in the log');
    const officer = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r['operation'] === 'POST /v1/crypto/random');
    assert.equal(officer?.['principal'], 'olivia');
    assert.equal(officer['code'], 'ACCESS_DENIED', 'officers never use keys, random included');
  });
});

describe('the OpenAPI document', () => {
  it('is generated from the route schemas, and every response schema is an allowlist', async (t) => {
    const server = await openTestServer(t);
    const reply = await server.call('GET', '/v1/openapi.json');
    assert.equal(reply.status, 200);
    const doc = reply.body as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };
    assert.equal(doc.openapi, '3.1.0');
    const paths = Object.keys(doc.paths);
    for (const expected of ['/v1/keys/{keyId}', '/v1/crypto/sign/batch', '/v1/domain/unseal', '/v1/principals/{name}/password', '/v1/projects/{project}/keys/{name}']) {
      assert.ok(paths.includes(expected), `${expected} documented`);
    }
    assert.ok(paths.every((p) => !p.includes(':')), 'path parameters in OpenAPI form');
    assert.deepEqual(doc.paths['/v1/auth/login']?.['post']?.['security'], [], 'login needs no credentials');
    const sign = doc.paths['/v1/crypto/sign']?.['post'];
    assert.ok(sign?.['requestBody'] !== undefined);

    // Allowlists: every object in every success schema forbids undeclared properties. The one
    // exception is a quorum request's `parameters`: free-form by design, echoed so approvers can
    // recompute the digest they sign, and written by the requesting officer, never by the node.
    const freeForm = /^[a-z]+ \/v1\/quorum\/\S*\.properties\.parameters$/;
    const open: string[] = [];
    const walk = (schema: unknown, where: string): void => {
      if (typeof schema !== 'object' || schema === null) return;
      const s = schema as Record<string, unknown>;
      if (s['type'] === 'object' && s['additionalProperties'] !== false && typeof s['additionalProperties'] !== 'object' && !freeForm.test(where)) open.push(where);
      for (const [k, v] of Object.entries(s)) walk(v, `${where}.${k}`);
    };
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path === '/v1/openapi.json') continue;
      for (const [method, op] of Object.entries(methods)) {
        const responses = op['responses'] as Record<string, unknown>;
        assert.ok(Object.keys(responses).some((s) => s.startsWith('2')), `${method} ${path} declares its success response`);
        walk(responses, `${method} ${path}`);
      }
    }
    assert.deepEqual(open, []);
  });
});
