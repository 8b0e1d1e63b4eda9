// Approval for key use: request → M signed approvals (with released shares for sealed keys) → the
// use runs once, inside the approval that reached M, as the requester carrying a single-use grant.
// Requests live barrier-encrypted in the store; the ephemeral private keys that released shares are
// sealed to live only in this object's memory.
import { generateKeyPairSync, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Barrier } from '../../barrier/index.ts';
import { hpkeOpen } from '../../barrier/hpke-share-box.ts';
import { combineDomainKey } from '../../barrier/shamir-shares.ts';
import { ApprovedUse, type Caller, type KeyEngine } from '../../core/engine/index.ts';
import { CofferError, isCofferError, toCofferError } from '../../core/errors.ts';
import type { KeyApprovalPolicy } from '../../core/key-record.ts';
import { systemClock, type AuditSink, type Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';
import { SealedKeyRepository } from '../../store/key-repository/index.ts';
import { isOfficerName } from '../quorum/officer-names.ts';
import { ApproverKeyRegistry, parseApproverKeys } from './approver-keys.ts';
import { auditedKeyUse, NO_DENIALS, type KeyUseAuditScope } from './key-use-audit.ts';
import { keyUseRequestDigest, shareCommitment, shareReleaseInfo } from './key-use-binding.ts';
import { prepareUse } from './key-use-inputs.ts';
import { isExpired, KeyUseRequestRepository, statusOf, viewOf, type KeyUseRecord, type StoredKeyUse } from './key-use-request.ts';
import { resultOf, runUse } from './key-use-runner.ts';
import { KeySealer, type PrincipalCheck } from './key-sealer.ts';
import { verifyKeyUseStatement, type StatementKind } from './key-use-statement.ts';
import {
  DEFAULT_REQUEST_LIFETIME_SECONDS, MAX_REQUEST_LIFETIME_SECONDS, MAX_WAIT_SECONDS, MIN_REQUEST_LIFETIME_SECONDS,
  type ApproverKeysInfo, type KeyUseBinding, type KeyUseInput, type KeyUseOutcome, type KeyUseRequestOptions, type KeyUseRequestView,
  type ReleasedShare, type ShareForApprover,
} from './key-use-types.ts';

/** Finished and expired requests stay readable this long, then prune() drops them. */
export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Pruning lists every request, so it runs at most this often (from request and list). */
export const PRUNE_INTERVAL_MS = 60 * 1000;
/** Long-poll re-reads the store this often (another node may finish the request). */
export const POLL_INTERVAL_MS = 250;
/** Concurrent approvals of one request conflict; each retry re-reads and re-checks everything. */
const CAS_ATTEMPTS = 8;
const MAX_METADATA_ENTRIES = 32;
const MAX_REASON_CHARS = 512;

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

function notFound(): CofferError {
  return new CofferError('APPROVAL_NOT_FOUND', 'no such key-use request');
}

function shareInvalid(message: string): CofferError {
  return new CofferError('APPROVAL_SHARE_INVALID', message);
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function samePolicy(a: KeyApprovalPolicy | undefined, record: KeyUseRecord): boolean {
  return a !== undefined && a.threshold === record.binding.threshold && a.sealed === record.sealed
    && a.approvers.length === record.binding.approvers.length && a.approvers.every((name, i) => name === record.binding.approvers[i]);
}

function checkOptions(options: KeyUseRequestOptions): { lifetimeSeconds: number; metadata: Record<string, string> } {
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

/** A fresh X25519 key pair, raw: the public half goes into the binding, the private half stays here. */
function ephemeralKeyPair(): { publicKey: string; privateKey: Buffer } {
  const jwk = generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') throw new CofferError('INTERNAL_ERROR', 'X25519 key export failed');
  return { publicKey: jwk.x, privateKey: Buffer.from(jwk.d, 'base64url') };
}

export class KeyUseService {
  /** The engine's hooks for creating, importing and re-approving keys with approval policies. */
  readonly hooks: KeySealer;
  readonly #registry: ApproverKeyRegistry;
  readonly #requests: KeyUseRequestRepository;
  /** Reads key records below the engine for what its metadata does not show: the seal's commitments and shares. */
  readonly #keys: SealedKeyRepository;
  readonly #engine: KeyEngine;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #resolveCaller: KeyUseServiceOptions['resolveCaller'];
  readonly #retentionMs: number;
  /** requestId → the ephemeral private key of a sealed key's request: memory only, erased after run or expiry. */
  readonly #ephemeral = new Map<string, { readonly privateKey: Buffer; readonly expiresAtMs: number }>();
  /** requestId → long-polls waiting for it to finish. */
  readonly #waiters = new Map<string, Set<() => void>>();
  #lastPruneMs: number | undefined;
  #closed = false;

  constructor(options: KeyUseServiceOptions) {
    this.#registry = new ApproverKeyRegistry(options.store, options.barrier);
    this.#requests = new KeyUseRequestRepository(options.store, options.barrier);
    this.#keys = new SealedKeyRepository(options.store, options.barrier);
    this.hooks = new KeySealer(this.#registry, options.requirePrincipal);
    this.#engine = options.engine;
    this.#audit = options.audit;
    this.#clock = options.clock ?? systemClock;
    this.#resolveCaller = options.resolveCaller;
    const retention = options.retentionMs ?? DEFAULT_RETENTION_MS;
    if (!Number.isSafeInteger(retention) || retention < 0) throw new CofferError('INVALID_ARGUMENT', 'the retention must be a whole number of milliseconds');
    this.#retentionMs = retention;
  }

  #run<T>(actor: Caller, operation: string, body: (scope: KeyUseAuditScope) => Promise<T>): Promise<T> {
    return auditedKeyUse(this.#audit, this.#clock, { principal: actor.principal, requestId: actor.requestId, operation }, body);
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
      const { lifetimeSeconds, metadata } = checkOptions(options);
      const prepared = await prepareUse(this.#engine, actor, input);
      Object.assign(scope, { keyId: prepared.keyId, project: prepared.project, keyVersion: prepared.keyVersion, inputDigest: prepared.inputDigest });
      const { policy } = prepared;
      if (policy.approvers.filter((name) => name !== actor.principal).length < policy.threshold) {
        throw new CofferError('INVALID_ARGUMENT', 'too few approvers besides the requester to reach the threshold');
      }
      // Checked when proposed, so approvers never approve a change that cannot run.
      if (prepared.proposed !== undefined && prepared.proposed !== null) await this.hooks.requireApprovers(prepared.proposed);
      await this.#maybePrune(actor);
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
      if (ephemeral !== undefined) this.#ephemeral.set(requestId, { privateKey: ephemeral.privateKey, expiresAtMs: Date.parse(binding.expiresAt) });
      return viewOf(record, this.#clock);
    });
  }

  async #load(requestId: string, scope?: KeyUseAuditScope): Promise<StoredKeyUse> {
    if (scope !== undefined) scope.detail['requestId'] = typeof requestId === 'string' ? requestId.slice(0, 64) : 'invalid';
    const stored = await this.#requests.get(requestId);
    if (stored === undefined) throw notFound();
    if (scope !== undefined) Object.assign(scope, { keyId: stored.record.binding.keyId, project: stored.record.project, inputDigest: stored.record.digest });
    return stored;
  }

  /** Requester, listed approvers, officers and auditors see a request; to anyone else it does not exist. */
  #canSee(actor: Caller, record: KeyUseRecord): boolean {
    return actor.principal === record.binding.requester || record.binding.approvers.includes(actor.principal)
      || actor.roles.includes('officer') || actor.roles.includes('auditor');
  }

  /** Only a pending, unexpired request takes approvals, rejections and share fetches. */
  #requirePending(record: KeyUseRecord): void {
    if (record.status === 'rejected') throw new CofferError('APPROVAL_REJECTED', 'the request was rejected');
    if (record.status !== 'pending') throw new CofferError('APPROVAL_ALREADY_USED', 'the request is no longer pending');
    if (isExpired(record, this.#clock)) throw new CofferError('APPROVAL_EXPIRED', 'the request has expired; request the use again');
  }

  /** Who may act: a listed approver other than the requester who has not acted yet, with a valid signature. */
  async #requireApprover(actor: Caller, record: KeyUseRecord, kind: StatementKind, signature: Uint8Array): Promise<void> {
    this.#requirePending(record);
    if (actor.principal === record.binding.requester) throw new CofferError('APPROVAL_SELF_NOT_ALLOWED', 'the requester cannot approve or reject');
    if (!record.binding.approvers.includes(actor.principal)) throw new CofferError('APPROVAL_NOT_APPROVER', 'not an approver of this request');
    if (record.approvals.some((a) => a.approver === actor.principal) || record.rejections.some((r) => r.approver === actor.principal)) {
      throw new CofferError('APPROVAL_DUPLICATE', 'already approved or rejected');
    }
    const keys = await this.#registry.get(actor.principal);
    if (keys === undefined || !verifyKeyUseStatement(keys.signingKey, kind, record.digest, signature)) {
      throw new CofferError('APPROVAL_SIGNATURE_INVALID', 'the signature is not valid');
    }
  }

  /** The approver's share in the key's seal now: what a released share must match. */
  async #sealedShareOf(record: KeyUseRecord, approver: string): Promise<{ commitment: string; enc: string; ciphertext: string }> {
    const key = await this.#keys.get(record.binding.keyId);
    const share = key?.record.seal?.shares.find((s) => s.approver === approver);
    if (share === undefined) throw shareInvalid('the key holds no share for this approver');
    return share;
  }

  /** Opens a released share with the request's ephemeral key; the caller erases it. */
  async #openReleased(record: KeyUseRecord, approver: string, released: ReleasedShare | undefined): Promise<Uint8Array> {
    if (released === undefined) throw shareInvalid('a sealed key needs the approver’s released share');
    const ephemeral = this.#ephemeral.get(record.binding.requestId);
    if (ephemeral === undefined) throw shareInvalid('this node no longer holds the request’s ephemeral key (it restarted): request the use again');
    const plain = await hpkeOpen(ephemeral.privateKey, shareReleaseInfo(record.binding.requestId, approver, record.digest), released);
    if (plain === undefined) throw shareInvalid('the released share does not decrypt');
    return plain;
  }

  /** Checks a released share against the commitment in the key's seal; nothing is recorded unless it matches. */
  async #checkReleased(record: KeyUseRecord, approver: string, released: ReleasedShare | undefined): Promise<ReleasedShare> {
    const plain = await this.#openReleased(record, approver, released);
    const { enc, ciphertext } = released ?? { enc: '', ciphertext: '' };
    try {
      const { commitment } = await this.#sealedShareOf(record, approver);
      if (!sameHex(shareCommitment(record.binding.keyId, approver, plain), commitment)) throw shareInvalid('the released share does not match its commitment');
    } finally {
      plain.fill(0);
    }
    return { enc, ciphertext };
  }

  /** A compare-and-set change of one request, re-read and re-checked on every conflict. */
  async #change(requestId: string, scope: KeyUseAuditScope | undefined, change: (record: KeyUseRecord) => Promise<KeyUseRecord>): Promise<StoredKeyUse> {
    for (let attempt = 1; ; attempt++) {
      const { record, version } = await this.#load(requestId, scope);
      const next = await change(record);
      try {
        return { record: next, version: await this.#requests.put(next, version) };
      } catch (error) {
        if (!isCofferError(error, 'STORE_CONFLICT') || attempt >= CAS_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Records an approval. The one that brings the count to M also moves the request to running in the
   * same compare-and-set write, and only its writer runs the use, here, before answering.
   */
  async approve(actor: Caller, requestId: string, signature: Uint8Array, releasedShare?: ReleasedShare): Promise<KeyUseRequestView> {
    const reached = { threshold: false };
    const saved = await this.#run(actor, 'key-use.approve', async (scope) => {
      scope.detail['approver'] = actor.principal;
      const stored = await this.#change(requestId, scope, async (record) => {
        await this.#requireApprover(actor, record, 'approve', signature);
        const share = record.sealed ? await this.#checkReleased(record, actor.principal, releasedShare) : undefined;
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
    return viewOf(await this.#runApproved(actor, saved.record), this.#clock);
  }

  /** The KAK from the M released shares: opened in memory, combined, every share erased. */
  async #combine(record: KeyUseRecord): Promise<Uint8Array> {
    const shares: Uint8Array[] = [];
    try {
      for (const approval of record.approvals) shares.push(await this.#openReleased(record, approval.approver, approval.share));
      const kak = await combineDomainKey(shares, record.binding.threshold);
      if (kak === undefined) throw shareInvalid('the released shares do not combine');
      return kak;
    } finally {
      for (const share of shares) share.fill(0);
    }
  }

  /** Runs the approved use once, as the requester, then records completed or failed. */
  async #runApproved(approver: Caller, record: KeyUseRecord): Promise<KeyUseRecord> {
    const { binding } = record;
    let grant: ApprovedUse | undefined;
    let kak: Uint8Array | undefined;
    let outcome: { result?: KeyUseRecord['result']; error?: CofferError };
    try {
      // Approved under this policy: a key whose approvers changed meanwhile is not used on the old approvals.
      const key = await this.#keys.get(binding.keyId);
      if (key !== undefined && !samePolicy(key.record.policy.approval, record)) {
        throw new CofferError('APPROVAL_MISMATCH', "the key's approval policy changed since the request was made");
      }
      if (record.sealed) kak = await this.#combine(record);
      grant = new ApprovedUse({ requestId: binding.requestId, keyId: binding.keyId, use: binding.use, keyVersion: binding.keyVersion, inputDigest: binding.inputDigest }, kak);
      const requester = await this.#resolveCaller(binding.requester, approver.requestId);
      outcome = { result: await runUse(this.#engine, this.hooks, { ...requester, approval: grant }, record.input) };
    } catch (error) {
      outcome = { error: toCofferError(error) };
    } finally {
      grant?.dispose();
      kak?.fill(0);
      this.#dropEphemeral(binding.requestId);
    }
    const finished = await this.#change(binding.requestId, undefined, (current) => {
      if (current.status !== 'running') throw new CofferError('INTERNAL_ERROR', 'a running request changed under its run');
      // The released shares have served: they leave the record with the run.
      const approvals = current.approvals.map(({ share: _share, ...rest }) => rest);
      const completedAt = this.#clock.now().toISOString();
      return Promise.resolve(outcome.error === undefined
        ? { ...current, approvals, status: 'completed' as const, completedAt, ...(outcome.result === undefined ? {} : { result: outcome.result }) }
        : { ...current, approvals, status: 'failed' as const, completedAt, error: { code: outcome.error.code, message: outcome.error.message } });
    });
    this.#notify(binding.requestId);
    const call = { principal: binding.requester, requestId: approver.requestId, operation: 'key-use.outcome' };
    await auditedKeyUse(this.#audit, this.#clock, call, (scope) => {
      Object.assign(scope, { keyId: binding.keyId, project: record.project, keyVersion: binding.keyVersion, inputDigest: record.digest });
      Object.assign(scope.detail, { requestId: binding.requestId, use: binding.use, approvals: record.approvals.length });
      return outcome.error === undefined ? Promise.resolve() : Promise.reject(outcome.error);
    }, NO_DENIALS).catch((error: unknown) => {
      // The use's own refusal is already in the record; only a failed audit write is this call's failure.
      if (!(isCofferError(error) && error === outcome.error)) throw error;
    });
    return finished.record;
  }

  /** Records a rejection; it ends the request when rejectionEnds, or when M can no longer be reached. */
  async reject(actor: Caller, requestId: string, signature: Uint8Array, reason?: string): Promise<KeyUseRequestView> {
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON_CHARS || !reason.isWellFormed())) {
      throw new CofferError('INVALID_ARGUMENT', `a reason is at most ${MAX_REASON_CHARS} characters`);
    }
    const saved = await this.#run(actor, 'key-use.reject', async (scope) => {
      scope.detail['approver'] = actor.principal;
      const stored = await this.#change(requestId, scope, async (record) => {
        await this.#requireApprover(actor, record, 'reject', signature);
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
      this.#dropEphemeral(requestId);
      this.#notify(requestId);
    }
    return viewOf(saved.record, this.#clock);
  }

  // ---- reads ----

  async list(actor: Caller, role: KeyUseListRole = 'approver'): Promise<KeyUseRequestView[]> {
    await this.#maybePrune(actor);
    const all = await this.#requests.list();
    const mine = all.filter(({ record }) => (role === 'requester'
      ? record.binding.requester === actor.principal
      : statusOf(record, this.#clock) === 'pending' && record.binding.approvers.includes(actor.principal) && record.binding.requester !== actor.principal
        && !record.approvals.some((a) => a.approver === actor.principal) && !record.rejections.some((r) => r.approver === actor.principal)));
    return mine.map(({ record }) => viewOf(record, this.#clock));
  }

  async show(actor: Caller, requestId: string): Promise<KeyUseRequestView> {
    const { record } = await this.#load(requestId);
    if (!this.#canSee(actor, record)) throw notFound();
    return viewOf(record, this.#clock);
  }

  /** A listed approver's share of a sealed key's pending request: still sealed to them, with where to release it. */
  shareFor(actor: Caller, requestId: string): Promise<ShareForApprover> {
    return this.#run(actor, 'key-use.share', async (scope) => {
      const { record } = await this.#load(requestId, scope);
      if (!this.#canSee(actor, record)) throw notFound();
      if (!record.binding.approvers.includes(actor.principal)) throw new CofferError('APPROVAL_NOT_APPROVER', 'not an approver of this request');
      if (!record.sealed || record.binding.ephemeralPublicKey === undefined) throw new CofferError('INVALID_ARGUMENT', 'the key is not sealed: approvals carry no share');
      this.#requirePending(record);
      const { enc, ciphertext } = await this.#sealedShareOf(record, actor.principal);
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
        const { record } = await this.#load(requestId, scope);
        if (actor.principal !== record.binding.requester) throw notFound();
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
        await this.#waitFor(requestId, Math.min(POLL_INTERVAL_MS, remaining));
      }
    });
  }

  #waitFor(requestId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(requestId) ?? new Set<() => void>();
      this.#waiters.set(requestId, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(requestId) === waiters) this.#waiters.delete(requestId);
        resolve();
      };
      // Unref'd: a waiting long-poll never keeps the process alive.
      const timer = setTimeout(done, ms);
      timer.unref();
      waiters.add(done);
    });
  }

  #notify(requestId: string): void {
    for (const wake of [...(this.#waiters.get(requestId) ?? [])]) wake();
  }

  #dropEphemeral(requestId: string): void {
    this.#ephemeral.get(requestId)?.privateKey.fill(0);
    this.#ephemeral.delete(requestId);
  }

  // ---- housekeeping ----

  /** Drops finished and expired requests once the retention has passed since they ended; returns how many went. */
  async prune(): Promise<number> {
    const now = this.#clock.now().getTime();
    for (const [id, { expiresAtMs }] of this.#ephemeral) if (now >= expiresAtMs) this.#dropEphemeral(id);
    let pruned = 0;
    for (const { record, version } of await this.#requests.list()) {
      const ended = ENDED.has(record.status) ? record.completedAt : isExpired(record, this.#clock) ? record.binding.expiresAt : undefined;
      if (ended === undefined || now < Date.parse(ended) + this.#retentionMs) continue;
      try {
        await this.#requests.remove(record.binding.requestId, version);
        pruned += 1;
      } catch (error) {
        if (!isCofferError(error, 'STORE_CONFLICT')) throw error;
      }
    }
    return pruned;
  }

  async #maybePrune(actor: Caller): Promise<void> {
    const now = this.#clock.now().getTime();
    if (this.#lastPruneMs !== undefined && now - this.#lastPruneMs < PRUNE_INTERVAL_MS) return;
    this.#lastPruneMs = now;
    const pruned = await this.prune();
    if (pruned > 0) {
      await this.#run(actor, 'key-use.prune', (scope) => {
        scope.detail['pruned'] = pruned;
        return Promise.resolve();
      });
    }
  }

  /** Erases every ephemeral key and wakes every long-poll; the service answers no more waits. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#ephemeral.keys()]) this.#dropEphemeral(id);
    for (const id of [...this.#waiters.keys()]) this.#notify(id);
  }
}
