// The signing service's end-to-end world: a real node (tls-node-kit) and a real signer
// (startSigner) on loopback over mutual TLS, principals for builders, approvers and auditors, and
// helpers for the keys, tools and journals the signing tests check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { CofferApiError, type CofferClient, type KeySpec } from '../src/client/index.ts';
import { SignerClient } from '../src/signing/client/index.ts';
import { parseSignerConfig, startSigner, type JobView, type RunningSigner, type SignerConfig } from '../src/signing/service/index.ts';
import { startReadyNode, type TlsNode } from './tls-node-kit.ts';

export const PASSWORD = 'signing service e2e password';
export const SIGNER = 'dev-signer';

export function openssl(args: readonly string[]): { ok: boolean; out: string } {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

export async function refusedWith(call: Promise<unknown>, code: string): Promise<void> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CofferApiError, `expected ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.ok(error.status >= 400 && error.status < 500, `${code} is a 4xx, not ${String(error.status)}`);
}

export interface World {
  readonly node: TlsNode;
  readonly officer: CofferClient;
  /** ursula's Coffer client (user.pem): owner of project alpha's keys. */
  readonly ursula: CofferClient;
  readonly config: SignerConfig;
  signer: RunningSigner;
  /** A signer client: by certificate for olivia and ursula, by Coffer token for the others. */
  /** olivia and ursula by certificate, anyone else by a Coffer token. */
  as(principal: string): Promise<SignerClient>;
  restart(): Promise<void>;
}

/**
 * A ready node (officer olivia, user ursula in alpha), project beta with user bruno, users `extra` in
 * alpha (password login), the service principal dev-signer (the dev PKI's signer certificate) in both
 * projects, and a signer whose admin is olivia. Signing project alpha: ursula admin and submitter.
 */
export async function world(t: TestContext, extra: readonly string[] = []): Promise<World> {
  const node = await startReadyNode(t);
  const officer = node.client(node.pki.officer);
  const ursula = node.client(node.pki.user);
  await officer.projects.create({ name: 'beta' });
  await officer.principals.create({ name: SIGNER, role: 'service', projects: ['alpha', 'beta'], defaultProject: 'alpha', certificates: [{ fingerprint: node.pki.signer.fingerprint }] });
  await officer.principals.create({ name: 'bruno', role: 'user', projects: ['beta'], defaultProject: 'beta', password: PASSWORD });
  for (const name of extra) await officer.principals.create({ name, role: 'user', projects: ['alpha'], defaultProject: 'alpha', password: PASSWORD });
  await officer.principals.create({ name: 'audrey', role: 'auditor', password: PASSWORD });
  const config = parseSignerConfig({
    nodeId: 'e2e-signer', dataDir: join(node.dir, 'signer'),
    api: { port: 0, tls: { certFile: node.pki.serverCertPath, keyFile: node.pki.serverKeyPath, clientCaFile: node.pki.caPath } },
    coffer: { url: node.url, ca: node.pki.caPath, cert: node.pki.signer.certPath, key: node.pki.signer.keyPath },
    admins: ['olivia'],
    auditors: ['audrey'],
    jobs: { concurrency: 2 },
  });
  const clients: SignerClient[] = [];
  const w: World = {
    node, officer, ursula, config,
    signer: await startSigner(config),
    async as(principal) {
      const base = { url: w.signer.url, ca: node.pki.caPath };
      let client: SignerClient;
      if (principal === 'olivia') client = new SignerClient({ ...base, cert: node.pki.officer.certPath, key: node.pki.officer.keyPath });
      else if (principal === 'ursula') client = new SignerClient({ ...base, cert: node.pki.user.certPath, key: node.pki.user.keyPath });
      else {
        const login = node.client();
        client = new SignerClient({ ...base, token: (await login.auth.login(principal, PASSWORD)).token });
      }
      clients.push(client);
      return client;
    },
    async restart() {
      // Same port, so the clients made before the restart reach it again.
      const port = Number(new URL(w.signer.url).port);
      await w.signer.close();
      w.signer = await startSigner({ ...config, api: { ...config.api, port } });
    },
  };
  t.after(async () => {
    for (const client of clients) client.close();
    await w.signer.close();
  });
  const olivia = await w.as('olivia');
  await olivia.createProject({ name: 'alpha' });
  await olivia.setMember('alpha', 'ursula', ['admin', 'submitter']);
  return w;
}

/** A key of ursula's in alpha, shared with the signer. */
export async function signingKey(w: World, name: string, spec: KeySpec, extra: Record<string, unknown> = {}): Promise<string> {
  const key = await w.ursula.keys.create({ project: 'alpha', name, spec, usage: 'SIGN_VERIFY', ...extra });
  await w.ursula.keys.share(key.id, SIGNER);
  return key.id;
}

export async function publicKeyFile(w: World, ref: string): Promise<string> {
  const path = join(w.node.dir, `${ref.replaceAll('/', '_')}.pub.pem`);
  writeFileSync(path, (await w.ursula.keys.publicKey(ref)).pem);
  return path;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function signerJournal(w: World): Record<string, unknown>[] {
  return readFileSync(join(w.config.dataDir, 'audit.journal'), 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => 'operation' in entry);
}

export async function signedJob(client: SignerClient, project: string, profile: string, path: string): Promise<JobView> {
  const job = await client.signFile(project, profile, path, { waitSeconds: 60 });
  assert.equal(job.state, 'signed', JSON.stringify(job.failure));
  return job;
}

