// The PKI end to end on an in-process node, checked by the real openssl: CSRs made inside Coffer
// pass `openssl req -verify`; root → intermediate → leaf chains of the built-in CA pass `openssl
// verify` for RSA, P-256, P-384 and Ed25519 keys, and a revoked leaf fails with the published CRL;
// certificates from an external CA attach to the key they certify and to no other.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrincipal, errorCode, openTestServer, tempDir, type TestServer } from '../src/server/server-test-kit.ts';

interface Session {
  readonly server: TestServer;
  readonly dir: string;
  readonly ursula: string;
  readonly bob: string;
  readonly olivia: string;
}

async function session(t: TestContext): Promise<Session> {
  const server = await openTestServer(t);
  const ursula = await createPrincipal(server, 'ursula', 'user', ['alpha']);
  const bob = await createPrincipal(server, 'bob', 'user', ['beta']);
  return { server, dir: tempDir(t), ursula, bob, olivia: await server.login('olivia') };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function must(s: Session, token: string, method: Method, url: string, body?: unknown): Promise<Record<string, unknown>> {
  const reply = await s.server.call(method, url, { token, ...(body === undefined ? {} : { body }) });
  assert.ok(reply.status >= 200 && reply.status < 300, `${method} ${url}: ${reply.status} ${reply.text}`);
  return reply.body;
}

async function refusedWith(s: Session, token: string, method: Method, url: string, body: unknown, code: string): Promise<void> {
  const reply = await s.server.call(method, url, { token, body });
  assert.equal(errorCode(reply), code, `${method} ${url}: ${reply.status} ${reply.text}`);
  assert.ok(reply.status >= 400 && reply.status < 500, reply.text);
}

async function key(s: Session, name: string, spec: string, token = s.ursula, project = 'alpha'): Promise<string> {
  return String((await must(s, token, 'POST', '/v1/keys', { project, name, spec, usage: 'SIGN_VERIFY' }))['id']);
}

function write(s: Session, name: string, text: string): string {
  const path = join(s.dir, name);
  writeFileSync(path, text);
  return path;
}

function openssl(args: readonly string[]): { ok: boolean; out: string } {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

const SPECS = ['RSA_2048', 'EC_P256', 'EC_P384', 'ED25519'] as const;

describe('PKI with openssl', () => {
  for (const spec of SPECS) {
    it(`${spec}: CSR verifies; root → intermediate → leaf verifies; the revoked leaf fails with the CRL`, async (t) => {
      const s = await session(t);
      const rootKey = await key(s, `root-${spec}`, spec);
      const subKey = await key(s, `sub-${spec}`, spec);
      const leafKey = await key(s, `leaf-${spec}`, spec);

      const csr = await must(s, s.ursula, 'POST', `/v1/keys/${leafKey}/csr`, {
        subject: `CN=Release signing ${spec}, O=Acme, C=US`, dnsNames: ['build.example.com'], emails: ['release@example.com'],
        keyUsage: ['digitalSignature'], extendedKeyUsage: ['codeSigning'],
      });
      const csrPath = write(s, 'leaf.csr', String(csr['csr']));
      const verified = openssl(['req', '-verify', '-noout', '-in', csrPath]);
      assert.ok(verified.ok && /verify OK/i.test(verified.out), verified.out);
      const text = openssl(['req', '-noout', '-text', '-in', csrPath]).out;
      assert.match(text, /Code Signing/);
      assert.match(text, /DNS:build\.example\.com/);

      const root = await must(s, s.ursula, 'POST', '/v1/pki/cas', {
        name: `root-${spec}`, key: rootKey, subject: `CN=Acme Root ${spec}, O=Acme`, pathLength: 1,
        profile: { permittedDnsDomains: ['example.com'] },
      });
      const sub = await must(s, s.ursula, 'POST', '/v1/pki/cas', {
        name: `sub-${spec}`, key: subKey, subject: `CN=Acme Code Signing ${spec}, O=Acme`, parent: `alpha/root-${spec}`,
        profile: { extendedKeyUsage: ['codeSigning', 'timeStamping'] },
      });
      assert.equal(sub['pathLength'], 0, 'an intermediate under a pathLength 1 root gets 0');
      const issued = await must(s, s.ursula, 'POST', `/v1/pki/cas/${String(sub['caId'])}/issue`, { csr: csr['csr'], validityDays: 30 });
      const rootPath = write(s, 'root.pem', String(root['certificate']));
      const subPath = write(s, 'sub.pem', String(sub['certificate']));
      const leafPath = write(s, 'leaf.pem', String(issued['certificate']));
      const chainOk = openssl(['verify', '-x509_strict', '-purpose', 'any', '-CAfile', rootPath, '-untrusted', subPath, leafPath]);
      assert.ok(chainOk.ok && /: OK/.test(chainOk.out), chainOk.out);
      // The issued chain field is the intermediate then the root: with the leaf, a full chain.
      assert.equal(String(issued['chain']), `${String(sub['certificate'])}${String(root['certificate'])}`);
      const leaf = new X509Certificate(readFileSync(leafPath));
      assert.equal(leaf.subject, `CN=Release signing ${spec}\nO=Acme\nC=US`);
      assert.ok(leaf.checkIssued(new X509Certificate(readFileSync(subPath))));
      assert.equal(leaf.publicKey.export({ type: 'spki', format: 'pem' }), (await must(s, s.ursula, 'GET', `/v1/keys/${leafKey}/public-key`))['pem']);

      // Attach the chain to the leaf key, as the signing service will read it.
      const attached = await must(s, s.ursula, 'POST', `/v1/keys/${leafKey}/certificates`, { certificate: `${String(issued['certificate'])}${String(issued['chain'])}` });
      assert.equal(attached['chainLength'], 3);
      assert.deepEqual(attached['extendedKeyUsage'], ['codeSigning']);

      // Revoke: a CRL is published at once and openssl refuses the leaf with it.
      const revoked = await must(s, s.ursula, 'POST', `/v1/pki/cas/${String(sub['caId'])}/revoke`, { serialNumber: String(issued['serialNumber']).toUpperCase(), reason: 'keyCompromise' });
      assert.equal(revoked['crlNumber'], 2);
      const crl = await must(s, s.ursula, 'GET', `/v1/pki/cas/${String(sub['caId'])}/crl`);
      assert.equal(crl['revokedCount'], 1);
      const rootCrl = await must(s, s.ursula, 'GET', `/v1/pki/cas/${String(root['caId'])}/crl`);
      const crlPath = write(s, 'crls.pem', `${String(crl['crl'])}${String(rootCrl['crl'])}`);
      const crlCheck = openssl(['crl', '-noout', '-text', '-in', write(s, 'sub.crl', String(crl['crl'])), '-CAfile', write(s, 'root-and-sub.pem', `${String(sub['certificate'])}${String(root['certificate'])}`)]);
      assert.ok(crlCheck.ok && /verify OK/i.test(crlCheck.out) && /Key Compromise/.test(crlCheck.out), crlCheck.out);
      const refusedLeaf = openssl(['verify', '-crl_check_all', '-CRLfile', crlPath, '-CAfile', rootPath, '-untrusted', subPath, leafPath]);
      assert.ok(!refusedLeaf.ok && /certificate revoked/.test(refusedLeaf.out), refusedLeaf.out);
      // A leaf of the same CA that is not revoked still passes the same check.
      const other = await key(s, `other-${spec}`, spec);
      const otherCsr = await must(s, s.ursula, 'POST', `/v1/keys/${other}/csr`, { subject: 'CN=Other', extendedKeyUsage: ['codeSigning'] });
      const otherIssued = await must(s, s.ursula, 'POST', `/v1/pki/cas/${String(sub['caId'])}/issue`, { csr: otherCsr['csr'] });
      const stillOk = openssl(['verify', '-crl_check_all', '-CRLfile', crlPath, '-CAfile', rootPath, '-untrusted', subPath, write(s, 'other.pem', String(otherIssued['certificate']))]);
      assert.ok(stillOk.ok, stillOk.out);
      await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${String(sub['caId'])}/revoke`, { serialNumber: issued['serialNumber'] }, 'CERTIFICATE_ALREADY_REVOKED');
      const listed = await must(s, s.ursula, 'GET', `/v1/pki/cas/${String(sub['caId'])}/certificates`);
      const states = (listed['certificates'] as { serialNumber: string; revocationReason?: string }[]).map((c): [string, string] => [c.serialNumber, c.revocationReason ?? 'valid']);
      assert.deepEqual(new Map(states).get(String(issued['serialNumber'])), 'keyCompromise');
    });
  }

  it('ML-DSA-65: a CA and a leaf that Node (OpenSSL 3.5) verifies', async (t) => {
    const s = await session(t);
    const rootKey = await key(s, 'pq-root', 'ML_DSA_65');
    const leafKey = await key(s, 'pq-leaf', 'ML_DSA_65');
    const root = await must(s, s.ursula, 'POST', '/v1/pki/cas', { name: 'pq-root', key: rootKey, subject: 'CN=Post-quantum root' });
    const csr = await must(s, s.ursula, 'POST', `/v1/keys/${leafKey}/csr`, { subject: 'CN=Post-quantum signer', extendedKeyUsage: ['codeSigning'] });
    assert.equal(csr['signatureAlgorithm'], 'ML_DSA');
    const issued = await must(s, s.ursula, 'POST', `/v1/pki/cas/${String(root['caId'])}/issue`, { csr: csr['csr'] });
    const rootCert = new X509Certificate(String(root['certificate']));
    const leaf = new X509Certificate(String(issued['certificate']));
    assert.ok(rootCert.verify(rootCert.publicKey));
    assert.ok(leaf.checkIssued(rootCert) && leaf.verify(rootCert.publicKey));
    assert.equal(leaf.publicKey.asymmetricKeyType, 'ml-dsa-65');
  });

  it('the seed workflow: CSR inside Coffer, an external CA (openssl) signs it, the certificate attaches to that key only', async (t) => {
    const s = await session(t);
    const signing = await key(s, 'authenticode', 'RSA_3072');
    const unrelated = await key(s, 'unrelated', 'RSA_3072');
    const csr = await must(s, s.ursula, 'POST', `/v1/keys/${signing}/csr`, { subject: 'CN=Acme Software, O=Acme, C=US', extendedKeyUsage: ['codeSigning'] });
    const caKey = join(s.dir, 'ext-ca.key');
    const caCert = join(s.dir, 'ext-ca.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert, '-subj', '/CN=External CA', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
    const extFile = write(s, 'leaf.ext', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
    const certPath = join(s.dir, 'signed.pem');
    execFileSync('openssl', ['x509', '-req', '-in', write(s, 'seed.csr', String(csr['csr'])), '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', certPath, '-days', '10', '-extfile', extFile], { stdio: 'ignore' });
    const bundle = `${readFileSync(certPath, 'utf8')}${readFileSync(caCert, 'utf8')}`;
    await refusedWith(s, s.ursula, 'POST', `/v1/keys/${unrelated}/certificates`, { certificate: bundle }, 'CERTIFICATE_KEY_MISMATCH');
    // The chain in the wrong order does not link up.
    await refusedWith(s, s.ursula, 'POST', `/v1/keys/${signing}/certificates`, { certificate: `${readFileSync(caCert, 'utf8')}${readFileSync(certPath, 'utf8')}` }, 'CERTIFICATE_INVALID');
    // Bob cannot see the key; a reader who does not own it may not attach.
    await refusedWith(s, s.bob, 'POST', `/v1/keys/${signing}/certificates`, { certificate: bundle }, 'KEY_NOT_FOUND');
    const attached = await must(s, s.ursula, 'POST', `/v1/keys/${signing}/certificates`, { certificate: bundle });
    assert.equal(attached['issuer'], 'CN=External CA');
    assert.equal(attached['keyVersion'], 1);
    // Attaching the same certificate again is idempotent.
    assert.equal((await must(s, s.ursula, 'POST', `/v1/keys/${signing}/certificates`, { certificate: bundle }))['certificateId'], attached['certificateId']);
    const listed = await must(s, s.ursula, 'GET', `/v1/keys/${signing}/certificates`);
    assert.equal((listed['certificates'] as unknown[]).length, 1);
    const one = await must(s, s.ursula, 'GET', `/v1/keys/${signing}/certificates/${String(attached['certificateId'])}`);
    assert.equal(one['pem'], bundle.replace(/\r/g, ''));
    // Sign with the key, verify with the certificate's public key: the workload after migration.
    const message = Buffer.from('artifact bytes').toString('base64');
    const signature = await must(s, s.ursula, 'POST', '/v1/crypto/sign', { keyId: signing, algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', message });
    const { verify } = await import('node:crypto');
    assert.ok(verify('sha256', Buffer.from('artifact bytes'), new X509Certificate(readFileSync(certPath)).publicKey, Buffer.from(String(signature['signature']), 'base64')));
    await must(s, s.ursula, 'DELETE', `/v1/keys/${signing}/certificates/${String(attached['certificateId'])}`);
    assert.equal(((await must(s, s.ursula, 'GET', `/v1/keys/${signing}/certificates`))['certificates'] as unknown[]).length, 0);
    const gone = await s.server.call('GET', `/v1/keys/${signing}/certificates/${String(attached['certificateId'])}`, { token: s.ursula });
    assert.equal(errorCode(gone), 'CERTIFICATE_NOT_FOUND');
  });

  it('issues from an external CSR (openssl) under the profile, and refuses what the profile does not allow', async (t) => {
    const s = await session(t);
    const rootKey = await key(s, 'tls-root', 'EC_P256');
    const root = await must(s, s.ursula, 'POST', '/v1/pki/cas', {
      name: 'tls-root', key: rootKey, subject: 'CN=TLS Root', pathLength: 0,
      profile: { maxValidityDays: 90, extendedKeyUsage: ['serverAuth', 'clientAuth'], permittedDnsDomains: ['internal.example'] },
    });
    const caId = String(root['caId']);
    const keyPath = join(s.dir, 'node.key');
    const csrPath = join(s.dir, 'node.csr');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', '/CN=node-1.internal.example', '-addext', 'subjectAltName=DNS:node-1.internal.example,IP:10.0.0.1', '-addext', 'extendedKeyUsage=serverAuth'], { stdio: 'ignore' });
    const externalCsr = readFileSync(csrPath, 'utf8');
    const issued = await must(s, s.ursula, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: externalCsr, validityDays: 30 });
    const certPath = write(s, 'node.pem', String(issued['certificate']));
    const ok = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', write(s, 'root.pem', String(root['certificate'])), certPath]);
    assert.ok(ok.ok, ok.out);
    assert.match(openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', certPath]).out, /DNS:node-1\.internal\.example, IP Address:10\.0\.0\.1/);

    await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: externalCsr, validityDays: 91 }, 'CA_POLICY_VIOLATION');
    await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: externalCsr, extendedKeyUsage: ['codeSigning'] }, 'CA_POLICY_VIOLATION');
    await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: externalCsr, dnsNames: ['evil.example.org'] }, 'CA_POLICY_VIOLATION');
    await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: externalCsr, keyUsage: ['keyCertSign'] }, 'CA_POLICY_VIOLATION');
    // pathLength 0: no intermediate below it.
    const subKey = await key(s, 'tls-sub', 'EC_P256');
    await refusedWith(s, s.ursula, 'POST', '/v1/pki/cas', { name: 'tls-sub', key: subKey, subject: 'CN=Sub', parent: caId }, 'CA_POLICY_VIOLATION');
    // A CSR whose signature was tampered with.
    const der = Buffer.from(externalCsr.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n` }, 'CSR_INVALID');
    await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: 'not a csr' }, 'CSR_INVALID');
    // Only the key owner makes a CA of it; another project does not see the CA at all.
    await refusedWith(s, s.bob, 'GET', `/v1/pki/cas/${caId}`, undefined, 'CA_NOT_FOUND');
    await refusedWith(s, s.bob, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: externalCsr }, 'CA_NOT_FOUND');
    const alice = await createPrincipal(s.server, 'alice', 'user', ['alpha']);
    await refusedWith(s, alice, 'POST', '/v1/pki/cas', { name: 'alice-ca', key: rootKey, subject: 'CN=Nope' }, 'ACCESS_DENIED');
    await refusedWith(s, alice, 'POST', `/v1/pki/cas/${caId}/issue`, { csr: externalCsr }, 'ACCESS_DENIED');
    await refusedWith(s, s.olivia, 'POST', '/v1/pki/cas', { name: 'officer-ca', key: rootKey, subject: 'CN=Nope' }, 'KEY_NOT_FOUND');
    await refusedWith(s, s.ursula, 'POST', '/v1/pki/cas', { name: 'tls-root', key: await key(s, 'again', 'EC_P256'), subject: 'CN=Twice' }, 'CA_ALREADY_EXISTS');
    // An HMAC key cannot be a CA; a subject must be a real name.
    const mac = String((await must(s, s.ursula, 'POST', '/v1/keys', { project: 'alpha', name: 'mac', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' }))['id']);
    await refusedWith(s, s.ursula, 'POST', '/v1/pki/cas', { name: 'mac-ca', key: mac, subject: 'CN=Mac' }, 'KEY_USAGE_NOT_ALLOWED');
    await refusedWith(s, s.ursula, 'POST', `/v1/keys/${rootKey}/csr`, { subject: 'garbage' }, 'INVALID_ARGUMENT');
    await refusedWith(s, s.ursula, 'POST', `/v1/keys/${rootKey}/csr`, { subject: 'CN=x', dnsNames: ['not a name'] }, 'INVALID_ARGUMENT');
  });

  it('a rotated CA key stops issuing under the old certificate, and everything is audited', async (t) => {
    const s = await session(t);
    const rootKey = await key(s, 'rot-root', 'EC_P256');
    const root = await must(s, s.ursula, 'POST', '/v1/pki/cas', { name: 'rot-root', key: rootKey, subject: 'CN=Rotating root' });
    const leafKey = await key(s, 'rot-leaf', 'EC_P256');
    const csr = await must(s, s.ursula, 'POST', `/v1/keys/${leafKey}/csr`, { subject: 'CN=leaf' });
    await must(s, s.ursula, 'POST', `/v1/keys/${rootKey}/rotate`);
    await refusedWith(s, s.ursula, 'POST', `/v1/pki/cas/${String(root['caId'])}/issue`, { csr: csr['csr'] }, 'CERTIFICATE_KEY_MISMATCH');
    const entries = readFileSync(s.server.node.journalPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const operations = entries.map((entry) => entry['operation']);
    for (const operation of ['pki.csr', 'pki.ca.create', 'pki.issue']) assert.ok(operations.includes(operation), operation);
    const refusal = entries.find((entry) => entry['operation'] === 'pki.issue' && entry['errorCode'] === 'CERTIFICATE_KEY_MISMATCH');
    assert.ok(refusal !== undefined);
    assert.ok(!readFileSync(s.server.node.journalPath, 'utf8').includes('BEGIN CERTIFICATE'), 'no certificate in the audit log');
  });

  it('time-stamps: openssl ts queries over /v1/tsa get replies that openssl ts -verify accepts', async (t) => {
    const s = await session(t);
    const rootKey = await key(s, 'tsa-root', 'EC_P384');
    const tsaKey = await key(s, 'tsa', 'RSA_2048');
    const root = await must(s, s.ursula, 'POST', '/v1/pki/cas', { name: 'tsa-root', key: rootKey, subject: 'CN=TSA Root' });
    const dataPath = write(s, 'artifact.bin', 'the release artifact');
    const queryPath = join(s.dir, 'q.tsq');
    execFileSync('openssl', ['ts', '-query', '-data', dataPath, '-sha256', '-cert', '-out', queryPath], { stdio: 'ignore' });
    const query = readFileSync(queryPath);
    const stamp = (keyRef: string, body: Buffer, type = 'application/timestamp-query') => s.server.app.inject({
      method: 'POST', url: `/v1/tsa?key=${encodeURIComponent(keyRef)}`, headers: { authorization: `Bearer ${s.ursula}`, 'content-type': type }, payload: body,
    });
    // Before a time-stamping certificate is attached, the key is no TSA.
    const early = await stamp(tsaKey, query);
    assert.equal(early.statusCode, 409, early.body);
    assert.equal((early.json<{ error: { code: string } }>()).error.code, 'TSA_NOT_CONFIGURED');

    const csr = await must(s, s.ursula, 'POST', `/v1/keys/${tsaKey}/csr`, { subject: 'CN=Coffer TSA, O=Acme', extendedKeyUsage: ['timeStamping'] });
    const issued = await must(s, s.ursula, 'POST', `/v1/pki/cas/${String(root['caId'])}/issue`, { csr: csr['csr'] });
    assert.match(openssl(['x509', '-noout', '-ext', 'extendedKeyUsage', '-in', write(s, 'tsa.pem', String(issued['certificate']))]).out, /critical\s+Time Stamping/);
    await must(s, s.ursula, 'POST', `/v1/keys/${tsaKey}/certificates`, { certificate: `${String(issued['certificate'])}${String(issued['chain'])}` });

    const answer = await stamp('alpha/tsa', query);
    assert.equal(answer.statusCode, 200, answer.body);
    assert.equal(answer.headers['content-type'], 'application/timestamp-reply');
    const replyPath = join(s.dir, 'r.tsr');
    writeFileSync(replyPath, answer.rawPayload);
    const text = openssl(['ts', '-reply', '-in', replyPath, '-text']);
    assert.ok(text.ok && /Status: Granted/.test(text.out) && /Policy OID: (tsa_policy1|1\.2\.3\.4\.1)/.test(text.out), text.out);
    const verified = openssl(['ts', '-verify', '-data', dataPath, '-in', replyPath, '-CAfile', write(s, 'tsa-root.pem', String(root['certificate']))]);
    assert.ok(verified.ok && /Verification: OK/.test(verified.out), verified.out);
    const tampered = openssl(['ts', '-verify', '-data', write(s, 'other.bin', 'another artifact'), '-in', replyPath, '-CAfile', join(s.dir, 'tsa-root.pem')]);
    assert.ok(!tampered.ok, tampered.out);

    // The JSON form for the SDK; a garbled query is a rejection reply, not an error.
    const json = await must(s, s.ursula, 'POST', '/v1/tsa/stamp', { key: tsaKey, query: query.toString('base64') });
    assert.equal(json['granted'], true);
    assert.match(String(json['serialNumber']), /^[0-9a-f]{32}$/);
    const garbled = await must(s, s.ursula, 'POST', '/v1/tsa/stamp', { key: tsaKey, query: Buffer.from('not a query').toString('base64') });
    assert.equal(garbled['granted'], false);
    assert.equal(garbled['status'], 2);
    assert.equal(garbled['failure'], 'badDataFormat');
    // A caller without the use right on the TSA key is refused; JSON sent to /v1/tsa is refused.
    const bobStamp = await s.server.app.inject({ method: 'POST', url: `/v1/tsa?key=${tsaKey}`, headers: { authorization: `Bearer ${s.bob}`, 'content-type': 'application/timestamp-query' }, payload: query });
    assert.equal(bobStamp.json<{ error: { code: string } }>().error.code, 'KEY_NOT_FOUND');
    const wrongType = await stamp(tsaKey, Buffer.from('{}'), 'application/json');
    assert.equal(wrongType.json<{ error: { code: string } }>().error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const elsewhere = await s.server.app.inject({ method: 'POST', url: '/v1/crypto/random', headers: { authorization: `Bearer ${s.ursula}`, 'content-type': 'application/timestamp-query' }, payload: query });
    assert.equal(elsewhere.json<{ error: { code: string } }>().error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const entries = readFileSync(s.server.node.journalPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry['operation'] === 'tsa.stamp');
    assert.ok(entries.some((entry) => (entry['detail'] as Record<string, unknown> | undefined)?.['granted'] === true));
    assert.ok(entries.some((entry) => entry['errorCode'] === 'TSA_NOT_CONFIGURED'));
  });
});
