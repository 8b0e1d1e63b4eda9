// Who may do what with a key: owners manage and use, shared users only use, officers and auditors
// only read metadata. A key the caller may not even see is reported as not found.
import { CofferError } from '../errors.ts';
import type { KeyRecord } from '../key-record.ts';
import type { Caller } from './caller.ts';

export type KeyAction = 'read' | 'use' | 'manage';

function canUseKeys(caller: Caller): boolean {
  return caller.roles.includes('user') || caller.roles.includes('service');
}

function isOwner(caller: Caller, key: KeyRecord): boolean {
  return key.owner === caller.principal;
}

function isSharedUser(caller: Caller, key: KeyRecord): boolean {
  return key.policy.sharedWith.includes(caller.principal);
}

/** True when the key's existence may be revealed to the caller. */
export function canSee(caller: Caller, key: KeyRecord): boolean {
  return caller.projects.includes(key.project) || isOwner(caller, key) || isSharedUser(caller, key);
}

/** Throws KEY_NOT_FOUND for keys the caller cannot see, ACCESS_DENIED for actions it may not take. */
export function authorizeKey(caller: Caller, key: KeyRecord, action: KeyAction): void {
  if (!canSee(caller, key)) throw new CofferError('KEY_NOT_FOUND', 'key not found');
  switch (action) {
    case 'read':
      return;
    case 'use':
      if (canUseKeys(caller) && (isOwner(caller, key) || isSharedUser(caller, key))) return;
      throw new CofferError('ACCESS_DENIED', 'the caller may not use this key');
    case 'manage':
      if (canUseKeys(caller) && isOwner(caller, key)) return;
      throw new CofferError('ACCESS_DENIED', "only the key's owner may manage it");
  }
}

/** Creating keys: users and services, inside one of their own projects. */
export function authorizeCreate(caller: Caller, project: string): void {
  if (!canUseKeys(caller)) throw new CofferError('ACCESS_DENIED', 'only users and services create keys');
  if (!caller.projects.includes(project)) throw new CofferError('ACCESS_DENIED', 'the caller is not a member of this project');
}

/** Listing a project's keys: any member of the project. */
export function authorizeList(caller: Caller, project: string): void {
  if (!caller.projects.includes(project)) throw new CofferError('ACCESS_DENIED', 'the caller is not a member of this project');
}

/** Random bytes: any principal allowed to use keys. */
export function authorizeRandom(caller: Caller): void {
  if (!canUseKeys(caller)) throw new CofferError('ACCESS_DENIED', 'only users and services may request random bytes');
}
