// Reads of quorum state that the quorum library leaves to its caller to authorise: a token and the
// policy name officers and the operations they guard, so only officers and auditors see them (and a
// token its requester, who may be a key owner).
import type { ApprovalTokenView, QuorumPolicy, QuorumService } from '../approvals/quorum/index.ts';
import type { Caller } from '../core/engine/index.ts';
import { CofferError, isCofferError } from '../core/errors.ts';

function requireOverseer(caller: Caller, what: string): void {
  if (!caller.roles.includes('officer') && !caller.roles.includes('auditor')) {
    throw new CofferError('ACCESS_DENIED', `only officers and auditors may read ${what}`);
  }
}

export async function showQuorumToken(quorum: QuorumService, caller: Caller, tokenId: string): Promise<ApprovalTokenView> {
  if (caller.roles.includes('officer') || caller.roles.includes('auditor')) return quorum.show(tokenId);
  // Anyone else sees only their own requests; unknown and others' tokens look the same.
  const token = await quorum.show(tokenId).catch((error: unknown) => {
    if (isCofferError(error, 'APPROVAL_NOT_FOUND')) return undefined;
    throw error;
  });
  if (token?.requester !== caller.principal) throw new CofferError('ACCESS_DENIED', 'only officers, auditors and its requester may read an approval token');
  return token;
}

/** The current policy; QUORUM_POLICY_MISSING until one is initialised. */
export async function showQuorumPolicy(quorum: QuorumService, caller: Caller): Promise<QuorumPolicy> {
  requireOverseer(caller, 'the quorum policy');
  const policy = await quorum.policy();
  if (policy === undefined) throw new CofferError('QUORUM_POLICY_MISSING', 'no quorum policy is set');
  return policy;
}
