// The one run of an approved use, by the approval that reached M: the key's policy re-checked, the
// KAK combined from the released shares (sealed keys), the use run as the requester carrying a
// single-use grant, then completed or failed recorded, long-polls woken, and the run audited as
// key-use.outcome.
import { ApprovedUse, type Caller, type KeyEngine } from '../../core/engine/index.ts';
import { CofferError, isCofferError, toCofferError } from '../../core/errors.ts';
import type { KeyApprovalPolicy } from '../../core/key-record.ts';
import type { AuditSink, Clock } from '../../core/ports.ts';
import type { SealedKeyRepository } from '../../store/key-repository/index.ts';
import { auditedApprovalCall, NO_DENIALS } from '../approval-audit.ts';
import type { KeySealer } from './key-sealer.ts';
import type { KeyUseRecord, KeyUseRequestRepository } from './key-use-request.ts';
import { runUse } from './key-use-runner.ts';
import type { ReleasedShares } from './released-shares.ts';
import { changeRequest } from './request-changes.ts';
import type { RequestWaiters } from './request-waiters.ts';

/** What the run needs of the service. */
export interface ApprovedUseContext {
  readonly requests: KeyUseRequestRepository;
  readonly keys: SealedKeyRepository;
  readonly shares: ReleasedShares;
  readonly waiters: RequestWaiters;
  readonly engine: KeyEngine;
  readonly hooks: KeySealer;
  readonly audit: AuditSink;
  readonly clock: Clock;
  /** The requester's Caller now (roles, projects); throws if it was deleted or disabled. */
  readonly resolveCaller: (principal: string, requestId: string) => Promise<Caller>;
}

function samePolicy(a: KeyApprovalPolicy | undefined, record: KeyUseRecord): boolean {
  return a !== undefined && a.threshold === record.binding.threshold && a.sealed === record.sealed
    && a.approvers.length === record.binding.approvers.length && a.approvers.every((name, i) => name === record.binding.approvers[i]);
}

/** Runs the approved (running) request's use once, as the requester, then records completed or failed. */
export async function runApprovedUse(context: ApprovedUseContext, approver: Caller, record: KeyUseRecord): Promise<KeyUseRecord> {
  const { binding } = record;
  let grant: ApprovedUse | undefined;
  let kak: Uint8Array | undefined;
  let outcome: { result?: KeyUseRecord['result']; error?: CofferError };
  try {
    // Approved under this policy: a key whose approvers changed meanwhile is not used on the old approvals.
    const key = await context.keys.get(binding.keyId);
    if (key !== undefined && !samePolicy(key.record.policy.approval, record)) {
      throw new CofferError('APPROVAL_MISMATCH', "the key's approval policy changed since the request was made");
    }
    if (record.sealed) kak = await context.shares.combine(record);
    grant = new ApprovedUse({ requestId: binding.requestId, keyId: binding.keyId, use: binding.use, keyVersion: binding.keyVersion, inputDigest: binding.inputDigest }, kak);
    const requester = await context.resolveCaller(binding.requester, approver.requestId);
    outcome = { result: await runUse(context.engine, context.hooks, { ...requester, approval: grant }, record.input) };
  } catch (error) {
    outcome = { error: toCofferError(error) };
  } finally {
    grant?.dispose();
    kak?.fill(0);
    context.shares.drop(binding.requestId);
  }
  const finished = await changeRequest(context.requests, binding.requestId, undefined, (current) => {
    if (current.status !== 'running') throw new CofferError('INTERNAL_ERROR', 'a running request changed under its run');
    // The released shares have served: they leave the record with the run.
    const approvals = current.approvals.map(({ share: _share, ...rest }) => rest);
    const completedAt = context.clock.now().toISOString();
    return Promise.resolve(outcome.error === undefined
      ? { ...current, approvals, status: 'completed' as const, completedAt, ...(outcome.result === undefined ? {} : { result: outcome.result }) }
      : { ...current, approvals, status: 'failed' as const, completedAt, error: { code: outcome.error.code, message: outcome.error.message } });
  });
  context.waiters.notify(binding.requestId);
  const call = { principal: binding.requester, requestId: approver.requestId, operation: 'key-use.outcome' };
  await auditedApprovalCall(context.audit, context.clock, call, NO_DENIALS, (scope) => {
    Object.assign(scope, { keyId: binding.keyId, project: record.project, keyVersion: binding.keyVersion, inputDigest: record.digest });
    Object.assign(scope.detail, { requestId: binding.requestId, use: binding.use, approvals: record.approvals.length });
    return outcome.error === undefined ? Promise.resolve() : Promise.reject(outcome.error);
  }).catch((error: unknown) => {
    // The use's own refusal is already in the record; only a failed audit write is this call's failure.
    if (!(isCofferError(error) && error === outcome.error)) throw error;
  });
  return finished.record;
}
