// Reads and compare-and-set changes of one key-use request, describing it in the call's audit scope.
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { ApprovalAuditScope } from '../approval-audit.ts';
import type { KeyUseRecord, KeyUseRequestRepository, StoredKeyUse } from './key-use-request.ts';

/** Concurrent approvals of one request conflict; each retry re-reads and re-checks everything. */
const CAS_ATTEMPTS = 8;

export function requestNotFound(): CofferError {
  return new CofferError('APPROVAL_NOT_FOUND', 'no such key-use request');
}

/** The stored request (APPROVAL_NOT_FOUND when there is none); with a scope, its id, key, project and digest go into the entry. */
export async function loadRequest(requests: KeyUseRequestRepository, requestId: string, scope?: ApprovalAuditScope): Promise<StoredKeyUse> {
  if (scope !== undefined) scope.detail['requestId'] = typeof requestId === 'string' ? requestId.slice(0, 64) : 'invalid';
  const stored = await requests.get(requestId);
  if (stored === undefined) throw requestNotFound();
  if (scope !== undefined) Object.assign(scope, { keyId: stored.record.binding.keyId, project: stored.record.project, inputDigest: stored.record.digest });
  return stored;
}

/** A compare-and-set change of one request, re-read and re-checked on every conflict. */
export async function changeRequest(
  requests: KeyUseRequestRepository, requestId: string, scope: ApprovalAuditScope | undefined, change: (record: KeyUseRecord) => Promise<KeyUseRecord>,
): Promise<StoredKeyUse> {
  for (let attempt = 1; ; attempt++) {
    const { record, version } = await loadRequest(requests, requestId, scope);
    const next = await change(record);
    try {
      return { record: next, version: await requests.put(next, version) };
    } catch (error) {
      if (!isCofferError(error, 'STORE_CONFLICT') || attempt >= CAS_ATTEMPTS) throw error;
    }
  }
}
