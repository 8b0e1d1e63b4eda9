// The operations a quorum token runs, one handler per class that has an operation in this version:
// each checks the parameters when the token is requested and runs the operation, as its requester,
// once the token is spent (node.admit issues a join token: join-wiring.ts; backup.restore restores a
// backup: backup-service.ts). policy.change and custodian.change may appear in a policy but have no
// operation yet, so requesting them is INVALID_ARGUMENT (the quorum service).
import { checkQuorumPassword, type QuorumOperationHandler, type QuorumOperationHandlers, type QuorumParameters } from '../approvals/quorum/index.ts';
import type { Caller, KeyEngine, Role } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import type { CofferNode } from './coffer-node.ts';
import type { CertificateBinding, PrincipalStatus } from './identity/identity-types.ts';
import { checkCertificates, checkName, checkProjects, checkRole } from './identity/identity-validation.ts';
import type { PrincipalDirectory } from './identity/index.ts';
import type { KeyInventory } from './key-inventory.ts';
import { nodeAdmitOperation } from './join-wiring.ts';
import { keyOperations } from './quorum-key-operations.ts';
import type { ImportTokenService } from './import-tokens.ts';
import { checkRestoreMode, type BackupService } from './backup-service.ts';
import { passwordBindingOf, passwordOf, requireFields, requireNoSecret } from './quorum-parameters.ts';

/** What the handlers run against: the directory of the current unsealed period and the key engine. */
export interface QuorumOperationContext {
  directory(): Promise<PrincipalDirectory>;
  readonly engine: KeyEngine;
  readonly keys: Pick<KeyInventory, 'projectHasKeys'>;
  /** node.admit issues join tokens on this node. */
  readonly node: CofferNode;
  /** backup.restore restores from this node's backup directory (absent: the class has no handler). */
  readonly backups?: BackupService;  /** key.import-foreign spends an import token. */
  importTokens(): ImportTokenService;
}

const OFFICERS: readonly Role[] = ['officer'];
const STATUSES: readonly string[] = ['ACTIVE', 'DISABLED'];
const PRINCIPAL_FIELDS = ['projects', 'defaultProject', 'certificates'] as const;

/** The optional principal fields present in `parameters`, checked. */
function principalFields(parameters: QuorumParameters): { projects?: string[]; defaultProject?: string; certificates?: CertificateBinding[] } {
  const { projects, defaultProject, certificates } = parameters;
  return {
    ...(projects === undefined ? {} : { projects: checkProjects(projects) }),
    ...(defaultProject === undefined ? {} : { defaultProject: checkName(defaultProject, 'project') }),
    ...(certificates === undefined ? {} : { certificates: checkCertificates(certificates) }),
  };
}

const nameOf = (parameters: QuorumParameters): string => checkName(parameters['name'], 'principal');

/** The target must exist when the token is requested (PRINCIPAL_NOT_FOUND otherwise). */
async function existing(context: QuorumOperationContext, caller: Caller, parameters: QuorumParameters): Promise<string> {
  const name = nameOf(parameters);
  await (await context.directory()).getPrincipal(caller, name);
  return name;
}

function principalCreate(context: QuorumOperationContext): QuorumOperationHandler {
  return {
    requesterRoles: OFFICERS,
    validate: async (_caller, parameters) => {
      requireFields(parameters, ['name', 'role'], [...PRINCIPAL_FIELDS, 'passwordSalt', 'passwordDigest']);
      nameOf(parameters);
      checkRole(parameters['role']);
      principalFields(parameters);
      passwordBindingOf(parameters);
      return Promise.resolve();
    },
    checkSecret: async (parameters, secret) => {
      const binding = passwordBindingOf(parameters);
      if (binding === undefined) requireNoSecret(secret);
      else await checkQuorumPassword(nameOf(parameters), passwordOf(secret), binding);
    },
    run: async (caller, parameters, secret) => {
      const password = passwordBindingOf(parameters) === undefined ? {} : { password: passwordOf(secret) };
      return (await context.directory()).createPrincipal(caller, { name: nameOf(parameters), role: checkRole(parameters['role']), ...principalFields(parameters), ...password });
    },
  };
}

function principalDelete(context: QuorumOperationContext): QuorumOperationHandler {
  return {
    requesterRoles: OFFICERS,
    validate: async (caller, parameters) => {
      requireFields(parameters, ['name']);
      if (nameOf(parameters) === caller.principal) throw new CofferError('ACCESS_DENIED', 'an officer cannot delete itself');
      await existing(context, caller, parameters);
    },
    run: async (caller, parameters) => {
      await (await context.directory()).deletePrincipal(caller, nameOf(parameters));
      return null;
    },
  };
}

/** Another principal's password: the parameters bind it (salt and digest); the applier gives it. */
function principalPasswordReset(context: QuorumOperationContext): QuorumOperationHandler {
  return {
    requesterRoles: OFFICERS,
    validate: async (caller, parameters) => {
      requireFields(parameters, ['name', 'passwordSalt', 'passwordDigest']);
      if (nameOf(parameters) === caller.principal) throw new CofferError('INVALID_ARGUMENT', 'your own password needs no quorum: set it directly');
      passwordBindingOf(parameters);
      await existing(context, caller, parameters);
    },
    checkSecret: async (parameters, secret) => {
      const binding = passwordBindingOf(parameters);
      if (binding === undefined) throw new CofferError('STORE_CORRUPT', 'a password-reset token binds no password');
      await checkQuorumPassword(nameOf(parameters), passwordOf(secret), binding);
    },
    run: async (caller, parameters, secret) => {
      await (await context.directory()).setPassword(caller, nameOf(parameters), passwordOf(secret));
      return null;
    },
  };
}

/** What a principal may do (projects, status) and how it authenticates (certificates). */
function principalRoleChange(context: QuorumOperationContext): QuorumOperationHandler {
  const changes = (parameters: QuorumParameters): { projects?: string[]; defaultProject?: string; certificates?: CertificateBinding[]; status?: PrincipalStatus } => {
    const status = parameters['status'];
    if (status !== undefined && (typeof status !== 'string' || !STATUSES.includes(status))) throw new CofferError('INVALID_ARGUMENT', 'status must be ACTIVE or DISABLED');
    return { ...principalFields(parameters), ...(status === undefined ? {} : { status: status as PrincipalStatus }) };
  };
  return {
    requesterRoles: OFFICERS,
    validate: async (caller, parameters) => {
      requireFields(parameters, ['name'], [...PRINCIPAL_FIELDS, 'status']);
      if (Object.keys(changes(parameters)).length === 0) throw new CofferError('INVALID_ARGUMENT', 'a role change must change at least one field');
      if (parameters['status'] === 'DISABLED' && nameOf(parameters) === caller.principal) throw new CofferError('ACCESS_DENIED', 'an officer cannot disable itself');
      await existing(context, caller, parameters);
    },
    run: async (caller, parameters) => (await context.directory()).updatePrincipal(caller, nameOf(parameters), changes(parameters)),
  };
}

function projectDelete(context: QuorumOperationContext): QuorumOperationHandler {
  const projectOf = (parameters: QuorumParameters): string => checkName(parameters['project'], 'project');
  return {
    requesterRoles: OFFICERS,
    validate: async (caller, parameters) => {
      requireFields(parameters, ['project']);
      await (await context.directory()).getProject(caller, projectOf(parameters));
    },
    run: async (caller, parameters) => {
      await (await context.directory()).deleteProject(caller, projectOf(parameters), (project) => context.keys.projectHasKeys(project));
      return null;
    },
  };
}

/** backup.restore: the parameters name the file (or its manifest digest) and the mode; the file is checked when requested and restored at apply. */
function backupRestore(backups: BackupService): QuorumOperationHandler {
  const refOf = (parameters: QuorumParameters): string => {
    const ref = parameters['backup'];
    if (typeof ref !== 'string' || ref.length > 256) throw new CofferError('INVALID_ARGUMENT', 'backup must name a backup file or its manifest digest');
    return ref;
  };
  return {
    requesterRoles: OFFICERS,
    validate: async (_caller, parameters) => {
      requireFields(parameters, ['backup', 'mode']);
      checkRestoreMode(parameters['mode']);
      await backups.check(refOf(parameters));
    },
    // The apply answer's schema is an allowlist of result shapes: the restore's counts go to the audit entry (backup.restore).
    run: async (caller, parameters) => {
      await backups.restore(caller, refOf(parameters), checkRestoreMode(parameters['mode']));
      return null;
    },
  };
}

/** The handler table the node's quorum service is built with. */
export function quorumOperations(context: QuorumOperationContext): QuorumOperationHandlers {
  return {
    'principal.create': principalCreate(context),
    'principal.delete': principalDelete(context),
    'principal.password-reset': principalPasswordReset(context),
    'principal.role-change': principalRoleChange(context),
    'project.delete': projectDelete(context),
    'node.admit': nodeAdmitOperation(context),
    ...keyOperations(context),
    ...(context.backups === undefined ? {} : { 'backup.restore': backupRestore(context.backups) }),
  };
}
