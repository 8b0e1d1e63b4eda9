// One audit entry for every approvals call (key use and quorum), allowed, denied or failed, written
// before the call returns or throws. Entries carry names, ids, counts and digests: never signatures,
// shares, parameters, inputs or results.
import { toCofferError, type ErrorCode } from '../core/errors.ts';
import type { AuditSink, Clock } from '../core/ports.ts';

/** For entries that record what an operation did rather than whether the caller may: every failure is FAILED. */
export const NO_DENIALS: ReadonlySet<ErrorCode> = new Set();

/** Filled in by the call as it learns what it touched. */
export interface ApprovalAuditScope {
  project?: string;
  keyId?: string;
  keyVersion?: number;
  inputDigest?: string;
  readonly detail: Record<string, string | number | boolean>;
}

export interface ApprovalAuditCall {
  readonly principal: string;
  readonly requestId: string;
  readonly operation: string;
}

/**
 * Runs `body` and appends its entry: ALLOWED, DENIED for an error whose code is in `denials` (refusals
 * of the caller), FAILED otherwise. The entry's detail starts as `detail`. A failed write fails the call.
 */
export async function auditedApprovalCall<T>(
  sink: AuditSink, clock: Clock, call: ApprovalAuditCall, denials: ReadonlySet<ErrorCode>, body: (scope: ApprovalAuditScope) => Promise<T>,
  detail: ApprovalAuditScope['detail'] = {},
): Promise<T> {
  const scope: ApprovalAuditScope = { detail };
  const append = (errorCode: ErrorCode | undefined): Promise<void> => sink.append({
    time: clock.now().toISOString(),
    principal: call.principal,
    operation: call.operation,
    outcome: errorCode === undefined ? 'ALLOWED' : denials.has(errorCode) ? 'DENIED' : 'FAILED',
    requestId: call.requestId,
    ...(scope.project === undefined ? {} : { project: scope.project }),
    ...(scope.keyId === undefined ? {} : { keyId: scope.keyId }),
    ...(scope.keyVersion === undefined ? {} : { keyVersion: scope.keyVersion }),
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
