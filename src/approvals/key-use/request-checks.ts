// What a key-use request and the calls on it must satisfy: the request's options, who sees it, and who
// may approve or reject it while it is pending.
import type { Caller } from '../../core/engine/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { ApproverKeyRegistry } from './approver-keys.ts';
import { isExpired, type KeyUseRecord } from './key-use-request.ts';
import { verifyKeyUseStatement, type StatementKind } from './key-use-statement.ts';
import {
  DEFAULT_REQUEST_LIFETIME_SECONDS, MAX_REQUEST_LIFETIME_SECONDS, MIN_REQUEST_LIFETIME_SECONDS, type KeyUseRequestOptions,
} from './key-use-types.ts';

const MAX_METADATA_ENTRIES = 32;
const MAX_REASON_CHARS = 512;

/** The request's lifetime (default filled in) and metadata, checked against their bounds. */
export function checkRequestOptions(options: KeyUseRequestOptions): { lifetimeSeconds: number; metadata: Record<string, string> } {
  const lifetimeSeconds = options.expiresInSeconds ?? DEFAULT_REQUEST_LIFETIME_SECONDS;
  if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds < MIN_REQUEST_LIFETIME_SECONDS || lifetimeSeconds > MAX_REQUEST_LIFETIME_SECONDS) {
    throw new CofferError('INVALID_ARGUMENT', `expiresInSeconds must be from ${MIN_REQUEST_LIFETIME_SECONDS} to ${MAX_REQUEST_LIFETIME_SECONDS}`);
  }
  const entries = Object.entries(options.metadata ?? {});
  if (entries.length > MAX_METADATA_ENTRIES) throw new CofferError('INVALID_ARGUMENT', `metadata holds at most ${MAX_METADATA_ENTRIES} entries`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 64 || !k.isWellFormed() || typeof v !== 'string' || v.length > 1024 || !v.isWellFormed()) {
      throw new CofferError('INVALID_ARGUMENT', 'metadata keys are 1-64 characters and values strings of at most 1024');
    }
  }
  return { lifetimeSeconds, metadata: Object.fromEntries(entries) };
}

/** A rejection's optional reason: a well-formed string of at most MAX_REASON_CHARS. */
export function checkReason(reason: string | undefined): void {
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON_CHARS || !reason.isWellFormed())) {
    throw new CofferError('INVALID_ARGUMENT', `a reason is at most ${MAX_REASON_CHARS} characters`);
  }
}

/** Requester, listed approvers, officers and auditors see a request; to anyone else it does not exist. */
export function canSee(actor: Caller, record: KeyUseRecord): boolean {
  return actor.principal === record.binding.requester || record.binding.approvers.includes(actor.principal)
    || actor.roles.includes('officer') || actor.roles.includes('auditor');
}

/** Only a pending, unexpired request takes approvals, rejections and share fetches. */
export function requirePending(record: KeyUseRecord, clock: Clock): void {
  if (record.status === 'rejected') throw new CofferError('APPROVAL_REJECTED', 'the request was rejected');
  if (record.status !== 'pending') throw new CofferError('APPROVAL_ALREADY_USED', 'the request is no longer pending');
  if (isExpired(record, clock)) throw new CofferError('APPROVAL_EXPIRED', 'the request has expired; request the use again');
}

/** Who may act: a listed approver other than the requester who has not acted yet, with a valid signature. */
export async function requireApprover(
  registry: ApproverKeyRegistry, clock: Clock, actor: Caller, record: KeyUseRecord, kind: StatementKind, signature: Uint8Array,
): Promise<void> {
  requirePending(record, clock);
  if (actor.principal === record.binding.requester) throw new CofferError('APPROVAL_SELF_NOT_ALLOWED', 'the requester cannot approve or reject');
  if (!record.binding.approvers.includes(actor.principal)) throw new CofferError('APPROVAL_NOT_APPROVER', 'not an approver of this request');
  if (record.approvals.some((a) => a.approver === actor.principal) || record.rejections.some((r) => r.approver === actor.principal)) {
    throw new CofferError('APPROVAL_DUPLICATE', 'already approved or rejected');
  }
  const keys = await registry.get(actor.principal);
  if (keys === undefined || !verifyKeyUseStatement(keys.signingKey, kind, record.digest, signature)) {
    throw new CofferError('APPROVAL_SIGNATURE_INVALID', 'the signature is not valid');
  }
}
