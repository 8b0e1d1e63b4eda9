// Approval for key use: approver keys, sealing keys to their approvers, requests, and the service.
export { ApproverKeyRegistry, parseApproverKeys, type ApproverKeys } from './approver-keys.ts';
export {
  commitmentOf, generateApproverKeys, openApproverShare, releaseShare, sealReleasedShare, signApproval, signRejection, type ApproverKeyPairs,
} from './approver-side.ts';
export { keyUseRequestDigest, shareCommitment, shareReleaseInfo, shareSealInfo, SHARE_COMMITMENT_LABEL } from './key-use-binding.ts';
export { KeySealer, type PrincipalCheck } from './key-sealer.ts';
export { isRequestId, MAX_STORED_MESSAGE_BYTES } from './key-use-request.ts';
export { DEFAULT_RETENTION_MS, KeyUseService, POLL_INTERVAL_MS, PRUNE_INTERVAL_MS, type KeyUseListRole, type KeyUseServiceOptions } from './key-use-service.ts';
export { keyUseStatement, signKeyUseStatement, verifyKeyUseStatement, type StatementKind } from './key-use-statement.ts';
export * from './key-use-types.ts';
