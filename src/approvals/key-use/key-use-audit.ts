// One audit entry for every key-use call, allowed, denied or failed, written before the call returns
// or throws. Entries carry names, ids, counts and digests: never signatures, shares, inputs or results.
import { toCofferError, type ErrorCode } from '../../core/errors.ts';
import type { AuditSink, Clock } from '../../core/ports.ts';

/** Refusals of the caller, as opposed to failures of the operation, are recorded as DENIED. */
export const KEY_USE_DENIALS: ReadonlySet<ErrorCode> = new Set([
  'ACCESS_DENIED', 'APPROVAL_NOT_FOUND', 'APPROVAL_EXPIRED', 'APPROVAL_ALREADY_USED', 'APPROVAL_REJECTED', 'APPROVAL_SELF_NOT_ALLOWED',
  'APPROVAL_NOT_APPROVER', 'APPROVAL_DUPLICATE', 'APPROVAL_SIGNATURE_INVALID', 'APPROVAL_SHARE_INVALID',
]);
/** For the entry of a use that ran: every failure is FAILED. */
export const NO_DENIALS: ReadonlySet<ErrorCode> = new Set();

export interface KeyUseAuditScope {
  project?: string;
  keyId?: string;
  keyVersion?: number;
  inputDigest?: string;
  readonly detail: Record<string, string | number | boolean>;
}

export interface KeyUseAuditCall {
  readonly principal: string;
  readonly requestId: string;
  readonly operation: string;
}

export async function auditedKeyUse<T>(
  sink: AuditSink, clock: Clock, call: KeyUseAuditCall, body: (scope: KeyUseAuditScope) => Promise<T>, denials: ReadonlySet<ErrorCode> = KEY_USE_DENIALS,
): Promise<T> {
  const scope: KeyUseAuditScope = { detail: {} };
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
