// The node-certificate hook over a real node's built-in CA: it issues as the configured principal,
// names the node and what was attested in URIs that always parse, keeps only the CSR's host names,
// and refuses a CSR whose subject is not the node's name.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { buildLocalCsr } from '../pki/local-key-csr.ts';
import { attestedUris, nodeCertificateIssuer } from './join-wiring.ts';
import { createPrincipal, openTestServer, type TestServer } from './server-test-kit.ts';

const JOIN_TOKEN = { provider: 'join-token', subject: 'join-token:Zm9v' };

/** A node with CA alpha/node-ca on ursula's key, shared with the service principal node-issuer. */
async function nodeWithCa(t: TestContext, share = true): Promise<TestServer> {
  const server = await openTestServer(t);
  const ursula = await createPrincipal(server, 'ursula', 'user');
  await createPrincipal(server, 'node-issuer', 'service');
  const key = await server.call('POST', '/v1/keys', { token: ursula, body: { project: 'alpha', name: 'node-ca', spec: 'EC_P256', usage: 'SIGN_VERIFY' } });
  assert.equal(key.status, 201, key.text);
  const ca = await server.call('POST', '/v1/pki/cas', { token: ursula, body: { name: 'node-ca', key: 'alpha/node-ca', subject: 'CN=Node CA' } });
  assert.equal(ca.status, 201, ca.text);
  if (share) {
    const shared = await server.call('POST', `/v1/keys/${String(key.body['id'])}/shares`, { token: ursula, body: { principal: 'node-issuer' } });
    assert.equal(shared.status, 200, shared.text);
  }
  return server;
}

async function csrFor(subject: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = await buildLocalCsr(privateKey, {
    subject, altNames: { dnsNames: ['node-2.cluster.example'], ipAddresses: ['10.0.0.2'], emails: ['x@example.com'], uris: ['https://evil.example/'] },
    extendedKeyUsage: ['codeSigning'],
  });
  return csr.pem;
}

const config = { ca: 'alpha/node-ca', issuer: 'node-issuer', validityDays: 30 };

describe('attestedUris', () => {
  it('names the node, the attested subject and the instance, percent-encoding all but unreserved characters', () => {
    assert.deepEqual(attestedUris('node-2', JOIN_TOKEN), ['urn:coffer:node:node-2', 'urn:coffer:attested:join-token:join-token%3AZm9v']);
    const uris = attestedUris('node_2.a', { provider: 'aws-ec2', subject: 'aws:123456789012:i-0abc', instanceId: 'i-0abc/é ?#' });
    assert.deepEqual(uris, [
      'urn:coffer:node:node_2.a', 'urn:coffer:attested:aws-ec2:aws%3A123456789012%3Ai-0abc', 'urn:coffer:attested:aws-ec2:instance:i-0abc%2F%C3%A9%20%3F%23',
    ]);
    for (const uri of uris) assert.ok(URL.canParse(uri) && /^[\x21-\x7e]+$/.test(uri), uri);
  });
});

describe('nodeCertificateIssuer', () => {
  it('issues as the issuer principal: CN=<node>, the CSR host names, the attested URIs, server and client auth, the configured days', async (t) => {
    const server = await nodeWithCa(t);
    const certify = nodeCertificateIssuer(server.services, config);
    const issued = await certify({ csr: await csrFor('CN=node-2'), nodeName: 'node-2', identity: JOIN_TOKEN, requestId: 'req-join-1' });
    assert.ok(issued !== undefined);
    const [leafPem, rootPem] = issued.chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
    const leaf = new X509Certificate(leafPem ?? '');
    const root = new X509Certificate(rootPem ?? '');
    assert.ok(leaf.verify(root.publicKey));
    assert.equal(leaf.subject, 'CN=node-2');
    assert.equal(leaf.serialNumber.toLowerCase().replace(/^0+/, ''), issued.serialNumber.replace(/^0+/, ''));
    assert.equal(leaf.subjectAltName, 'DNS:node-2.cluster.example, IP Address:10.0.0.2, URI:urn:coffer:node:node-2, URI:urn:coffer:attested:join-token:join-token%3AZm9v');
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    // notBefore is backdated a few minutes for clock skew; notAfter is the configured 30 days from now.
    assert.ok(Math.abs(Date.parse(leaf.validTo) - (Date.now() + 30 * 86_400_000)) < 3_600_000, leaf.validTo);
    assert.equal(issued.subject, 'CN=node-2');
  });

  it('refuses a CSR for another name (CSR_INVALID), an unknown issuer (PRINCIPAL_NOT_FOUND), an issuer without the key (ACCESS_DENIED)', async (t) => {
    const server = await nodeWithCa(t, false);
    const request = { nodeName: 'node-2', identity: JOIN_TOKEN, requestId: 'req-join-2' };
    const certify = nodeCertificateIssuer(server.services, config);
    await assert.rejects(certify({ ...request, csr: await csrFor('CN=node-1') }), { code: 'CSR_INVALID' });
    await assert.rejects(certify({ ...request, csr: await csrFor('CN=node-2, O=Other') }), { code: 'CSR_INVALID' });
    await assert.rejects(certify({ ...request, csr: 'not a csr' }), { code: 'CSR_INVALID' });
    await assert.rejects(nodeCertificateIssuer(server.services, { ...config, issuer: 'nobody' })({ ...request, csr: await csrFor('CN=node-2') }), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(certify({ ...request, csr: await csrFor('CN=node-2') }), { code: 'ACCESS_DENIED' });
  });
});
