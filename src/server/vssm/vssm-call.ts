// What one VSSM request runs with, and how a VSSM key name becomes a key of the caller's project.
import type { Caller, KeyEngine } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Principal } from '../identity/identity-types.ts';
import { defaultProjectOf } from '../key-listing.ts';
import type { VssmAuditor } from './vssm-audit.ts';

export interface VssmCall {
  readonly engine: KeyEngine;
  readonly principal: Principal;
  readonly caller: Caller;
  readonly audit: VssmAuditor;
}

/** Key names as the engine stores them; anything else cannot name a key. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Where VSSM's flat key names live: the caller's default project, else its first (INVALID_ARGUMENT if none). */
export function vssmProject(call: Pick<VssmCall, 'principal'>): string {
  return defaultProjectOf(call.principal, undefined);
}

/** A VSSM key name is the key of that name in the caller's default project. */
export function vssmKeyRef(call: Pick<VssmCall, 'principal'>, keyName: string): { readonly project: string; readonly name: string } {
  if (keyName === '') throw new CofferError('INVALID_ARGUMENT', 'keyName is required');
  if (!KEY_NAME.test(keyName)) throw new CofferError('INVALID_ARGUMENT', "keyName must be 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
  return { project: vssmProject(call), name: keyName };
}
