// What callers see of a token: the binding (so approvers can recompute the digest), who approved
// and when, and its status. Signatures stay inside.
import type { Clock } from '../../core/ports.ts';
import type { ApprovalToken } from './approval-token.ts';

export type TokenStatus = 'pending' | 'expired' | 'used';

export interface ApprovalTokenView extends Omit<ApprovalToken, 'approvals'> {
  readonly status: TokenStatus;
  readonly approvals: readonly { readonly approver: string; readonly approvedAt: string }[];
}

export function isExpired(token: ApprovalToken, clock: Clock): boolean {
  return clock.now().getTime() >= Date.parse(token.expiresAt);
}

export function tokenStatus(token: ApprovalToken, clock: Clock): TokenStatus {
  if (token.usedAt !== undefined) return 'used';
  return isExpired(token, clock) ? 'expired' : 'pending';
}

export function viewOf(token: ApprovalToken, clock: Clock): ApprovalTokenView {
  return {
    ...token,
    status: tokenStatus(token, clock),
    approvals: token.approvals.map(({ approver, approvedAt }) => ({ approver, approvedAt })),
  };
}
