// Quorum for officer operations: approval keys, the quorum policy, and approval tokens.
export { ApprovalKeyRegistry, spkiFingerprint, type ApprovalKey, type ApprovalKeyInfo } from './approval-key-registry.ts';
export { isTokenId, quorumTokenDigest, type Approval, type ApprovalToken, type QuorumParameters, type TokenBinding } from './approval-token.ts';
export { isQuorumOperation, POLICY_CHANGE, QUORUM_OPERATIONS, type QuorumOperation } from './operation-classes.ts';
export { MAX_APPROVERS, parseQuorumRules, type QuorumPolicy, type QuorumRule, type QuorumRules } from './quorum-policy.ts';
export type { QuorumOperationHandler, QuorumOperationHandlers, QuorumSecret } from './operation-handlers.ts';
export { bindQuorumPassword, checkQuorumPassword, isPasswordBinding, PASSWORD_BINDING_PREFIX, type PasswordBinding } from './password-binding.ts';
export {
  DEFAULT_TOKEN_LIFETIME_MS, DEFAULT_TOKEN_RETENTION_MS, MAX_PARAMETERS_BYTES, PRUNE_INTERVAL_MS, QuorumService,
  type AppliedOperation, type AuthorisedOperation, type QuorumRequest, type QuorumServiceOptions,
} from './quorum-service.ts';
export {
  approvalKeyAlgorithm, parseApprovalPublicKey, QUORUM_STATEMENT_PREFIX, quorumStatement, signQuorumStatement, verifyQuorumStatement,
  type ApprovalKeyAlgorithm,
} from './quorum-statement.ts';
export type { ApprovalTokenView, TokenStatus } from './token-view.ts';
