// Writes the directory's audit entry for every call, allowed or not, before the call returns or
// throws; an entry that cannot be made durable fails the call (AUDIT_UNAVAILABLE), never silently.
import { CofferError, toCofferError, type ErrorCode } from '../../core/errors.ts';
import type { AuditSink, Clock } from '../../core/ports.ts';

/** The audit principal for calls made before anyone is authenticated. */
export const ANONYMOUS = 'anonymous';
/** The audit principal for the directory acting on its own (the first officer's bootstrap). */
export const SYSTEM = 'system';

/** Refusals of the caller (rather than failures of the operation) are recorded as DENIED. */
const DENIAL_CODES: ReadonlySet<ErrorCode> = new Set(['ACCESS_DENIED', 'AUTH_REQUIRED', 'AUTH_FAILED', 'AUTH_CERTIFICATE_UNTRUSTED', 'RATE_LIMITED']);

/**
 * Filled in by an operation as it learns who and what it touched. Identifiers only (names, ids,
 * fingerprints, addresses): never a password, hash or token.
 */
export interface AuditScope {
  principal: string;
  project?: string;
  detail: Record<string, string | number | boolean>;
  /** A refusal reported to the caller as "not found", so as not to reveal that the target exists. */
  hiddenDenial?: boolean;
}

export interface AuditedCall {
  readonly principal: string;
  readonly requestId: string;
  readonly operation: string;
  /**
   * Per-request authentication audits only refusals: a success is followed by the request's own
   * entry, which names the principal, and a second entry per request would say nothing new.
   */
  readonly failuresOnly?: boolean;
}

export class IdentityAudit {
  readonly #sink: AuditSink;
  readonly #clock: Clock;

  constructor(sink: AuditSink, clock: Clock) {
    this.#sink = sink;
    this.#clock = clock;
  }

  async run<T>(call: AuditedCall, detail: AuditScope['detail'], body: (scope: AuditScope) => Promise<T>): Promise<T> {
    const scope: AuditScope = { principal: call.principal, detail };
    let result: T;
    try {
      result = await body(scope);
    } catch (error) {
      const failure = toCofferError(error);
      await this.#append(call, scope, failure);
      throw failure;
    }
    if (call.failuresOnly !== true) await this.#append(call, scope, undefined);
    return result;
  }

  async #append(call: AuditedCall, scope: AuditScope, failure: CofferError | undefined): Promise<void> {
    const denied = failure !== undefined && (DENIAL_CODES.has(failure.code) || scope.hiddenDenial === true);
    try {
      await this.#sink.append({
        time: this.#clock.now().toISOString(),
        principal: scope.principal,
        operation: call.operation,
        outcome: failure === undefined ? 'ALLOWED' : denied ? 'DENIED' : 'FAILED',
        // A malformed request id is refused by the operation; the entry still needs a valid one.
        requestId: isRequestId(call.requestId) ? call.requestId : 'invalid-request-id',
        ...(scope.project === undefined ? {} : { project: scope.project }),
        ...(failure === undefined ? {} : { errorCode: failure.code }),
        ...(Object.keys(scope.detail).length === 0 ? {} : { detail: scope.detail }),
      });
    } catch (error) {
      // Fail closed: an operation whose audit entry is not durable is not answered.
      throw new CofferError('AUDIT_UNAVAILABLE', 'the audit journal could not be written', { cause: error });
    }
  }
}

function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 256;
}
