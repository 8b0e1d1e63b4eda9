// The signing service of `coffer dev`: in the same process as the development node, on its own port
// (COFFER_SIGNER_PORT, default 8444) and data directory (<dev data>/signer), reaching the node over
// mutual TLS as principal dev-signer. First start sets up signing project `dev` (dev-user: admin,
// submitter and approver) with profile `raw` over key dev/code-signing.
import { join } from 'node:path';
import { isCofferError } from '../../core/errors.ts';
import type { DevPki } from '../../pki/index.ts';
import { parseSignerConfig, startSigner, type RunningSigner, type SignerCaller } from '../../signing/service/index.ts';
import { DEV_OFFICER, DEV_PROJECT, DEV_SIGNING_KEY, DEV_USER } from './dev-identity.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const DEV_SIGNER_PORT = 8444;
export const DEV_SIGNING_PROFILE = 'raw';

export async function startDevSigner(env: Env, dataDir: string, pki: DevPki, apiUrl: string, changes: string[]): Promise<RunningSigner> {
  const config = parseSignerConfig({
    nodeId: 'dev-signer',
    dataDir: join(dataDir, 'signer'),
    api: { port: DEV_SIGNER_PORT, tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, clientCaFile: pki.caPath } },
    coffer: { url: apiUrl, ca: pki.caPath, cert: pki.signer.certPath, key: pki.signer.keyPath },
    admins: [DEV_OFFICER],
  }, { env });
  const running = await startSigner(config);
  try {
    await ensureDevSigning(running, changes);
  } catch (error) {
    await running.close();
    throw error;
  }
  return running;
}

async function ensureDevSigning(running: RunningSigner, changes: string[]): Promise<void> {
  const { service } = running;
  const officer: SignerCaller = { principal: DEV_OFFICER, authenticatedBy: 'certificate', requestId: 'dev-signer-setup' };
  try {
    await service.createProject(officer, { name: DEV_PROJECT, description: 'development signing project (coffer dev)' });
    changes.push(`signing project ${DEV_PROJECT}`);
  } catch (error) {
    if (!isCofferError(error, 'SIGNING_PROJECT_EXISTS')) throw error;
  }
  const member = await service.projects.member(DEV_PROJECT, DEV_USER);
  if (member === undefined) {
    await service.setMember(officer, DEV_PROJECT, DEV_USER, { roles: ['admin', 'submitter', 'approver'] });
    changes.push(`${DEV_USER} in signing project ${DEV_PROJECT}`);
  }
  const profiles = await service.projects.listProfiles(DEV_PROJECT);
  if (!profiles.some((profile) => profile.name === DEV_SIGNING_PROFILE)) {
    await service.putProfile(officer, DEV_PROJECT, DEV_SIGNING_PROFILE, {
      format: 'raw', key: `${DEV_PROJECT}/${DEV_SIGNING_KEY}`, allowDigestSubmission: true, retentionDays: 30,
      checks: [{ kind: 'maxSize', name: 'size', maxBytes: 32 * 1024 ** 3 }], description: 'detached ECDSA P-256 signatures (coffer dev)',
    });
    changes.push(`signing profile ${DEV_PROJECT}/${DEV_SIGNING_PROFILE}`);
  }
}
