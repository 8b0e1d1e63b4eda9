// Writes one audit entry for every quorum call, allowed or refused, before the call returns or
// throws. Entries carry names, token ids and digests only: never parameters or signatures.
import { toCofferError, type ErrorCode } from '../../core/errors.ts';
import type { AuditSink, Clock } from '../../core/ports.ts';

/** Refusals of the caller, as opposed to failures of the operation, are recorded as DENIED. */
const DENIALS: ReadonlySet<ErrorCode> = new Set([
  'ACCESS_DENIED', 'QUORUM_REQUIRED', 'APPROVAL_NOT_FOUND', 'APPROVAL_EXPIRED', 'APPROVAL_ALREADY_USED', 'APPROVAL_MISMATCH', 'APPROVAL_INSUFFICIENT',
  'APPROVAL_SELF_NOT_ALLOWED', 'APPROVAL_SIGNATURE_INVALID', 'APPROVAL_NOT_APPROVER', 'APPROVAL_DUPLICATE',
]);

/** Filled in by the call as it learns what it touched. */
export interface QuorumAuditScope {
  inputDigest?: string;
  readonly detail: Record<string, string | number | boolean>;
}

export interface QuorumAuditCall {
  readonly principal: string;
  readonly requestId: string;
  readonly operation: string;
}

/** For entries that record what an operation did rather than whether the caller may: every failure is FAILED. */
export const NO_DENIALS: ReadonlySet<ErrorCode> = new Set();

export async function audited<T>(
  sink: AuditSink, clock: Clock, call: QuorumAuditCall, detail: QuorumAuditScope['detail'], body: (scope: QuorumAuditScope) => Promise<T>,
  denials: ReadonlySet<ErrorCode> = DENIALS,
): Promise<T> {
  const scope: QuorumAuditScope = { detail };
  const append = (errorCode: ErrorCode | undefined): Promise<void> => sink.append({
    time: clock.now().toISOString(),
    principal: call.principal,
    operation: call.operation,
    outcome: errorCode === undefined ? 'ALLOWED' : denials.has(errorCode) ? 'DENIED' : 'FAILED',
    requestId: call.requestId,
    ...(scope.inputDigest === undefined ? {} : { inputDigest: scope.inputDigest }),
    ...(errorCode === undefined ? {} : { errorCode }),
    detail: scope.detail,
  });
  let result: T;
  try {
    result = await body(scope);
  } catch (error) {
    const failure = toCofferError(error);
    await append(failure.code);
    throw failure;
  }
  await append(undefined);
  return result;
}
