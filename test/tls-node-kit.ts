// End-to-end set-up over the network: a real node (startNode) on loopback with real mutual TLS from
// a development PKI in a temporary directory, plus SDK clients for its certificates, the refusals
// they get and the node's audit journal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createCustodianKeyPair, type CustodianKeyPair } from '../src/barrier/index.ts';
import { CofferApiError, CofferClient } from '../src/client/index.ts';
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

/** Asserts that the SDK call is refused with `code` (and `status`, when given); returns the error. */
export async function refused(call: Promise<unknown>, code: string, status?: number): Promise<CofferApiError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CofferApiError, `expected CofferApiError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (status !== undefined) assert.equal(error.status, status);
  return error;
}

export type JournalEntry = Record<string, unknown> & { detail?: Record<string, unknown> };

/** The node's audit journal, event entries only (read after the calls settled). */
export function journal(node: TlsNode): JournalEntry[] {
  return readFileSync(node.running.node.journalPath, 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as JournalEntry)
    .filter((entry) => 'operation' in entry);
}
