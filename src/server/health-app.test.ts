// The health port: liveness by state, the JSON health document, and Prometheus metrics labelled by
// route pattern (never a raw URL) with keys counted by state.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealthApp } from './health-app.ts';
import { renderFamilies } from './prometheus-text.ts';
import { createPrincipal, openTestServer, unsealWith } from './server-test-kit.ts';

describe('the health app', () => {
  it('reports state, health and metrics', async (t) => {
    const server = await openTestServer(t, { state: 'sealed' });
    const health = createHealthApp(server.services, { keyCountCap: 2 });
    t.after(() => health.close());

    const sealed = await health.inject({ method: 'GET', url: '/REST/v1/healthcheck' });
    assert.equal(sealed.statusCode, 503);
    assert.equal(sealed.body, 'SEALED');
    assert.deepEqual(JSON.parse((await health.inject({ method: 'GET', url: '/v1/health' })).body), { state: 'SEALED', nodeId: 'test-node', version: '9.9.9' });
    const sealedMetrics = (await health.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(sealedMetrics, /^coffer_node_state\{state="SEALED"\} 1$/m);
    assert.doesNotMatch(sealedMetrics, /^coffer_keys\{/m, 'no key counts while sealed');

    await unsealWith(server.node, server.custodian);
    const running = await health.inject({ method: 'GET', url: '/REST/v1/healthcheck' });
    assert.equal(running.statusCode, 200);
    assert.equal(running.body, 'running');

    const alice = await createPrincipal(server, 'alice', 'user');
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push(String((await server.call('POST', '/v1/keys', { token: alice, body: { project: 'alpha', name, spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' } })).body['id']));
    }
    await server.call('POST', `/v1/keys/${ids[0] ?? ''}/disable`, { token: alice });
    await server.call('GET', `/v1/keys/${ids[1] ?? ''}`, { token: alice });
    await server.call('GET', '/v1/keys/00000000-0000-4000-8000-000000000000', { token: alice });

    const reply = await health.inject({ method: 'GET', url: '/metrics' });
    assert.equal(reply.statusCode, 200);
    assert.match(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = reply.body;
    assert.match(text, /^coffer_http_requests_total\{operation="GET \/v1\/keys\/:keyId",outcome="OK"\} 1$/m);
    assert.match(text, /^coffer_http_requests_total\{operation="GET \/v1\/keys\/:keyId",outcome="KEY_NOT_FOUND"\} 1$/m);
    assert.match(text, /^coffer_http_requests_total\{operation="POST \/v1\/keys",outcome="OK"\} 3$/m);
    assert.ok(!text.includes(ids[1] ?? 'x'), 'no raw URLs with ids');
    assert.match(text, /^coffer_http_request_duration_seconds_bucket\{operation="POST \/v1\/keys",le="\+Inf"\} 3$/m);
    assert.match(text, /^coffer_http_request_duration_seconds_count\{operation="POST \/v1\/keys"\} 3$/m);
    assert.match(text, /^coffer_node_state\{state="UNSEALED"\} 1$/m);
    // The cap (2 here) makes the counts lower bounds, and says so.
    assert.match(text, /^coffer_keys_truncated 1$/m);
    const counted = [...text.matchAll(/^coffer_keys\{state="[A-Z_]+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(counted, 2);

    const full = createHealthApp(server.services);
    t.after(() => full.close());
    const all = (await full.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(all, /^coffer_keys\{state="ENABLED"\} 2$/m);
    assert.match(all, /^coffer_keys\{state="DISABLED"\} 1$/m);
    assert.match(all, /^coffer_keys_truncated 0$/m);

    const missing = await health.inject({ method: 'GET', url: '/nothing' });
    assert.equal(missing.statusCode, 404);
    assert.equal((JSON.parse(missing.body) as { error: { code: string } }).error.code, 'ROUTE_NOT_FOUND');
  });
});

describe('prometheus text', () => {
  it('escapes label values and writes HELP/TYPE per family', () => {
    const text = renderFamilies([{ name: 'm', help: 'a\\b\nc', type: 'gauge', samples: [{ labels: { l: 'x"y\\z\nw' }, value: 1.5 }, { value: Infinity }] }]);
    assert.equal(text, '# HELP m a\\\\b\\nc\n# TYPE m gauge\nm{l="x\\"y\\\\z\\nw"} 1.5\nm +Inf\n');
  });
});
