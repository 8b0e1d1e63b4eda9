// The PKI over the network, as operators use it: the SDK and the `coffer` command against a real
// node on loopback with mutual TLS. Coffer's built-in CA certifies a node's server key and a
// client's key (both made on their own machines); the node restarts on that certificate and the
// client authenticates with its own. Time stamps come back over curl and the SDK and pass
// `openssl ts -verify`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CofferClient } from '../src/client/index.ts';
import { certificateFingerprint } from '../src/pki/index.ts';
import { parseConfig, startNode } from '../src/server/index.ts';
import { coffer, ok } from './coffer-command-kit.ts';
import { startReadyNode } from './tls-node-kit.ts';

function run(command: string, args: readonly string[], input?: Buffer): { ok: boolean; out: string; stdout: Buffer } {
  const result = spawnSync(command, args, { ...(input === undefined ? {} : { input }) });
  return { ok: result.status === 0, out: `${result.stdout.toString()}${result.stderr.toString()}`, stdout: result.stdout };
}

/** curl talks to the in-process node, so it must not block the event loop as spawnSync would. */
async function curlBytes(args: readonly string[]): Promise<Buffer> {
  const { stdout } = await promisify(execFile)('curl', args, { encoding: 'buffer' });
  return stdout;
}

describe('PKI over mutual TLS', () => {
  it('a node and a client authenticate with certificates from the built-in CA; time stamps verify with openssl', { timeout: 180_000 }, async (t) => {
    const node = await startReadyNode(t);
    const dir = node.dir;
    const officer = node.client(node.pki.officer);
    const ursula = node.client(node.pki.user);

    // The CA: a root on a Coffer key, for TLS and time-stamping purposes.
    await ursula.keys.create({ project: 'alpha', name: 'tls-root', spec: 'EC_P384', usage: 'SIGN_VERIFY' });
    const root = await ursula.pki.createCa({
      name: 'tls-root', key: 'alpha/tls-root', subject: 'CN=Coffer Example Root, O=Example', pathLength: 0,
      profile: { extendedKeyUsage: ['serverAuth', 'clientAuth', 'timeStamping'], maxValidityDays: 90 },
    });
    const rootPath = join(dir, 'root.pem');
    writeFileSync(rootPath, root.certificate);

    // A server certificate for the node: its key is made on the node's machine by the CLI, never sent.
    const env = { COFFER_URL: node.url, COFFER_CA: node.pki.caPath, COFFER_CERT: node.pki.user.certPath, COFFER_KEY: node.pki.user.keyPath };
    const serverKey = join(dir, 'node.key');
    const serverChain = join(dir, 'node-chain.pem');
    ok(await coffer(['pki', 'issue', 'alpha/tls-root', '--new-key', serverKey, '--subject', 'CN=localhost', '--dns', 'localhost', '--ip', '127.0.0.1', '--eku', 'serverAuth', '--days', '30', '--chain-out', serverChain, '--out', join(dir, 'node.pem')], env), 'pki issue --new-key');
    assert.equal(statSync(serverKey).mode & 0o777, 0o600);
    const serverVerify = run('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', rootPath, join(dir, 'node.pem')]);
    assert.ok(serverVerify.ok, serverVerify.out);

    // A client certificate for a build service, issued through the SDK from a CSR made locally.
    const { newLocalKeyWithCsr } = await import('../src/client/index.ts');
    const local = await newLocalKeyWithCsr({ subject: 'CN=build-service', extendedKeyUsage: ['clientAuth'] });
    const clientIssued = await ursula.pki.issue('alpha/tls-root', { csr: local.csr.pem, validityDays: 30 });
    const clientCert = { serialNumber: clientIssued.serialNumber, certificate: clientIssued.certificate ?? assert.fail('issue returns the certificate') };
    const clientCertPath = join(dir, 'build-service.pem');
    const clientKeyPath = join(dir, 'build-service.key');
    writeFileSync(clientCertPath, clientCert.certificate);
    writeFileSync(clientKeyPath, local.privateKeyPem, { mode: 0o600 });
    await officer.principals.create({
      name: 'build-service', role: 'service', projects: ['alpha'], defaultProject: 'alpha',
      certificates: [{ fingerprint: certificateFingerprint(clientCert.certificate) }],
    });

    // A time-stamping key: CSR inside Coffer, issued and attached in one SDK call; shared with the service.
    await ursula.keys.create({ project: 'alpha', name: 'tsa', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const { attached } = await ursula.pki.issueForKey('alpha/tls-root', 'alpha/tsa', { subject: 'CN=Coffer TSA, O=Example', extendedKeyUsage: ['timeStamping'] });
    assert.equal(attached.chainLength, 2);
    await ursula.keys.share('alpha/tsa', 'build-service');

    // Restart the node on the built-in CA's certificate, trusting both CAs for client certificates.
    const dataDir = join(dir, 'data');
    await node.running.close();
    const clientCas = join(dir, 'client-cas.pem');
    writeFileSync(clientCas, `${readFileSync(node.pki.caPath, 'utf8')}${root.certificate}`);
    const restarted = await startNode(parseConfig({
      dataDir, nodeId: 'e2e-node', api: { port: 0, tls: { certFile: serverChain, keyFile: serverKey, clientCaFile: clientCas } }, health: { port: 0 },
    }), { logger: false });
    t.after(() => restarted.close());
    const clients: CofferClient[] = [];
    t.after(() => {
      for (const client of clients) client.close();
    });
    const connect = (options: ConstructorParameters<typeof CofferClient>[0]): CofferClient => {
      const client = new CofferClient(options);
      clients.push(client);
      return client;
    };
    await connect({ url: restarted.apiUrl, ca: rootPath }).domain.unsealAsCustodian(node.custodian);

    // The client verifies the node against the built-in root only, and authenticates with its own key.
    const service = connect({ url: restarted.apiUrl, ca: rootPath, cert: clientCertPath, key: clientKeyPath });
    const me = await service.auth.whoami();
    assert.equal(me.name, 'build-service');
    // A client that trusts only the development CA does not accept the node's new certificate.
    const stranger = connect({ url: restarted.apiUrl, ca: node.pki.caPath, cert: clientCertPath, key: clientKeyPath });
    await assert.rejects(stranger.auth.whoami());

    // Time stamps: the SDK (JSON) and curl (application/timestamp-query), both verified by openssl.
    const artifact = join(dir, 'artifact.bin');
    writeFileSync(artifact, 'release 1.2.3 bytes');
    const query = service.tsa.buildQuery({ data: readFileSync(artifact) }, { hash: 'SHA-256' });
    const stamped = await service.tsa.stamp('alpha/tsa', query);
    assert.equal(stamped.granted, true);
    const sdkReply = join(dir, 'sdk.tsr');
    writeFileSync(sdkReply, stamped.reply);
    const sdkVerify = run('openssl', ['ts', '-verify', '-data', artifact, '-in', sdkReply, '-CAfile', rootPath]);
    assert.ok(sdkVerify.ok && /Verification: OK/.test(sdkVerify.out), sdkVerify.out);

    const tsq = join(dir, 'q.tsq');
    assert.ok(run('openssl', ['ts', '-query', '-data', artifact, '-sha384', '-cert', '-out', tsq]).ok);
    const keyId = (await service.keys.get('alpha/tsa')).id;
    const curlReply = join(dir, 'curl.tsr');
    writeFileSync(curlReply, await curlBytes(['-sS', '--fail', '--cacert', rootPath, '--cert', clientCertPath, '--key', clientKeyPath,
      '-H', 'Content-Type: application/timestamp-query', '--data-binary', `@${tsq}`, `${restarted.apiUrl}/v1/tsa?key=${keyId}`]));
    const curlVerify = run('openssl', ['ts', '-verify', '-queryfile', tsq, '-in', curlReply, '-CAfile', rootPath]);
    assert.ok(curlVerify.ok && /Verification: OK/.test(curlVerify.out), curlVerify.out);

    // The CLI: coffer tsa writes a reply openssl verifies; coffer pki revoke + crl make openssl refuse the client.
    const serviceEnv = { COFFER_URL: restarted.apiUrl, COFFER_CA: rootPath, COFFER_CERT: clientCertPath, COFFER_KEY: clientKeyPath };
    const cliReply = join(dir, 'cli.tsr');
    ok(await coffer(['tsa', 'alpha/tsa', '--data', artifact, '--out', cliReply], serviceEnv), 'coffer tsa');
    const cliVerify = run('openssl', ['ts', '-verify', '-data', artifact, '-in', cliReply, '-CAfile', rootPath]);
    assert.ok(cliVerify.ok && /Verification: OK/.test(cliVerify.out), cliVerify.out);

    const userEnv = { COFFER_URL: restarted.apiUrl, COFFER_CA: rootPath, COFFER_CERT: node.pki.user.certPath, COFFER_KEY: node.pki.user.keyPath };
    ok(await coffer(['pki', 'revoke', 'alpha/tls-root', '--serial', clientCert.serialNumber, '--reason', 'superseded'], userEnv), 'pki revoke');
    const crlPath = join(dir, 'root.crl');
    ok(await coffer(['pki', 'crl', 'alpha/tls-root', '--out', crlPath], userEnv), 'pki crl');
    const revokedCheck = run('openssl', ['verify', '-crl_check', '-CRLfile', crlPath, '-CAfile', rootPath, clientCertPath]);
    assert.ok(!revokedCheck.ok && /certificate revoked/.test(revokedCheck.out), revokedCheck.out);
    const issued = JSON.parse(ok(await coffer(['pki', 'issued', 'alpha/tls-root', '--json'], userEnv), 'pki issued')) as unknown;
    assert.ok(JSON.stringify(issued).includes('"revocationReason":"superseded"'));
  });
});
