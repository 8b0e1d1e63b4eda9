// The node that bench/server.ts loads: startNode on loopback with mutual TLS from a development PKI
// in a temporary directory, initialised 1-of-1 and unsealed through the SDK, with an officer, a
// project, a user bound to a client certificate and an EC_P256 signing key owned by that user.
import { createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCustodianKeyPair } from '../src/barrier/index.ts';
import { CofferClient } from '../src/client/index.ts';
import type { Caller } from '../src/core/engine/caller.ts';
import { ensureDevPki, type DevPki } from '../src/pki/index.ts';
import { callerOf } from '../src/server/identity/identity-types.ts';
import { parseConfig, startNode, type RunningNode } from '../src/server/index.ts';

export const BENCH_PROJECT = 'bench';
const BENCH_USER = 'bench-user';

export interface BenchNode {
  readonly dir: string;
  readonly pki: DevPki;
  readonly running: RunningNode;
  /** The user's EC_P256 SIGN_VERIFY key. */
  readonly keyId: string;
  /** The caller an API request of the user becomes (the engine reference signs as it). */
  caller(requestId: string): Caller;
  close(): Promise<void>;
}

export async function startBenchNode(): Promise<BenchNode> {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-bench-server-'));
  let running: RunningNode | undefined;
  const clients: CofferClient[] = [];
  try {
    const pki = await ensureDevPki(join(dir, 'pki'));
    // Logging at warn: a production node logs a line per request at info, which is a choice about
    // log volume, not part of what one signature costs.
    const config = parseConfig({
      dataDir: join(dir, 'data'),
      nodeId: 'bench-server',
      api: { host: '127.0.0.1', port: 0, tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, clientCaFile: pki.caPath } },
      health: { host: '127.0.0.1', port: 0 },
      log: { level: 'warn' },
    });
    running = await startNode(config);
    const client = (credentials?: { certPath: string; keyPath: string }): CofferClient => {
      const made = new CofferClient({ url: running?.apiUrl ?? '', ca: pki.caPath, ...(credentials === undefined ? {} : { cert: credentials.certPath, key: credentials.keyPath }) });
      clients.push(made);
      return made;
    };

    const custodian = createCustodianKeyPair();
    const anonymous = client();
    await anonymous.domain.init({
      custodians: [{ name: 'bench-custodian', publicKey: custodian.publicKey }], threshold: 1,
      initialOfficer: { name: 'bench-officer', certificateFingerprint: pki.officer.fingerprint },
    });
    await anonymous.domain.unsealAsCustodian(custodian);
    const officer = client(pki.officer);
    await officer.projects.create({ name: BENCH_PROJECT });
    await officer.principals.create({ name: BENCH_USER, role: 'user', projects: [BENCH_PROJECT], defaultProject: BENCH_PROJECT, certificates: [{ fingerprint: pki.user.fingerprint }] });
    const user = client(pki.user);
    const key = await user.keys.create({ project: BENCH_PROJECT, name: 'p256', spec: 'EC_P256', usage: 'SIGN_VERIFY' });

    // Sanity: signatures over the API verify under the key's public half, single and batched, so
    // the benchmark times working operations.
    const publicKey = createPublicKey({ key: (await user.keys.publicKey(key.id)).der, format: 'der', type: 'spki' });
    const message = randomBytes(48);
    const single = await user.crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message });
    const batch = await user.crypto.signBatch([{ keyId: key.id, algorithm: 'ECDSA_SHA_256', message }]);
    const batched = batch[0];
    if (!verifySignature('sha256', message, publicKey, single.signature)) throw new Error('an API signature does not verify');
    if (batched?.ok !== true || !verifySignature('sha256', message, publicKey, batched.signature)) throw new Error('a batched API signature does not verify');

    const principal = await (await running.directory()).authenticateCertificate(pki.user.fingerprint, 'bench-setup');
    const node = running;
    return {
      dir, pki, running: node, keyId: key.id,
      caller: (requestId) => callerOf(principal, requestId),
      close: async () => {
        await node.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await running?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    for (const c of clients) c.close();
  }
}
