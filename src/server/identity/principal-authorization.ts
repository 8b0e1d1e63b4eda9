// Who may manage identities: officers manage principals and projects, auditors read them, every
// principal reads itself and sets its own password. What a caller may not see is "not found".
import { CofferError } from '../../core/errors.ts';
import type { Caller } from '../../core/engine/index.ts';

export function isOfficer(caller: Caller): boolean {
  return caller.roles.includes('officer');
}

/** Officers and auditors see every principal and project. */
export function seesAll(caller: Caller): boolean {
  return isOfficer(caller) || caller.roles.includes('auditor');
}

export function isSelf(caller: Caller, principalName: string): boolean {
  return caller.principal === principalName;
}

export function requireOfficer(caller: Caller, action: string): void {
  if (!isOfficer(caller)) throw new CofferError('ACCESS_DENIED', `only officers may ${action}`);
}

export function requireOverseer(caller: Caller, action: string): void {
  if (!seesAll(caller)) throw new CofferError('ACCESS_DENIED', `only officers and auditors may ${action}`);
}

export function canSeePrincipal(caller: Caller, principalName: string): boolean {
  return seesAll(caller) || isSelf(caller, principalName);
}

export function canSeeProject(caller: Caller, project: string): boolean {
  return seesAll(caller) || caller.projects.includes(project);
}

/** Officers set anyone's password; everyone else only their own. */
export function authorizeSetPassword(caller: Caller, principalName: string): void {
  if (!isOfficer(caller) && !isSelf(caller, principalName)) {
    throw new CofferError('ACCESS_DENIED', "only officers may set another principal's password");
  }
}
