// What the quorum service needs to know of each operation class it guards: who may request it, how
// to check a request before any token exists, how to check what the requester supplies beside the
// bound parameters at apply, and how to run it once. The server implements one per class.
import type { Caller, Role } from '../../core/engine/index.ts';
import type { QuorumParameters } from './approval-token.ts';
import type { QuorumOperation } from './operation-classes.ts';

/** What an applier supplies beside the bound parameters and that is never stored (e.g. a password). */
export type QuorumSecret = Readonly<Record<string, string>>;

export interface QuorumOperationHandler {
  /** Roles that may request and apply the class; approvers are always officers. */
  readonly requesterRoles: readonly Role[];
  /** At request time: refuses a malformed or unauthorised operation, so no token is made for it. */
  validate(requester: Caller, parameters: QuorumParameters): Promise<void>;
  /**
   * At apply, before the token is spent: checks `secret` against the parameters (APPROVAL_MISMATCH
   * when it does not match). Without this hook the class takes no secret.
   */
  checkSecret?(parameters: QuorumParameters, secret: QuorumSecret | undefined): Promise<void>;
  /** Runs the operation once as the requester, after the token is spent; the result goes back to the applier. */
  run(requester: Caller, parameters: QuorumParameters, secret: QuorumSecret | undefined): Promise<unknown>;
}

/** Classes without a handler may appear in a policy, but requesting them is INVALID_ARGUMENT. */
export type QuorumOperationHandlers = Readonly<Partial<Record<Exclude<QuorumOperation, 'quorum.policy-change'>, QuorumOperationHandler>>>;
