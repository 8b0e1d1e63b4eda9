// Audit for what the VSSM layer decides itself: requests refused before any engine call (weak or
// unknown algorithm names, bad key types or sizes) and log reads. Engine operations audit themselves.
import type { Caller } from '../../core/engine/index.ts';
import { CofferError, toCofferError } from '../../core/errors.ts';
import type { NodeServices } from '../node-services.ts';

export interface VssmAuditor {
  /** Runs a check at the edge; a refusal is audited as `vssm.<operation>` before it is thrown. */
  checked<T>(check: () => T): Promise<T>;
  /** Records a successful layer-level operation (one the engine does not see), before it is answered. */
  allowed(detail: Readonly<Record<string, string | number | boolean>>): Promise<void>;
}

async function record(services: NodeServices, caller: Caller, operation: string, failure: CofferError | undefined, detail?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
  try {
    await services.node.audit.append({
      time: new Date().toISOString(),
      principal: caller.principal,
      operation,
      outcome: failure === undefined ? 'ALLOWED' : failure.code === 'ACCESS_DENIED' ? 'DENIED' : 'FAILED',
      requestId: caller.requestId,
      ...(failure === undefined ? {} : { errorCode: failure.code }),
      ...(detail === undefined ? {} : { detail }),
    });
  } catch (error) {
    // Fail closed, as the engine does: an answer whose audit entry is not durable is not sent.
    throw new CofferError('AUDIT_UNAVAILABLE', 'the audit journal could not be written', { cause: error });
  }
}

export function vssmAuditor(services: NodeServices, caller: Caller, operation: string): VssmAuditor {
  const name = `vssm.${operation}`;
  return {
    async checked<T>(check: () => T): Promise<T> {
      try {
        return check();
      } catch (error) {
        const failure = toCofferError(error);
        await record(services, caller, name, failure);
        throw failure;
      }
    },
    allowed: (detail) => record(services, caller, name, undefined, detail),
  };
}
