// End-to-end set-up over the network: a real node (startNode) on loopback with real mutual TLS from
// a development PKI in a temporary directory, plus SDK clients for its certificates.
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createCustodianKeyPair, type CustodianKeyPair } from '../src/barrier/index.ts';
import { CofferClient } from '../src/client/index.ts';
import { ensureDevPki, type ClientCredentialPaths, type DevPki } from '../src/pki/index.ts';
import { parseConfig, startNode, type RunningNode } from '../src/server/index.ts';
import { tempDir } from './node-kit.ts';

export const USER_PASSWORD = 'correct horse battery staple';

export interface TlsNode {
  readonly dir: string;
  readonly pki: DevPki;
  readonly running: RunningNode;
  readonly url: string;
  /** An SDK client that trusts the node, with the given certificate (or none); closed with the test. */
  client(credentials?: ClientCredentialPaths, options?: { token?: string; timeoutMs?: number }): CofferClient;
}

/** A fresh, uninitialised node serving on free loopback ports; closed when the test ends. */
export async function startTlsNode(t: TestContext): Promise<TlsNode> {
  const dir = tempDir(t, 'coffer-tls-e2e-');
  const pki = await ensureDevPki(join(dir, 'pki'));
  const config = parseConfig({
    dataDir: join(dir, 'data'),
    nodeId: 'e2e-node',
    api: { port: 0, tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, clientCaFile: pki.caPath } },
    health: { port: 0 },
  });
  const running = await startNode(config, { logger: false });
  const clients: CofferClient[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await running.close();
  });
  return {
    dir, pki, running, url: running.apiUrl,
    client(credentials, options = {}) {
      const client = new CofferClient({
        url: running.apiUrl, ca: pki.caPath,
        ...(credentials === undefined ? {} : { cert: credentials.certPath, key: credentials.keyPath }),
        ...options,
      });
      clients.push(client);
      return client;
    },
  };
}

/**
 * A node initialised 1-of-1 and unsealed through the SDK, with officer `olivia` (officer.pem),
 * project `alpha` and user `ursula` (user.pem, password USER_PASSWORD) in it.
 */
export async function startReadyNode(t: TestContext): Promise<TlsNode & { custodian: CustodianKeyPair }> {
  const node = await startTlsNode(t);
  const custodian = createCustodianKeyPair();
  const anonymous = node.client();
  await anonymous.domain.init({
    custodians: [{ name: 'custodian', publicKey: custodian.publicKey }], threshold: 1,
    initialOfficer: { name: 'olivia', certificateFingerprint: node.pki.officer.fingerprint },
  });
  await anonymous.domain.unsealAsCustodian(custodian);
  const officer = node.client(node.pki.officer);
  await officer.projects.create({ name: 'alpha' });
  await officer.principals.create({
    name: 'ursula', role: 'user', projects: ['alpha'], defaultProject: 'alpha',
    certificates: [{ fingerprint: node.pki.user.fingerprint }], password: USER_PASSWORD,
  });
  return { ...node, custodian };
}
