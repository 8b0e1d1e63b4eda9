// Joining with a certificate, end to end: a real PostgreSQL server and `coffer serve` / `coffer node
// join` processes. Node A admits with cluster.nodeCertificates set; a joiner whose issuer cannot use
// the CA key is admitted without a certificate (audited FAILED); once the key is shared, node B joins
// and leaves with a key it made and a chain that openssl verifies and that names what was attested.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../src/core/ports.ts';
import { readyCluster, startCluster, type ClusterNode, type TestCluster } from './cluster-kit.ts';

function openssl(args: readonly string[]): string {
  const result = spawnSync('openssl', args);
  const out = `${result.stdout.toString()}${result.stderr.toString()}`;
  assert.equal(result.status, 0, `openssl ${args.join(' ')}:\n${out}`);
  return result.stdout.toString();
}

function journal(node: ClusterNode): AuditEvent[] {
  return readFileSync(join(node.dataDir, 'audit.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditEvent);
}

const certificateEntry = (node: ClusterNode, nodeName: string): AuditEvent | undefined =>
  journal(node).find((e) => e.operation === 'cluster.join.certificate' && e.detail?.['nodeName'] === nodeName);

describe('a node joining a running cluster gets a certificate from the built-in CA', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let a: ClusterNode;

  before(async () => {
    cluster = await startCluster();
    a = await cluster.startNode('node-a', { cluster: { nodeCertificates: { ca: 'alpha/node-ca', issuer: 'node-issuer' } } });
    await readyCluster(cluster);
  });
  after(async () => {
    await cluster.close();
  });

  it('admits without a certificate while the issuer cannot use the CA key, then certifies node B with its attested names', async () => {
    const ursula = cluster.client(cluster.pki.user, [a.url]);
    const officer = cluster.client(cluster.pki.officer, [a.url]);
    await ursula.keys.create({ project: 'alpha', name: 'node-ca', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const root = await ursula.pki.createCa({ name: 'node-ca', key: 'alpha/node-ca', subject: 'CN=Coffer Node CA, O=Example' });
    const rootPath = join(cluster.dir, 'root.pem');
    writeFileSync(rootPath, root.certificate);
    await officer.principals.create({ name: 'node-issuer', role: 'service', projects: ['alpha'], defaultProject: 'alpha' });

    // The issuer is in the CA's project but may not use its key yet: node C joins, uncertified.
    const forC = await officer.cluster.issueJoinToken({ nodeName: 'node-c', expiresInSeconds: 120 });
    const c = await cluster.startNode('node-c', { joinToken: forC.token });
    assert.match(c.output(), /\(UNSEALED\) serving the API/);
    assert.equal(existsSync(join(c.dataDir, 'node-tls')), false);
    const failed = certificateEntry(a, 'node-c');
    assert.equal(failed?.outcome, 'FAILED');
    assert.equal(failed.errorCode, 'ACCESS_DENIED');
    assert.equal(journal(a).find((e) => e.operation === 'cluster.join.admit' && e.detail?.['nodeName'] === 'node-c')?.outcome, 'ALLOWED');
    // C admits too once unsealed, without nodeCertificates: stopped, so A alone answers B.
    await c.stop();

    await ursula.keys.share('alpha/node-ca', 'node-issuer');
    const forB = await officer.cluster.issueJoinToken({ nodeName: 'node-b', expiresInSeconds: 120 });
    const b = await cluster.startNode('node-b', { joinToken: forB.token });
    assert.match(b.output(), /\(UNSEALED\) serving the API/);
    const tlsDir = join(b.dataDir, 'node-tls');
    const keyPath = join(tlsDir, 'node.key');
    const chainPath = join(tlsDir, 'node-chain.pem');
    assert.match(b.output(), /api\.tls\.certFile and api\.tls\.keyFile/);
    assert.equal(statSync(tlsDir).mode & 0o777, 0o700);
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);

    // The chain is leaf then root; the leaf verifies against the root for both TLS purposes.
    const chain = readFileSync(chainPath, 'utf8');
    const [leaf, issuer, ...rest]: (string | undefined)[] = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
    assert.ok(leaf !== undefined && rest.length === 0);
    assert.equal(issuer, root.certificate);
    const leafPath = join(cluster.dir, 'node-b-leaf.pem');
    writeFileSync(leafPath, leaf);
    for (const purpose of ['sslserver', 'sslclient']) assert.match(openssl(['verify', '-purpose', purpose, '-CAfile', rootPath, leafPath]), /: OK/);

    const text = openssl(['x509', '-in', leafPath, '-noout', '-subject', '-serial', '-ext', 'subjectAltName,extendedKeyUsage']);
    assert.match(text, /subject=CN\s?=\s?node-b\n/);
    assert.match(text, /URI:urn:coffer:node:node-b\b/);
    assert.ok(text.includes(`URI:urn:coffer:attested:join-token:join-token%3A${forB.tokenId}`), text);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);

    // The key on disk is the certified one.
    assert.equal(openssl(['x509', '-in', leafPath, '-noout', '-pubkey']), openssl(['pkey', '-in', keyPath, '-pubout']));

    // A audited the issue, with the serial number and no certificate or CSR.
    const serial = /serial=([0-9A-F]+)/.exec(text)?.[1]?.toLowerCase();
    const allowed = certificateEntry(a, 'node-b');
    assert.equal(allowed?.outcome, 'ALLOWED');
    assert.equal(allowed.detail?.['serialNumber'], serial);
    assert.equal(allowed.detail?.['caId'], root.caId);
    assert.equal(JSON.stringify(journal(a)).includes('BEGIN'), false);
    assert.ok(journal(a).some((e) => e.operation === 'pki.issue' && e.principal === 'node-issuer' && e.outcome === 'ALLOWED'));
  });
});
