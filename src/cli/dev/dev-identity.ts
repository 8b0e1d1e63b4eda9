// Development mode's principals, project and demo key, made on first start and repaired on later
// ones: officer `dev-officer` and user `dev-user` bound to the dev PKI's client certificates, project
// `dev`, the user's password in a 0600 file, and AES key `foo` so the printed curl example works.
// The setup runs in-process on the node it just unsealed; identity changes are audited as the
// synthetic officer `coffer-dev`, the key's creation as its owner `dev-user`.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Caller } from '../../core/engine/index.ts';
import { isCofferError } from '../../core/errors.ts';
import type { DevPki } from '../../pki/index.ts';
import type { Principal, PrincipalDirectory } from '../../server/identity/index.ts';
import type { RunningNode } from '../../server/index.ts';

export const DEV_PROJECT = 'dev';
export const DEV_OFFICER = 'dev-officer';
export const DEV_USER = 'dev-user';
export const DEV_KEY = 'foo';
export const DEV_PASSWORD_FILE = 'user.password';
/** The development signing service's principal, and the key its demo profile signs with (shared with it by dev-user). */
export const DEV_SIGNER = 'dev-signer';
export const DEV_SIGNING_KEY = 'code-signing';

/** null when absent; other errors propagate. */
async function found<T>(lookup: Promise<T>, code: 'PRINCIPAL_NOT_FOUND' | 'PROJECT_NOT_FOUND' | 'KEY_NOT_FOUND'): Promise<T | null> {
  try {
    return await lookup;
  } catch (error) {
    if (isCofferError(error, code)) return null;
    throw error;
  }
}

function setupCaller(principal: string, roles: Caller['roles'], projects: readonly string[]): Caller {
  return { principal, roles, projects, requestId: `dev-setup-${randomBytes(6).toString('hex')}` };
}

/** The principal's certificate list with `fingerprint` bound, or undefined when it already is. */
function rebound(principal: Principal, fingerprint: string, subject: string): { fingerprint: string; subject: string }[] | undefined {
  if (principal.certificates.some((c) => c.fingerprint === fingerprint)) return undefined;
  // The dev PKI reissued the certificate: the old fingerprint is stale, so it is replaced, not kept.
  return [{ fingerprint, subject }];
}

async function ensureOfficer(directory: PrincipalDirectory, actor: Caller, pki: DevPki, changes: string[]): Promise<void> {
  const binding = { fingerprint: pki.officer.fingerprint, subject: `CN=${DEV_OFFICER}` };
  if (!(await directory.hasPrincipals())) {
    await directory.bootstrapOfficer({ name: DEV_OFFICER, certificates: [binding] });
    changes.push(`officer ${DEV_OFFICER}`);
    return;
  }
  const officer = await found(directory.getPrincipal(actor, DEV_OFFICER), 'PRINCIPAL_NOT_FOUND');
  if (officer === null) {
    await directory.createPrincipal(actor, { name: DEV_OFFICER, role: 'officer', certificates: [binding] });
    changes.push(`officer ${DEV_OFFICER}`);
    return;
  }
  const certificates = rebound(officer, binding.fingerprint, binding.subject);
  if (certificates !== undefined) {
    await directory.updatePrincipal(actor, DEV_OFFICER, { certificates });
    changes.push(`${DEV_OFFICER}'s certificate binding`);
  }
}

async function ensureUser(directory: PrincipalDirectory, actor: Caller, pki: DevPki, passwordPath: string, changes: string[]): Promise<Principal> {
  const binding = { fingerprint: pki.user.fingerprint, subject: `CN=${DEV_USER}` };
  const newPassword = (): string => randomBytes(18).toString('base64url');
  const existing = await found(directory.getPrincipal(actor, DEV_USER), 'PRINCIPAL_NOT_FOUND');
  if (existing === null) {
    const password = newPassword();
    const user = await directory.createPrincipal(actor, {
      name: DEV_USER, role: 'user', projects: [DEV_PROJECT], defaultProject: DEV_PROJECT, certificates: [binding], password,
    });
    writeFileSync(passwordPath, `${password}\n`, { mode: 0o600 });
    changes.push(`user ${DEV_USER}`);
    return user;
  }
  let user = existing;
  const certificates = rebound(user, binding.fingerprint, binding.subject);
  const projects = user.projects.includes(DEV_PROJECT) ? undefined : [...user.projects, DEV_PROJECT];
  if (certificates !== undefined || projects !== undefined || user.defaultProject === undefined) {
    user = await directory.updatePrincipal(actor, DEV_USER, {
      ...(certificates === undefined ? {} : { certificates }),
      ...(projects === undefined ? {} : { projects }),
      ...(user.defaultProject === undefined ? { defaultProject: DEV_PROJECT } : {}),
    });
    changes.push(`${DEV_USER}'s ${certificates === undefined ? 'projects' : 'certificate binding'}`);
  }
  // The stored hash cannot be read back: a missing file (or no password) means a new password.
  if (!user.hasPassword || !existsSync(passwordPath)) {
    const password = newPassword();
    await directory.setPassword(actor, DEV_USER, password);
    writeFileSync(passwordPath, `${password}\n`, { mode: 0o600 });
    changes.push(`${DEV_USER}'s password`);
  }
  return user;
}

/** Makes (or repairs) the development identities and key; returns what it changed, for the banner. */
export async function ensureDevIdentity(running: RunningNode, pki: DevPki, dataDir: string): Promise<string[]> {
  const changes: string[] = [];
  const directory = await running.directory();
  const actor = setupCaller('coffer-dev', ['officer'], []);
  if ((await found(directory.getProject(actor, DEV_PROJECT), 'PROJECT_NOT_FOUND')) === null) {
    await directory.createProject(actor, { name: DEV_PROJECT, description: 'development project (coffer dev)' });
    changes.push(`project ${DEV_PROJECT}`);
  }
  await ensureOfficer(directory, actor, pki, changes);
  const user = await ensureUser(directory, actor, pki, join(dataDir, DEV_PASSWORD_FILE), changes);
  const asUser = setupCaller(DEV_USER, ['user'], user.projects);
  const ref = { project: DEV_PROJECT, name: DEV_KEY };
  if ((await found(running.node.engine.keys.describe(asUser, ref), 'KEY_NOT_FOUND')) === null) {
    await running.node.engine.keys.create(asUser, { ...ref, spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', description: 'the key of the curl example printed by coffer dev' });
    changes.push(`key ${DEV_PROJECT}/${DEV_KEY}`);
  }
  await ensureSigner(running, directory, actor, asUser, pki, changes);
  return changes;
}

/** The signing service's principal (a service of project dev, on the dev PKI's signer certificate) and its EC P-256 key, shared with it. */
async function ensureSigner(running: RunningNode, directory: PrincipalDirectory, actor: Caller, asUser: Caller, pki: DevPki, changes: string[]): Promise<void> {
  const binding = { fingerprint: pki.signer.fingerprint, subject: `CN=${DEV_SIGNER}` };
  const existing = await found(directory.getPrincipal(actor, DEV_SIGNER), 'PRINCIPAL_NOT_FOUND');
  if (existing === null) {
    await directory.createPrincipal(actor, { name: DEV_SIGNER, role: 'service', projects: [DEV_PROJECT], defaultProject: DEV_PROJECT, certificates: [binding] });
    changes.push(`service ${DEV_SIGNER}`);
  } else {
    const certificates = rebound(existing, binding.fingerprint, binding.subject);
    if (certificates !== undefined) {
      await directory.updatePrincipal(actor, DEV_SIGNER, { certificates });
      changes.push(`${DEV_SIGNER}'s certificate binding`);
    }
  }
  const ref = { project: DEV_PROJECT, name: DEV_SIGNING_KEY };
  const keys = running.node.engine.keys;
  let key = await found(keys.describe(asUser, ref), 'KEY_NOT_FOUND');
  if (key === null) {
    key = await keys.create(asUser, { ...ref, spec: 'EC_P256', usage: 'SIGN_VERIFY', description: 'the key of the signing service\'s demo profile (coffer dev)' });
    changes.push(`key ${DEV_PROJECT}/${DEV_SIGNING_KEY}`);
  }
  if (!key.sharedWith.includes(DEV_SIGNER)) {
    await keys.share(asUser, key.id, DEV_SIGNER, async (name) => directory.requireActivePrincipal(name));
    changes.push(`${DEV_PROJECT}/${DEV_SIGNING_KEY} shared with ${DEV_SIGNER}`);
  }
}
