// Quorum for officer operations: request → M signed approvals → apply once. Each class's handler
// (implemented by the server) checks a request and runs the operation after its token is spent;
// quorum.policy-change is applied here, in the same commit that spends the token.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../../audit/canonical-json.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Caller, Role } from '../../core/engine/index.ts';
import { CofferError, isCofferError, type ErrorCode } from '../../core/errors.ts';
import { systemClock, type AuditSink, type Clock } from '../../core/ports.ts';
import type { Store, StoreWrite } from '../../store/index.ts';
import { auditedApprovalCall, NO_DENIALS, type ApprovalAuditScope } from '../approval-audit.ts';
import { PruneThrottle, removeDue } from '../record-pruning.ts';
import { ApprovalKeyRegistry, spkiFingerprint, type ApprovalKeyInfo } from './approval-key-registry.ts';
import { ApprovalTokenRepository, quorumTokenDigest, type ApprovalToken, type QuorumParameters, type StoredToken } from './approval-token.ts';
import { isQuorumOperation, POLICY_CHANGE, type QuorumOperation } from './operation-classes.ts';
import { requireOfficerName } from './officer-names.ts';
import type { QuorumOperationHandler, QuorumOperationHandlers, QuorumSecret } from './operation-handlers.ts';
import { parseQuorumRules, QuorumPolicyRepository, type QuorumPolicy, type QuorumRule } from './quorum-policy.ts';
import { parseApprovalPublicKey, verifyQuorumStatement } from './quorum-statement.ts';
import { isExpired, tokenStatus, viewOf, type ApprovalTokenView } from './token-view.ts';

export const DEFAULT_TOKEN_LIFETIME_MS = 10 * 60 * 1000;
/** Encoded parameters are a description of one officer operation; the bound keeps records small. */
export const MAX_PARAMETERS_BYTES = 64 * 1024;
/** Concurrent approvals of one token conflict; each retry re-reads and re-checks everything. */
const APPROVE_ATTEMPTS = 5;
/** Used and expired tokens stay readable (`show`) this long after their use or expiry, then go. */
export const DEFAULT_TOKEN_RETENTION_MS = 24 * 60 * 60 * 1000;
export { PRUNE_INTERVAL_MS } from '../record-pruning.ts';

/** Refusals of the caller, as opposed to failures of the operation, are recorded as DENIED. */
const QUORUM_DENIALS: ReadonlySet<ErrorCode> = new Set([
  'ACCESS_DENIED', 'QUORUM_REQUIRED', 'APPROVAL_NOT_FOUND', 'APPROVAL_EXPIRED', 'APPROVAL_ALREADY_USED', 'APPROVAL_MISMATCH', 'APPROVAL_INSUFFICIENT',
  'APPROVAL_SELF_NOT_ALLOWED', 'APPROVAL_SIGNATURE_INVALID', 'APPROVAL_NOT_APPROVER', 'APPROVAL_DUPLICATE',
]);

export interface QuorumServiceOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly audit: AuditSink;
  readonly clock?: Clock;
  /** How each class is checked and run; classes without one cannot be requested (quorum.policy-change is built in). */
  readonly operations: QuorumOperationHandlers;
  /** Token lifetime; default 10 minutes, at most a day. */
  readonly tokenLifetimeMs?: number;
  /** How long used and expired tokens are kept before pruning; default 24 hours. */
  readonly tokenRetentionMs?: number;
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

/** What apply() returns: the authorised operation and what running it returned (null when nothing). */
export interface AppliedOperation extends AuthorisedOperation {
  readonly result: unknown;
}

/** Who may take part in a quorum.policy-change, and how its proposal is checked. */
const POLICY_CHANGE_ROLES: readonly Role[] = ['officer'];

function requireRole(actor: Caller, roles: readonly Role[], what: string): void {
  if (!actor.roles.some((role) => roles.includes(role))) throw new CofferError('ACCESS_DENIED', `the caller's role may not ${what}`);
}

function requireOfficer(actor: Caller): void {
  if (!actor.roles.includes('officer')) throw new CofferError('ACCESS_DENIED', 'only officers take part in quorum operations');
}

function describe(token: ApprovalToken, scope: ApprovalAuditScope): void {
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
  readonly #retentionMs: number;
  readonly #operations: QuorumOperationHandlers;
  /** Every role some class lets request: anyone else is refused before a token is even looked up. */
  readonly #requesterRoles: readonly Role[];
  readonly #pruning: PruneThrottle;

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
    const retention = options.tokenRetentionMs ?? DEFAULT_TOKEN_RETENTION_MS;
    if (!Number.isSafeInteger(retention) || retention < 0) throw new CofferError('INVALID_ARGUMENT', 'the token retention must be a whole number of milliseconds');
    this.#retentionMs = retention;
    this.#operations = options.operations;
    this.#requesterRoles = [...new Set([...POLICY_CHANGE_ROLES, ...Object.values(options.operations).flatMap((h) => h.requesterRoles)])];
    this.#pruning = new PruneThrottle({ audit: this.#audit, clock: this.#clock, operation: 'quorum.prune', prune: () => this.prune() });
  }

  /** The class's handler; INVALID_ARGUMENT for a class this version has no operation for. */
  #handler(operation: QuorumOperation): QuorumOperationHandler | undefined {
    if (operation === POLICY_CHANGE) return undefined;
    const handler = this.#operations[operation];
    if (handler === undefined) throw new CofferError('INVALID_ARGUMENT', `no operation for ${operation} in this version`);
    return handler;
  }

  /**
   * For the direct (unguarded) form of an operation: when the policy covers `operation`, writes a
   * DENIED entry as `audit.operation` and refuses with QUORUM_REQUIRED. Otherwise does nothing.
   */
  async requireUnguarded(actor: Caller, operation: QuorumOperation, audit: { readonly operation: string; readonly target?: string }): Promise<void> {
    const policy = await this.#policies.get();
    if (policy?.rules[operation] === undefined) return;
    const detail = { quorumOperation: operation, ...(audit.target === undefined ? {} : { target: audit.target }) };
    await auditedApprovalCall(this.#audit, this.#clock, { principal: actor.principal, requestId: actor.requestId, operation: audit.operation }, QUORUM_DENIALS, () => {
      throw new CofferError('QUORUM_REQUIRED', `the quorum policy covers ${operation}: request it with a quorum token`);
    }, detail);
  }

  #run<T>(actor: Caller, operation: string, body: (scope: ApprovalAuditScope) => Promise<T>): Promise<T> {
    return auditedApprovalCall(this.#audit, this.#clock, { principal: actor.principal, requestId: actor.requestId, operation }, QUORUM_DENIALS, body);
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
      requireRole(actor, this.#requesterRoles, 'request quorum operations');
      const requester = requireOfficerName(actor.principal, 'the requester');
      if (!isQuorumOperation(request.operation)) throw new CofferError('INVALID_ARGUMENT', 'unknown quorum operation class');
      scope.detail['quorumOperation'] = request.operation;
      const handler = this.#handler(request.operation);
      requireRole(actor, handler?.requesterRoles ?? POLICY_CHANGE_ROLES, `request ${request.operation}`);
      const parameters = parametersOf(request.parameters);
      const { policy, rule } = await this.#rule(request.operation);
      // Checked when proposed, so officers never approve an operation that cannot run.
      if (handler === undefined) parseQuorumRules(parameters['rules']);
      else await handler.validate(actor, parameters);
      await this.#pruning.maybePrune(actor);
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

  async #load(tokenId: string, scope: ApprovalAuditScope): Promise<StoredToken> {
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
   * Spends the token: same parameters, M valid approvals, unexpired, unused, and the class's secret
   * (if it takes one) matching. The token is marked used by compare-and-set, so of two racing
   * appliers exactly one goes on to run the operation, once; the other gets APPROVAL_ALREADY_USED.
   * The run is audited as quorum.outcome. A run that fails leaves the token spent: request again.
   */
  async apply(actor: Caller, tokenId: string, parameters: QuorumParameters, secret?: QuorumSecret): Promise<AppliedOperation> {
    const { authorised, handler, policyVersion } = await this.#spend(actor, tokenId, parameters, secret);
    const call = { principal: actor.principal, requestId: actor.requestId, operation: 'quorum.outcome' };
    const detail = { tokenId: authorised.tokenId, quorumOperation: authorised.operation };
    const result = await auditedApprovalCall(this.#audit, this.#clock, call, NO_DENIALS, async (scope) => {
      scope.inputDigest = authorised.digest;
      if (handler !== undefined) return handler.run(actor, authorised.parameters, secret);
      // quorum.policy-change: already written in the commit that spent the token.
      return { version: policyVersion + 1, rules: parseQuorumRules(authorised.parameters['rules']) };
    }, detail);
    return { ...authorised, result: result ?? null };
  }

  #spend(actor: Caller, tokenId: string, parameters: QuorumParameters, secret: QuorumSecret | undefined): Promise<{ authorised: AuthorisedOperation; handler: QuorumOperationHandler | undefined; policyVersion: number }> {
    return this.#run(actor, 'quorum.apply', async (scope) => {
      requireRole(actor, this.#requesterRoles, 'apply quorum operations');
      const { token, version } = await this.#load(tokenId, scope);
      if (actor.principal !== token.requester) throw new CofferError('ACCESS_DENIED', 'only the requester applies an approved operation');
      const handler = this.#handler(token.operation);
      requireRole(actor, handler?.requesterRoles ?? POLICY_CHANGE_ROLES, `apply ${token.operation}`);
      const supplied = quorumTokenDigest({ ...token, parameters: parametersOf(parameters) });
      if (!sameDigest(supplied, token.digest)) throw new CofferError('APPROVAL_MISMATCH', 'the parameters differ from those approved');
      const rule = await this.#ruleFor(token);
      const approvers = await this.#validApprovers(token, rule);
      scope.detail['threshold'] = rule.threshold;
      scope.detail['approvals'] = approvers.length;
      if (approvers.length < rule.threshold) throw new CofferError('APPROVAL_INSUFFICIENT', 'not enough valid approvals');
      // Before spending, so a mistyped secret does not burn an approved token.
      if (handler?.checkSecret !== undefined) await handler.checkSecret(token.parameters, secret);
      else if (secret !== undefined) throw new CofferError('INVALID_ARGUMENT', `${token.operation} takes no secret`);
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
      const authorised = { tokenId: token.tokenId, operation: token.operation, parameters: token.parameters, requester: token.requester, approvers, digest: token.digest };
      return { authorised, handler, policyVersion: token.policyVersion };
    });
  }

  /**
   * Deletes used and expired tokens once the retention has passed since their use or expiry; returns
   * how many went. A token changed meanwhile (a conflict) is left for the next run.
   */
  async prune(): Promise<number> {
    const now = this.#clock.now().getTime();
    return removeDue(
      await this.#tokens.list(),
      ({ token }) => tokenStatus(token, this.#clock) !== 'pending' && now >= Date.parse(token.usedAt ?? token.expiresAt) + this.#retentionMs,
      ({ token, version }) => this.#store.commit([this.#tokens.remove(token.tokenId, version)]),
    );
  }

  /** Tokens still waiting: neither used nor expired. */
  async list(actor: Caller): Promise<ApprovalTokenView[]> {
    requireOfficer(actor);
    await this.#pruning.maybePrune(actor);
    const stored = await this.#tokens.list();
    return stored.filter(({ token }) => tokenStatus(token, this.#clock) === 'pending').map(({ token }) => viewOf(token, this.#clock));
  }

  async show(tokenId: string): Promise<ApprovalTokenView> {
    const stored = await this.#tokens.get(tokenId);
    if (stored === undefined) throw new CofferError('APPROVAL_NOT_FOUND', 'no such approval token');
    return viewOf(stored.token, this.#clock);
  }
}
