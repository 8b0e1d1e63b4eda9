// A real node served over mutual TLS on loopback: domain init and unseal without a principal, the
// first officer by its client certificate, a user signing by certificate, and the refusals (no
// certificate, a certificate from another CA, a disabled principal) as JSON errors, not TLS alerts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { createCustodianKeyPair, prepareUnsealShare, type DomainDescriptor, type UnsealSessionTicket } from '../src/barrier/index.ts';
import { ensureDevPki, type ClientCredentialPaths } from '../src/pki/index.ts';
import { parseConfig, startNode } from '../src/server/index.ts';
import { tempDir } from './node-kit.ts';
import { startTlsNode } from './tls-node-kit.ts';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function call(url: string, ca: Buffer, method: string, path: string, options: { client?: ClientCredentialPaths; body?: unknown } = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, url), {
      method,
      ca,
      // A fresh connection per call: the pool would otherwise reuse another client's TLS session.
      agent: false,
      ...(options.client === undefined ? {} : { cert: readFileSync(options.client.certPath), key: readFileSync(options.client.keyPath) }),
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const code = (answer: Answer): unknown => (answer.body['error'] as Record<string, unknown> | undefined)?.['code'];

describe('the API over mutual TLS', () => {
  it('authenticates by client certificate and refuses the rest with JSON errors', async (t) => {
    const { dir, pki, running } = await startTlsNode(t);
    const foreign = await ensureDevPki(join(dir, 'foreign-pki'));
    const ca = readFileSync(pki.caPath);
    const api = (method: string, path: string, options?: { client?: ClientCredentialPaths; body?: unknown }) => call(running.apiUrl, ca, method, path, options);

    // Custodians and the first officer need no principal: the domain does not exist yet.
    const custodian = createCustodianKeyPair();
    const init = await api('POST', '/v1/domain/init', {
      body: { custodians: [{ name: 'custodian', publicKey: custodian.publicKey }], threshold: 1, initialOfficer: { name: 'olivia', certificateFingerprint: pki.officer.fingerprint } },
    });
    assert.equal(init.status, 201);
    const descriptor = init.body as unknown as DomainDescriptor;
    const session = (await api('POST', '/v1/domain/unseal-session')).body as unknown as UnsealSessionTicket;
    const entry = descriptor.custodians[0];
    assert.ok(entry !== undefined);
    const envelope = await prepareUnsealShare({ privateKey: custodian.privateKey, descriptor, custodianId: entry.id, session });
    assert.equal((await api('POST', '/v1/domain/unseal', { body: envelope })).body['state'], 'UNSEALED');

    const officer = await api('GET', '/v1/auth/whoami', { client: pki.officer });
    assert.equal(officer.status, 200);
    assert.equal(officer.body['name'], 'olivia');
    assert.equal((await api('POST', '/v1/projects', { client: pki.officer, body: { name: 'alpha' } })).status, 201);
    const user = await api('POST', '/v1/principals', {
      client: pki.officer,
      body: { name: 'ursula', role: 'user', projects: ['alpha'], certificates: [{ fingerprint: pki.user.fingerprint }] },
    });
    assert.equal(user.status, 201);

    const key = await api('POST', '/v1/keys', { client: pki.user, body: { project: 'alpha', name: 'release', spec: 'EC_P256', usage: 'SIGN_VERIFY' } });
    assert.equal(key.status, 201);
    const message = Buffer.from('over mutual TLS').toString('base64');
    const signed = await api('POST', '/v1/crypto/sign', { client: pki.user, body: { keyId: 'alpha/release', algorithm: 'ECDSA_SHA_256', message } });
    assert.equal(signed.status, 200);
    const verified = await api('POST', '/v1/crypto/verify', { client: pki.user, body: { keyId: key.body['id'], algorithm: 'ECDSA_SHA_256', message, signature: signed.body['signature'] } });
    assert.equal(verified.body['valid'], true);

    const anonymous = await api('GET', '/v1/auth/whoami');
    assert.equal(anonymous.status, 401);
    assert.equal(code(anonymous), 'AUTH_REQUIRED');
    const stranger = await api('GET', '/v1/auth/whoami', { client: foreign.user });
    assert.equal(stranger.status, 401);
    assert.equal(code(stranger), 'AUTH_CERTIFICATE_UNTRUSTED');

    assert.equal((await api('PATCH', '/v1/principals/ursula', { client: pki.officer, body: { status: 'DISABLED' } })).status, 200);
    const disabled = await api('POST', '/v1/crypto/sign', { client: pki.user, body: { keyId: 'alpha/release', algorithm: 'ECDSA_SHA_256', message } });
    assert.equal(disabled.status, 401);
    assert.equal(code(disabled), 'AUTH_FAILED');

    const health = await fetch(`${running.healthUrl}/REST/v1/healthcheck`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'running');
  });

  it('refuses to start on TLS files that are not a matching certificate and key', async (t) => {
    const dir = tempDir(t, 'coffer-tls-');
    const pki = await ensureDevPki(join(dir, 'pki'));
    const config = parseConfig({
      dataDir: join(dir, 'data'),
      api: { port: 0, tls: { certFile: pki.serverCertPath, keyFile: pki.user.keyPath, clientCaFile: pki.caPath } },
      health: { port: 0 },
    });
    await assert.rejects(startNode(config, { logger: false }), { code: 'INVALID_ARGUMENT', message: /api\.tls\.keyFile/ });
  });
});
