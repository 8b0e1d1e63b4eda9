// The domain through the API: init with the first officer, unseal by custodian envelopes (no
// principal needed), the first officer created on unseal, sealing by officers only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { createCustodianKeyPair, prepareUnsealShare, type DomainDescriptor, type UnsealSessionTicket } from '../barrier/index.ts';
import { BOOTSTRAP_OFFICER_KEY } from './bootstrap-officer.ts';
import type { NodeServices } from './node-services.ts';
import { errorCode, openTestServer, PASSWORD } from './server-test-kit.ts';

/** Stands in for a client certificate: the test names the fingerprint in a header. */
function certificateHeader(services: () => NodeServices) {
  return async (request: FastifyRequest) => {
    const fingerprint = request.headers['x-test-fingerprint'];
    if (typeof fingerprint !== 'string') return undefined;
    return (await services().directory()).authenticateCertificate(fingerprint, request.id);
  };
}

describe('the domain routes', () => {
  it('initialise, unseal M-of-N by envelopes, create the first officer, and seal', async (t) => {
    const holder: { services?: NodeServices } = {};
    const server = await openTestServer(t, { state: 'uninitialized', app: { testAuthenticator: certificateHeader(() => holder.services as NodeServices) } });
    holder.services = server.services;
    const custodians = [createCustodianKeyPair(), createCustodianKeyPair(), createCustodianKeyPair()];
    const fingerprint = randomBytes(32).toString('hex');
    const colonFingerprint = fingerprint.toUpperCase().match(/../g)?.join(':') ?? '';
    const init = {
      custodians: custodians.map((c, i) => ({ name: `custodian ${i}`, publicKey: c.publicKey })),
      threshold: 2,
      initialOfficer: { name: 'olivia', certificateFingerprint: colonFingerprint },
    };

    assert.equal(errorCode(await server.call('POST', '/v1/domain/init', { body: { ...init, initialOfficer: undefined } })), 'MALFORMED_REQUEST');
    assert.equal(errorCode(await server.call('POST', '/v1/domain/init', { body: { ...init, threshold: 4 } })), 'INVALID_ARGUMENT');
    assert.equal(errorCode(await server.call('POST', '/v1/domain/unseal-session')), 'DOMAIN_UNINITIALIZED');
    assert.equal(errorCode(await server.call('GET', '/v1/domain/descriptor')), 'DOMAIN_UNINITIALIZED');

    const created = await server.call('POST', '/v1/domain/init', { body: init });
    assert.equal(created.status, 201, created.text);
    const descriptor = created.body as unknown as DomainDescriptor;
    assert.equal(descriptor.threshold, 2);
    assert.equal(descriptor.custodians.length, 3);
    const again = await server.call('POST', '/v1/domain/init', { body: init });
    assert.equal(again.status, 409);
    assert.equal(errorCode(again), 'DOMAIN_ALREADY_INITIALIZED');
    assert.deepEqual((await server.call('GET', '/v1/domain/descriptor')).body, created.body);
    const status = await server.call('GET', '/v1/domain');
    assert.equal(status.body['state'], 'SEALED');
    assert.deepEqual(status.body['custodians'], descriptor.custodians.map(({ id, name }) => ({ id, name })));

    const session = await server.call('POST', '/v1/domain/unseal-session');
    assert.equal(session.status, 200);
    const ticket = session.body as unknown as UnsealSessionTicket;
    const envelope = (i: number) => {
      const custodian = custodians[i];
      const entry = descriptor.custodians[i];
      if (custodian === undefined || entry === undefined) throw new Error('no custodian');
      return prepareUnsealShare({ privateKey: custodian.privateKey, descriptor, custodianId: entry.id, session: ticket });
    };
    const first = await envelope(0);
    const progress = await server.call('POST', '/v1/domain/unseal', { body: first });
    assert.deepEqual(progress.body, { state: 'SEALED', received: 1, threshold: 2 });
    assert.equal(errorCode(await server.call('POST', '/v1/domain/unseal', { body: first })), 'UNSEAL_SHARE_DUPLICATE');
    const otherSession = { ...first, sessionId: '00000000-0000-4000-8000-000000000000' };
    assert.equal(errorCode(await server.call('POST', '/v1/domain/unseal', { body: otherSession })), 'UNSEAL_SESSION_INVALID');
    assert.equal(errorCode(await server.call('POST', '/v1/domain/unseal', { body: { ...first, enc: 'not base64url!' } })), 'MALFORMED_REQUEST');
    assert.equal(errorCode(await server.call('GET', '/v1/keys')), 'DOMAIN_SEALED');

    const done = await server.call('POST', '/v1/domain/unseal', { body: await envelope(2) });
    assert.deepEqual(done.body, { state: 'UNSEALED', received: 2, threshold: 2 });
    assert.equal(errorCode(await server.call('POST', '/v1/domain/unseal-session')), 'DOMAIN_ALREADY_UNSEALED');

    // The first officer exists, bound to the fingerprint given at init, and the pending record is gone.
    assert.equal(await server.node.store.get(BOOTSTRAP_OFFICER_KEY), undefined);
    const officer = { 'x-test-fingerprint': fingerprint };
    const whoami = await server.call('GET', '/v1/auth/whoami', { headers: officer });
    assert.equal(whoami.body['name'], 'olivia');
    assert.equal(whoami.body['role'], 'officer');

    // Sealing: officers only; afterwards the API answers DOMAIN_SEALED and login tokens are gone.
    await server.call('POST', '/v1/projects', { headers: officer, body: { name: 'alpha' } });
    const user = await server.call('POST', '/v1/principals', { headers: officer, body: { name: 'ursula', role: 'user', projects: ['alpha'], password: PASSWORD } });
    assert.equal(user.status, 201, user.text);
    const token = String((await server.call('POST', '/v1/auth/login', { body: { name: 'ursula', password: PASSWORD } })).body['token']);
    const denied = await server.call('POST', '/v1/domain/seal', { token });
    assert.equal(denied.status, 403);
    assert.equal(errorCode(denied), 'ACCESS_DENIED');
    const sealed = await server.call('POST', '/v1/domain/seal', { headers: officer });
    assert.equal(sealed.status, 200);
    assert.equal(sealed.body['state'], 'SEALED');
    assert.equal(errorCode(await server.call('GET', '/v1/auth/whoami', { token })), 'DOMAIN_SEALED');

    const reopen = (await server.call('POST', '/v1/domain/unseal-session')).body as unknown as UnsealSessionTicket;
    for (const i of [1, 2]) {
      const custodian = custodians[i];
      const entry = descriptor.custodians[i];
      if (custodian === undefined || entry === undefined) throw new Error('no custodian');
      const reply = await server.call('POST', '/v1/domain/unseal', { body: await prepareUnsealShare({ privateKey: custodian.privateKey, descriptor, custodianId: entry.id, session: reopen }) });
      assert.equal(reply.status, 200, reply.text);
    }
    assert.equal(errorCode(await server.call('GET', '/v1/auth/whoami', { token })), 'AUTH_FAILED', 'sealing ended the login session');
    assert.equal((await server.call('GET', '/v1/auth/whoami', { headers: officer })).body['name'], 'olivia');
  });
});
