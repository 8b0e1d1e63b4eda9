// Approval for key use: request → M signed approvals (with released shares for sealed keys) → the
// use runs once, inside the approval that reached M, as the requester carrying a single-use grant
// (approved-use-run.ts). Requests live barrier-encrypted in the store; the ephemeral private keys that
// released shares are sealed to live only in this object's memory (released-shares.ts).
import { randomUUID } from 'node:crypto';
import type { Barrier } from '../../barrier/index.ts';
import type { Caller, KeyEngine } from '../../core/engine/index.ts';
import { CofferError, type ErrorCode } from '../../core/errors.ts';
import { systemClock, type AuditSink, type Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';
import { SealedKeyRepository } from '../../store/key-repository/index.ts';
import { auditedApprovalCall, type ApprovalAuditScope } from '../approval-audit.ts';
import { isOfficerName } from '../quorum/officer-names.ts';
import { PruneThrottle, removeDue } from '../record-pruning.ts';
import { runApprovedUse, type ApprovedUseContext } from './approved-use-run.ts';
import { ApproverKeyRegistry, parseApproverKeys } from './approver-keys.ts';
import { keyUseRequestDigest } from './key-use-binding.ts';
import { prepareUse } from './key-use-inputs.ts';
import { isExpired, KeyUseRequestRepository, statusOf, viewOf, type KeyUseRecord } from './key-use-request.ts';
import { resultOf } from './key-use-runner.ts';
import { KeySealer, type PrincipalCheck } from './key-sealer.ts';
import {
  MAX_WAIT_SECONDS, type ApproverKeysInfo, type KeyUseBinding, type KeyUseInput, type KeyUseOutcome, type KeyUseRequestOptions, type KeyUseRequestView,
  type ReleasedShare, type ShareForApprover,
} from './key-use-types.ts';
import { ephemeralKeyPair, ReleasedShares } from './released-shares.ts';
import { canSee, checkReason, checkRequestOptions, requireApprover, requirePending } from './request-checks.ts';
import { changeRequest, loadRequest, requestNotFound } from './request-changes.ts';
import { RequestWaiters } from './request-waiters.ts';

export { PRUNE_INTERVAL_MS } from '../record-pruning.ts';

/** Finished and expired requests stay readable this long, then prune() drops them. */
export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Long-poll re-reads the store this often (another node may finish the request). */
export const POLL_INTERVAL_MS = 250;

/** Refusals of the caller, as opposed to failures of the operation, are recorded as DENIED. */
const KEY_USE_DENIALS: ReadonlySet<ErrorCode> = new Set([
  'ACCESS_DENIED', 'APPROVAL_NOT_FOUND', 'APPROVAL_EXPIRED', 'APPROVAL_ALREADY_USED', 'APPROVAL_REJECTED', 'APPROVAL_SELF_NOT_ALLOWED',
  'APPROVAL_NOT_APPROVER', 'APPROVAL_DUPLICATE', 'APPROVAL_SIGNATURE_INVALID', 'APPROVAL_SHARE_INVALID',
]);

export interface KeyUseServiceOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly audit: AuditSink;
  readonly engine: KeyEngine;
  readonly clock?: Clock;
  /** The requester's Caller now (roles, projects); throws if it was deleted or disabled. */
  readonly resolveCaller: (principal: string, requestId: string) => Promise<Caller>;
  /** Resolves when `name` is an active principal (PRINCIPAL_NOT_FOUND otherwise). */
  readonly requirePrincipal: PrincipalCheck;
  readonly retentionMs?: number;
}

export type KeyUseListRole = 'approver' | 'requester';

const ENDED = new Set(['completed', 'failed', 'rejected']);

export class KeyUseService {
  /** The engine's hooks for creating, importing and re-approving keys with approval policies. */
  readonly hooks: KeySealer;
  readonly #registry: ApproverKeyRegistry;
  readonly #requests: KeyUseRequestRepository;
  readonly #engine: KeyEngine;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #shares: ReleasedShares;
  readonly #waiters = new RequestWaiters();
  readonly #pruning: PruneThrottle;
  /** What the run of an approved use needs (approved-use-run.ts). */
  readonly #runContext: ApprovedUseContext;
  #closed = false;

  constructor(options: KeyUseServiceOptions) {
    this.#registry = new ApproverKeyRegistry(options.store, options.barrier);
    this.#requests = new KeyUseRequestRepository(options.store, options.barrier);
    // Reads key records below the engine for what its metadata does not show: the seal's commitments and shares.
    const keys = new SealedKeyRepository(options.store, options.barrier);
    this.#shares = new ReleasedShares(keys);
    this.hooks = new KeySealer(this.#registry, options.requirePrincipal);
    this.#engine = options.engine;
    this.#audit = options.audit;
    this.#clock = options.clock ?? systemClock;
    const retention = options.retentionMs ?? DEFAULT_RETENTION_MS;
    if (!Number.isSafeInteger(retention) || retention < 0) throw new CofferError('INVALID_ARGUMENT', 'the retention must be a whole number of milliseconds');
    this.#retentionMs = retention;
    this.#pruning = new PruneThrottle({ audit: this.#audit, clock: this.#clock, operation: 'key-use.prune', prune: () => this.prune() });
    this.#runContext = {
      requests: this.#requests, keys, shares: this.#shares, waiters: this.#waiters, engine: this.#engine, hooks: this.hooks,
      audit: this.#audit, clock: this.#clock, resolveCaller: options.resolveCaller,
    };
  }

  #run<T>(actor: Caller, operation: string, body: (scope: ApprovalAuditScope) => Promise<T>): Promise<T> {
    return auditedApprovalCall(this.#audit, this.#clock, { principal: actor.principal, requestId: actor.requestId, operation }, KEY_USE_DENIALS, body);
  }

  // ---- approver keys ----

  /** A principal (user, officer, service) registers or replaces its own signing key and optional X25519 share key. */
  registerApproverKeys(actor: Caller, keys: { readonly signingKey: string | Uint8Array; readonly shareKey?: string }): Promise<ApproverKeysInfo> {
    return this.#run(actor, 'key-use.approver-keys.register', async (scope) => {
      if (!actor.roles.some((role) => role === 'user' || role === 'officer' || role === 'service')) {
        throw new CofferError('ACCESS_DENIED', 'only users, officers and services approve key use');
      }
      if (!isOfficerName(actor.principal)) throw new CofferError('INVALID_ARGUMENT', 'the principal name cannot hold approver keys');
      const parsed = parseApproverKeys(keys.signingKey, keys.shareKey);
      await this.#registry.put(actor.principal, parsed, this.#clock.now().toISOString());
      const info = await this.approverKeys(actor.principal);
      scope.detail['signingFingerprint'] = info.signingFingerprint;
      scope.detail['shareKey'] = info.shareKey !== undefined;
      return info;
    });
  }

  async approverKeys(principal: string): Promise<ApproverKeysInfo> {
    const keys = await this.#registry.get(principal);
    if (keys === undefined) throw new CofferError('APPROVER_KEY_MISSING', 'the principal has not registered approver keys');
    return keys.info;
  }

  // ---- requests ----

  request(actor: Caller, input: KeyUseInput, options: KeyUseRequestOptions = {}): Promise<KeyUseRequestView> {
    return this.#run(actor, 'key-use.request', async (scope) => {
      scope.detail['use'] = typeof input.use === 'string' ? input.use.slice(0, 32) : 'invalid';
      const { lifetimeSeconds, metadata } = checkRequestOptions(options);
      const prepared = await prepareUse(this.#engine, actor, input);
      Object.assign(scope, { keyId: prepared.keyId, project: prepared.project, keyVersion: prepared.keyVersion, inputDigest: prepared.inputDigest });
      const { policy } = prepared;
      if (policy.approvers.filter((name) => name !== actor.principal).length < policy.threshold) {
        throw new CofferError('INVALID_ARGUMENT', 'too few approvers besides the requester to reach the threshold');
      }
      // Checked when proposed, so approvers never approve a change that cannot run.
      if (prepared.proposed !== undefined && prepared.proposed !== null) await this.hooks.requireApprovers(prepared.proposed);
      await this.#pruning.maybePrune(actor);
      const now = this.#clock.now();
      const requestId = randomUUID();
      const ephemeral = policy.sealed ? ephemeralKeyPair() : undefined;
      const binding: KeyUseBinding = {
        requestId, use: input.use, keyId: prepared.keyId, keyVersion: prepared.keyVersion, inputDigest: prepared.inputDigest, requester: actor.principal,
        createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + lifetimeSeconds * 1000).toISOString(),
        threshold: policy.threshold, approvers: [...policy.approvers], metadata,
        ...(ephemeral === undefined ? {} : { ephemeralPublicKey: ephemeral.publicKey }),
      };
      const record: KeyUseRecord = {
        binding, digest: keyUseRequestDigest(binding), project: prepared.project, sealed: policy.sealed, rejectionEnds: policy.rejectionEnds,
        input: prepared.input, approvals: [], rejections: [], status: 'pending',
      };
      scope.detail['requestId'] = requestId;
      scope.detail['threshold'] = policy.threshold;
      try {
        await this.#requests.put(record, 0);
      } catch (error) {
        ephemeral?.privateKey.fill(0);
        throw error;
      }
      if (ephemeral !== undefined) this.#shares.hold(requestId, ephemeral.privateKey, Date.parse(binding.expiresAt));
      return viewOf(record, this.#clock);
    });
  }

  /**
   * Records an approval. The one that brings the count to M also moves the request to running in the
   * same compare-and-set write, and only its writer runs the use, here, before answering.
   */
  async approve(actor: Caller, requestId: string, signature: Uint8Array, releasedShare?: ReleasedShare): Promise<KeyUseRequestView> {
    const reached = { threshold: false };
    const saved = await this.#run(actor, 'key-use.approve', async (scope) => {
      scope.detail['approver'] = actor.principal;
      const stored = await changeRequest(this.#requests, requestId, scope, async (record) => {
        await requireApprover(this.#registry, this.#clock, actor, record, 'approve', signature);
        const share = record.sealed ? await this.#shares.check(record, actor.principal, releasedShare) : undefined;
        const approval = {
          approver: actor.principal, signature: Buffer.from(signature).toString('base64url'), approvedAt: this.#clock.now().toISOString(),
          ...(share === undefined ? {} : { share }),
        };
        const approvals = [...record.approvals, approval];
        reached.threshold = approvals.length >= record.binding.threshold;
        return { ...record, approvals, status: reached.threshold ? 'running' : 'pending' };
      });
      scope.detail['count'] = stored.record.approvals.length;
      return stored;
    });
    if (!reached.threshold) return viewOf(saved.record, this.#clock);
    return viewOf(await runApprovedUse(this.#runContext, actor, saved.record), this.#clock);
  }

  /** Records a rejection; it ends the request when rejectionEnds, or when M can no longer be reached. */
  async reject(actor: Caller, requestId: string, signature: Uint8Array, reason?: string): Promise<KeyUseRequestView> {
    checkReason(reason);
    const saved = await this.#run(actor, 'key-use.reject', async (scope) => {
      scope.detail['approver'] = actor.principal;
      const stored = await changeRequest(this.#requests, requestId, scope, async (record) => {
        await requireApprover(this.#registry, this.#clock, actor, record, 'reject', signature);
        const rejection = { approver: actor.principal, signature: Buffer.from(signature).toString('base64url'), rejectedAt: this.#clock.now().toISOString(), ...(reason === undefined ? {} : { reason }) };
        const rejections = [...record.rejections, rejection];
        const eligible = record.binding.approvers.filter((name) => name !== record.binding.requester).length;
        const ends = record.rejectionEnds || eligible - rejections.length < record.binding.threshold;
        return ends ? { ...record, rejections, status: 'rejected' as const, completedAt: rejection.rejectedAt } : { ...record, rejections };
      });
      scope.detail['count'] = stored.record.rejections.length;
      return stored;
    });
    if (saved.record.status === 'rejected') {
      this.#shares.drop(requestId);
      this.#waiters.notify(requestId);
    }
    return viewOf(saved.record, this.#clock);
  }

  // ---- reads ----

  async list(actor: Caller, role: KeyUseListRole = 'approver'): Promise<KeyUseRequestView[]> {
    await this.#pruning.maybePrune(actor);
    const all = await this.#requests.list();
    const mine = all.filter(({ record }) => (role === 'requester'
      ? record.binding.requester === actor.principal
      : statusOf(record, this.#clock) === 'pending' && record.binding.approvers.includes(actor.principal) && record.binding.requester !== actor.principal
        && !record.approvals.some((a) => a.approver === actor.principal) && !record.rejections.some((r) => r.approver === actor.principal)));
    return mine.map(({ record }) => viewOf(record, this.#clock));
  }

  async show(actor: Caller, requestId: string): Promise<KeyUseRequestView> {
    const { record } = await loadRequest(this.#requests, requestId);
    if (!canSee(actor, record)) throw requestNotFound();
    return viewOf(record, this.#clock);
  }

  /** A listed approver's share of a sealed key's pending request: still sealed to them, with where to release it. */
  shareFor(actor: Caller, requestId: string): Promise<ShareForApprover> {
    return this.#run(actor, 'key-use.share', async (scope) => {
      const { record } = await loadRequest(this.#requests, requestId, scope);
      if (!canSee(actor, record)) throw requestNotFound();
      if (!record.binding.approvers.includes(actor.principal)) throw new CofferError('APPROVAL_NOT_APPROVER', 'not an approver of this request');
      if (!record.sealed || record.binding.ephemeralPublicKey === undefined) throw new CofferError('INVALID_ARGUMENT', 'the key is not sealed: approvals carry no share');
      requirePending(record, this.#clock);
      const { enc, ciphertext } = await this.#shares.sealedShareOf(record, actor.principal);
      return {
        requestId: record.binding.requestId, keyId: record.binding.keyId, approver: actor.principal, ephemeralPublicKey: record.binding.ephemeralPublicKey,
        digest: record.digest, share: { enc, ciphertext },
      };
    });
  }

  /**
   * The requester's view of the outcome. With waitSeconds > 0 it answers as soon as the request leaves
   * pending/running (notified in process, else polled) or when the wait ends. A rejected request is
   * APPROVAL_REJECTED.
   */
  outcome(actor: Caller, requestId: string, waitSeconds = 0): Promise<KeyUseOutcome> {
    return this.#run(actor, 'key-use.result', async (scope) => {
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > MAX_WAIT_SECONDS) {
        throw new CofferError('INVALID_ARGUMENT', `waitSeconds must be from 0 to ${MAX_WAIT_SECONDS}`);
      }
      const deadline = performance.now() + waitSeconds * 1000;
      for (;;) {
        const { record } = await loadRequest(this.#requests, requestId, scope);
        if (actor.principal !== record.binding.requester) throw requestNotFound();
        const status = statusOf(record, this.#clock);
        const remaining = deadline - performance.now();
        if ((status !== 'pending' && status !== 'running') || remaining <= 0 || this.#closed) {
          scope.detail['status'] = status;
          if (status === 'rejected') throw new CofferError('APPROVAL_REJECTED', 'the request was rejected');
          return {
            status,
            ...(record.result === undefined ? {} : { result: resultOf(record.result) }),
            ...(record.error === undefined ? {} : { error: { ...record.error } }),
          };
        }
        await this.#waiters.waitFor(requestId, Math.min(POLL_INTERVAL_MS, remaining));
      }
    });
  }

  // ---- housekeeping ----

  /** Drops finished and expired requests once the retention has passed since they ended; returns how many went. */
  async prune(): Promise<number> {
    const now = this.#clock.now().getTime();
    this.#shares.dropExpired(now);
    return removeDue(await this.#requests.list(), ({ record }) => {
      const ended = ENDED.has(record.status) ? record.completedAt : isExpired(record, this.#clock) ? record.binding.expiresAt : undefined;
      return ended !== undefined && now >= Date.parse(ended) + this.#retentionMs;
    }, ({ record, version }) => this.#requests.remove(record.binding.requestId, version));
  }

  /** Erases every ephemeral key and wakes every long-poll; the service answers no more waits. */
  close(): void {
    this.#closed = true;
    this.#shares.dropAll();
    this.#waiters.notifyAll();
  }
}
