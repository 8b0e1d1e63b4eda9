// Quorum for officer operations: request → M signed approvals → apply once. The caller runs the
// authorised operation; quorum.policy-change is applied here, in the same commit that spends the token.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../../audit/canonical-json.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Caller } from '../../core/engine/index.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import { systemClock, type AuditSink, type Clock } from '../../core/ports.ts';
import type { Store, StoreWrite } from '../../store/index.ts';
import { ApprovalKeyRegistry, spkiFingerprint, type ApprovalKeyInfo } from './approval-key-registry.ts';
import { ApprovalTokenRepository, quorumTokenDigest, type ApprovalToken, type QuorumParameters, type StoredToken } from './approval-token.ts';
import { isQuorumOperation, POLICY_CHANGE, type QuorumOperation } from './operation-classes.ts';
import { requireOfficerName } from './officer-names.ts';
import { audited, type QuorumAuditScope } from './quorum-audit.ts';
import { parseQuorumRules, QuorumPolicyRepository, type QuorumPolicy, type QuorumRule } from './quorum-policy.ts';
import { parseApprovalPublicKey, verifyQuorumStatement } from './quorum-statement.ts';
import { isExpired, tokenStatus, viewOf, type ApprovalTokenView } from './token-view.ts';

export const DEFAULT_TOKEN_LIFETIME_MS = 10 * 60 * 1000;
/** Encoded parameters are a description of one officer operation; the bound keeps records small. */
export const MAX_PARAMETERS_BYTES = 64 * 1024;
/** Concurrent approvals of one token conflict; each retry re-reads and re-checks everything. */
const APPROVE_ATTEMPTS = 5;

export interface QuorumServiceOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly audit: AuditSink;
  readonly clock?: Clock;
  /** Token lifetime; default 10 minutes, at most a day. */
  readonly tokenLifetimeMs?: number;
}

export interface QuorumRequest {
  readonly operation: string;
  readonly parameters: QuorumParameters;
}

/** What apply() hands back: the one run of `operation` with exactly these parameters. */
export interface AuthorisedOperation {
  readonly tokenId: string;
  readonly operation: QuorumOperation;
  readonly parameters: QuorumParameters;
  readonly requester: string;
  readonly approvers: readonly string[];
  readonly digest: string;
}

function requireOfficer(actor: Caller): void {
  if (!actor.roles.includes('officer')) throw new CofferError('ACCESS_DENIED', 'only officers take part in quorum operations');
}

function describe(token: ApprovalToken, scope: QuorumAuditScope): void {
  scope.inputDigest = token.digest;
  scope.detail['tokenId'] = token.tokenId;
  scope.detail['quorumOperation'] = token.operation;
}

function parametersOf(value: unknown): QuorumParameters {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CofferError('INVALID_ARGUMENT', 'parameters must be an object');
  let encoded: string;
  try {
    encoded = canonicalJson(value);
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', 'parameters must be plain JSON', { cause: error });
  }
  if (Buffer.byteLength(encoded, 'utf8') > MAX_PARAMETERS_BYTES) throw new CofferError('INPUT_TOO_LARGE', 'parameters are too large');
  return JSON.parse(encoded) as QuorumParameters;
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export class QuorumService {
  readonly #keys: ApprovalKeyRegistry;
  readonly #policies: QuorumPolicyRepository;
  readonly #tokens: ApprovalTokenRepository;
  readonly #store: Store;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #lifetimeMs: number;

  constructor(options: QuorumServiceOptions) {
    const lifetime = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
    if (!Number.isSafeInteger(lifetime) || lifetime < 1000 || lifetime > 86_400_000) {
      throw new CofferError('INVALID_ARGUMENT', 'the token lifetime must be from one second to one day');
    }
    this.#keys = new ApprovalKeyRegistry(options.store, options.barrier);
    this.#policies = new QuorumPolicyRepository(options.store, options.barrier);
    this.#tokens = new ApprovalTokenRepository(options.store, options.barrier);
    this.#store = options.store;
    this.#audit = options.audit;
    this.#clock = options.clock ?? systemClock;
    this.#lifetimeMs = lifetime;
  }

  #run<T>(actor: Caller, operation: string, body: (scope: QuorumAuditScope) => Promise<T>): Promise<T> {
    return audited(this.#audit, this.#clock, { principal: actor.principal, requestId: actor.requestId, operation }, {}, body);
  }

  /** An officer registers (or replaces) their own approval public key: SPKI PEM text or DER bytes. */
  registerApprovalKey(actor: Caller, publicKey: string | Uint8Array): Promise<ApprovalKeyInfo> {
    return this.#run(actor, 'quorum.key.register', async (scope) => {
      requireOfficer(actor);
      const officer = requireOfficerName(actor.principal, 'the officer');
      const { algorithm, spki } = parseApprovalPublicKey(publicKey);
      const info = { officer, algorithm, fingerprint: spkiFingerprint(spki), registeredAt: this.#clock.now().toISOString() };
      scope.detail['fingerprint'] = info.fingerprint;
      scope.detail['algorithm'] = algorithm;
      await this.#keys.put(officer, spki, info.registeredAt);
      return info;
    });
  }

  async approvalKey(officer: string): Promise<ApprovalKeyInfo | undefined> {
    const key = await this.#keys.get(officer);
    return key === undefined ? undefined : { officer: key.officer, algorithm: key.algorithm, fingerprint: key.fingerprint, registeredAt: key.registeredAt };
  }

  policy(): Promise<QuorumPolicy | undefined> {
    return this.#policies.get();
  }

  /** Sets the first policy; afterwards only a quorum.policy-change token can change it. */
  initializePolicy(actor: Caller, rules: unknown): Promise<QuorumPolicy> {
    return this.#run(actor, 'quorum.policy.initialize', async () => {
      requireOfficer(actor);
      const parsed = parseQuorumRules(rules);
      try {
        await this.#store.commit([this.#policies.write(parsed, 0)]);
      } catch (error) {
        if (isCofferError(error, 'STORE_CONFLICT')) throw new CofferError('QUORUM_POLICY_EXISTS', 'a quorum policy is already set');
        throw error;
      }
      this.#policies.noteCommitted(0);
      return { version: 1, rules: parsed };
    });
  }

  async #rule(operation: QuorumOperation): Promise<{ policy: QuorumPolicy; rule: QuorumRule }> {
    const policy = await this.#policies.get();
    const rule = policy?.rules[operation];
    if (policy === undefined || rule === undefined) throw new CofferError('QUORUM_POLICY_MISSING', `no quorum policy covers ${operation}`);
    return { policy, rule };
  }

  request(actor: Caller, request: QuorumRequest): Promise<ApprovalTokenView> {
    return this.#run(actor, 'quorum.request', async (scope) => {
      requireOfficer(actor);
      const requester = requireOfficerName(actor.principal, 'the requester');
      if (!isQuorumOperation(request.operation)) throw new CofferError('INVALID_ARGUMENT', 'unknown quorum operation class');
      scope.detail['quorumOperation'] = request.operation;
      const parameters = parametersOf(request.parameters);
      // A policy change is checked when proposed, so officers never approve a policy that cannot apply.
      if (request.operation === POLICY_CHANGE) parseQuorumRules(parameters['rules']);
      const { policy, rule } = await this.#rule(request.operation);
      const now = this.#clock.now();
      const binding = {
        operation: request.operation, parameters, requester, tokenId: randomUUID(), createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.#lifetimeMs).toISOString(), policyVersion: policy.version,
      };
      const token: ApprovalToken = { ...binding, digest: quorumTokenDigest(binding), approvals: [] };
      describe(token, scope);
      scope.detail['threshold'] = rule.threshold;
      await this.#store.commit([this.#tokens.write(token, 0)]);
      this.#tokens.noteCommitted(token, 0);
      return viewOf(token, this.#clock);
    });
  }

  async #load(tokenId: string, scope: QuorumAuditScope): Promise<StoredToken> {
    scope.detail['tokenId'] = typeof tokenId === 'string' ? tokenId.slice(0, 64) : 'invalid';
    const stored = await this.#tokens.get(tokenId);
    if (stored === undefined) throw new CofferError('APPROVAL_NOT_FOUND', 'no such approval token');
    describe(stored.token, scope);
    const { token } = stored;
    if (token.usedAt !== undefined) throw new CofferError('APPROVAL_ALREADY_USED', 'the approval token has already been used');
    if (isExpired(token, this.#clock)) throw new CofferError('APPROVAL_EXPIRED', 'the approval token has expired');
    return stored;
  }

  /** The rule the token was issued under; a changed policy voids every token issued before it. */
  async #ruleFor(token: ApprovalToken): Promise<QuorumRule> {
    const { policy, rule } = await this.#rule(token.operation);
    if (policy.version !== token.policyVersion) throw new CofferError('APPROVAL_MISMATCH', 'the quorum policy changed since the token was issued');
    return rule;
  }

  approve(tokenId: string, approver: Caller, signature: Uint8Array): Promise<ApprovalTokenView> {
    return this.#run(approver, 'quorum.approve', async (scope) => {
      requireOfficer(approver);
      for (let attempt = 1; ; attempt++) {
        const { token, version } = await this.#load(tokenId, scope);
        if (approver.principal === token.requester) throw new CofferError('APPROVAL_SELF_NOT_ALLOWED', 'the requester cannot approve');
        const rule = await this.#ruleFor(token);
        scope.detail['threshold'] = rule.threshold;
        if (!rule.approvers.includes(approver.principal)) throw new CofferError('APPROVAL_NOT_APPROVER', 'not an approver of this operation class');
        if (token.approvals.some((a) => a.approver === approver.principal)) throw new CofferError('APPROVAL_DUPLICATE', 'already approved');
        const key = await this.#keys.get(approver.principal);
        if (key === undefined || !verifyQuorumStatement(key.publicKey, token.digest, signature)) {
          throw new CofferError('APPROVAL_SIGNATURE_INVALID', 'the approval signature is not valid');
        }
        const approval = { approver: approver.principal, signature: Buffer.from(signature).toString('base64url'), approvedAt: this.#clock.now().toISOString() };
        const next: ApprovalToken = { ...token, approvals: [...token.approvals, approval] };
        try {
          await this.#store.commit([this.#tokens.write(next, version)]);
        } catch (error) {
          if (isCofferError(error, 'STORE_CONFLICT') && attempt < APPROVE_ATTEMPTS) continue;
          throw error;
        }
        this.#tokens.noteCommitted(next, version);
        scope.detail['approvals'] = next.approvals.length;
        return viewOf(next, this.#clock);
      }
    });
  }

  /** Approvals that still count now: listed officers other than the requester whose current key verifies. */
  async #validApprovers(token: ApprovalToken, rule: QuorumRule): Promise<string[]> {
    const valid = new Set<string>();
    for (const approval of token.approvals) {
      if (approval.approver === token.requester || !rule.approvers.includes(approval.approver) || valid.has(approval.approver)) continue;
      const key = await this.#keys.get(approval.approver);
      if (key !== undefined && verifyQuorumStatement(key.publicKey, token.digest, Buffer.from(approval.signature, 'base64url'))) valid.add(approval.approver);
    }
    return [...valid].sort();
  }

  /**
   * Spends the token: same parameters, M valid approvals, unexpired, unused. The token is marked used
   * by compare-and-set, so of two racing appliers exactly one gets the authorised operation.
   */
  apply(actor: Caller, tokenId: string, parameters: QuorumParameters): Promise<AuthorisedOperation> {
    return this.#run(actor, 'quorum.apply', async (scope) => {
      requireOfficer(actor);
      const { token, version } = await this.#load(tokenId, scope);
      if (actor.principal !== token.requester) throw new CofferError('ACCESS_DENIED', 'only the requester applies an approved operation');
      const supplied = quorumTokenDigest({ ...token, parameters: parametersOf(parameters) });
      if (!sameDigest(supplied, token.digest)) throw new CofferError('APPROVAL_MISMATCH', 'the parameters differ from those approved');
      const rule = await this.#ruleFor(token);
      const approvers = await this.#validApprovers(token, rule);
      scope.detail['threshold'] = rule.threshold;
      scope.detail['approvals'] = approvers.length;
      if (approvers.length < rule.threshold) throw new CofferError('APPROVAL_INSUFFICIENT', 'not enough valid approvals');
      const used: ApprovalToken = { ...token, usedAt: this.#clock.now().toISOString(), usedBy: actor.principal };
      const writes: StoreWrite[] = [this.#tokens.write(used, version)];
      if (token.operation === POLICY_CHANGE) writes.push(this.#policies.write(parseQuorumRules(token.parameters['rules']), token.policyVersion));
      try {
        await this.#store.commit(writes);
      } catch (error) {
        if (!isCofferError(error, 'STORE_CONFLICT')) throw error;
        const now = await this.#tokens.get(tokenId);
        if (now?.token.usedAt !== undefined) throw new CofferError('APPROVAL_ALREADY_USED', 'the approval token has already been used');
        throw error;
      }
      this.#tokens.noteCommitted(used, version);
      if (token.operation === POLICY_CHANGE) this.#policies.noteCommitted(token.policyVersion);
      return { tokenId: token.tokenId, operation: token.operation, parameters: token.parameters, requester: token.requester, approvers, digest: token.digest };
    });
  }

  /** Tokens still waiting: neither used nor expired. */
  async list(actor: Caller): Promise<ApprovalTokenView[]> {
    requireOfficer(actor);
    const stored = await this.#tokens.list();
    return stored.filter(({ token }) => tokenStatus(token, this.#clock) === 'pending').map(({ token }) => viewOf(token, this.#clock));
  }

  async show(tokenId: string): Promise<ApprovalTokenView> {
    const stored = await this.#tokens.get(tokenId);
    if (stored === undefined) throw new CofferError('APPROVAL_NOT_FOUND', 'no such approval token');
    return viewOf(stored.token, this.#clock);
  }
}
