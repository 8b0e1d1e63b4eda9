// The principal directory: principals, projects and how they authenticate (client certificate or
// password login for a short-lived token), every record barrier-encrypted and every call audited.
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { Caller } from '../../core/engine/index.ts';
import { systemClock, type AuditSink, type Clock } from '../../core/ports.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store } from '../../store/index.ts';
import { DirectoryContext, checkList, type ListOptions } from './directory-context.ts';
import { SYSTEM, type AuditScope } from './identity-audit.ts';
import { newPrincipalRecord, toPrincipal, type PrincipalRecord } from './identity-records.ts';
import type {
  CertificateBinding, CreatePrincipalInput, IssuedToken, Principal, PrincipalStatus, Project, UpdatePrincipalInput,
} from './identity-types.ts';
import { checkCertificates, checkName, checkProjects, checkRole, isName, PRINCIPAL_ID_PATTERN } from './identity-validation.ts';
import { LoginRateLimiter } from './login-rate-limiter.ts';
import { checkPassword, hashPassword } from './password-hash.ts';
import { PrincipalAuthentication, type LoginContext } from './principal-authentication.ts';
import { authorizeSetPassword, canSeePrincipal, isSelf, requireOfficer, requireOverseer } from './principal-authorization.ts';
import { ProjectCatalogue, type CreateProjectInput, type ProjectHasKeys } from './project-catalogue.ts';
import { newPrincipalWrites, writes, type IdentityWrite } from './sealed-identity-store.ts';

export const DEFAULT_TOKEN_TTL_SECONDS = 900;
const MIN_TOKEN_TTL_SECONDS = 60;
const MAX_TOKEN_TTL_SECONDS = 86_400;

export interface PrincipalDirectoryOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  /** The audit sink of the unsealed node: build one directory per unsealed period (README). */
  readonly audit: AuditSink;
  readonly clock?: Clock;
  /** Lifetime of a login token, 60 s to 24 h (default 900). */
  readonly tokenTtlSeconds?: number;
  /** Failed logins allowed per name and per remote address in a sliding minute (default 5). */
  readonly loginFailuresPerMinute?: number;
  /** Live login tokens held at once (default 100,000); beyond it login answers RATE_LIMITED. */
  readonly maxTokens?: number;
}

export interface BootstrapOfficerInput {
  readonly name: string;
  readonly certificates?: readonly CertificateBinding[];
  readonly password?: string;
  /** Default 'bootstrap'. */
  readonly requestId?: string;
}

function notFound(): CofferError {
  return new CofferError('PRINCIPAL_NOT_FOUND', 'principal not found');
}

/**
 * Names are identities in key policies (a key's owner, its sharedWith list): a new principal under a
 * deleted one's name would inherit its keys and grants, so the name is never given out again.
 */
function retiredName(): CofferError {
  return new CofferError('PRINCIPAL_ALREADY_EXISTS', 'the name belonged to a deleted principal and is never reused');
}

function checkTtl(value: number): number {
  if (!Number.isSafeInteger(value) || value < MIN_TOKEN_TTL_SECONDS || value > MAX_TOKEN_TTL_SECONDS) {
    throw new CofferError('INVALID_ARGUMENT', `tokenTtlSeconds must be an integer from ${MIN_TOKEN_TTL_SECONDS} to ${MAX_TOKEN_TTL_SECONDS}`);
  }
  return value;
}

function checkStatus(value: unknown): PrincipalStatus {
  if (value !== 'ACTIVE' && value !== 'DISABLED') throw new CofferError('INVALID_ARGUMENT', 'status must be ACTIVE or DISABLED');
  return value;
}

function checkDefaultProject(value: string | undefined, projects: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  if (!projects.includes(checkName(value, 'project'))) {
    throw new CofferError('INVALID_ARGUMENT', "the default project must be one of the principal's projects");
  }
  return value;
}

/** The target's name for the audit entry, only if well-formed (a malformed one is refused anyway). */
function target(name: unknown): AuditScope['detail'] {
  return isName(name) ? { target: name } : {};
}

export class PrincipalDirectory {
  readonly #context: DirectoryContext;
  readonly #projects: ProjectCatalogue;
  readonly #authentication: PrincipalAuthentication;

  constructor(options: PrincipalDirectoryOptions) {
    const clock = options.clock ?? systemClock;
    this.#context = new DirectoryContext({
      store: options.store, barrier: options.barrier, audit: options.audit, clock,
      tokenTtlSeconds: checkTtl(options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS), maxTokens: options.maxTokens,
    });
    this.#projects = new ProjectCatalogue(this.#context);
    const limiter = new LoginRateLimiter({
      clock, ...(options.loginFailuresPerMinute === undefined ? {} : { maxFailures: options.loginFailuresPerMinute }),
    });
    this.#authentication = new PrincipalAuthentication(this.#context, limiter);
  }

  /** True once any principal exists (the server bootstraps the first officer only before that). */
  hasPrincipals(): Promise<boolean> {
    return this.#context.records.hasPrincipals();
  }

  /**
   * Drops cached principals. Changes made through this directory do it themselves; in a cluster the
   * change feed must call it for changes made by other nodes.
   */
  invalidateCaches(): void {
    this.#context.cache.invalidate();
  }

  // ---- principals ----

  /** The first officer, with no actor: only while no principal exists at all (ACCESS_DENIED after). */
  async bootstrapOfficer(input: BootstrapOfficerInput): Promise<Principal> {
    this.#context.requireUnsealed();
    const call = { principal: SYSTEM, requestId: input.requestId ?? 'bootstrap', operation: 'principal.bootstrap' };
    return this.#context.audit.run(call, target(input.name), async () => {
      const name = checkName(input.name, 'principal');
      const certificates = checkCertificates(input.certificates ?? []);
      if (input.password !== undefined) checkPassword(input.password);
      const closed = (): CofferError => new CofferError('ACCESS_DENIED', 'a first officer can be bootstrapped only while no principal exists');
      if (await this.#context.records.hasPrincipals()) throw closed();
      if ((await this.#context.records.nameUse(name)) === 'retired') throw retiredName();
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      const record = newPrincipalRecord({ name, role: 'officer', projects: [], certificates, passwordHash }, this.#context.now());
      try {
        // The roster is created with expectVersion 0, so of two racing bootstraps only one commits.
        await this.#context.commit([...newPrincipalWrites(record), writes.roster({ officers: [record.id] }, 0)]);
      } catch (error) {
        if (isCofferError(error, 'STORE_CONFLICT')) throw closed();
        throw error;
      }
      return toPrincipal(record);
    });
  }

  /** Officers only. Projects must exist; certificate fingerprints must be bound to no one yet. */
  async createPrincipal(actor: Caller, input: CreatePrincipalInput): Promise<Principal> {
    this.#context.requireUnsealed();
    return this.#context.audit.run(this.#context.call(actor, 'principal.create'), target(input.name), async (scope) => {
      requireOfficer(actor, 'create principals');
      const name = checkName(input.name, 'principal');
      const role = checkRole(input.role);
      scope.detail['role'] = role;
      const projects = checkProjects(input.projects ?? []);
      const defaultProject = checkDefaultProject(input.defaultProject, projects);
      const certificates = checkCertificates(input.certificates ?? []);
      if (input.password !== undefined) checkPassword(input.password);
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      const record = newPrincipalRecord({ name, role, projects, defaultProject, certificates, passwordHash }, this.#context.now());
      await this.#context.retrying(async () => {
        const use = await this.#context.records.nameUse(name);
        if (use === 'retired') throw retiredName();
        if (use === 'taken') throw new CofferError('PRINCIPAL_ALREADY_EXISTS', 'a principal with this name already exists');
        await this.#context.checkUnbound(certificates.map((c) => c.fingerprint));
        const batch = [...newPrincipalWrites(record), ...(await this.#context.projectTouches(projects))];
        if (role === 'officer') batch.push(await this.#context.rosterWrite((ids) => [...ids, record.id]));
        await this.#context.commit(batch);
      });
      return toPrincipal(record);
    });
  }

  /** Officers and auditors see every principal; anyone else only itself (others are "not found"). */
  async getPrincipal(actor: Caller, nameOrId: string): Promise<Principal> {
    this.#context.requireUnsealed();
    return this.#context.audit.run(this.#context.call(actor, 'principal.get'), target(nameOrId), async (scope) => {
      const found = PRINCIPAL_ID_PATTERN.test(nameOrId)
        ? await this.#context.records.principal(nameOrId)
        : await this.#context.records.principalByName(checkName(nameOrId, 'principal'));
      if (found === undefined) throw notFound();
      scope.detail['target'] = found.value.name;
      if (!canSeePrincipal(actor, found.value.name)) {
        scope.hiddenDenial = true;
        throw notFound();
      }
      return toPrincipal(found.value);
    });
  }

  /** Officers and auditors: principals in name order. */
  async listPrincipals(actor: Caller, options: ListOptions = {}): Promise<Principal[]> {
    this.#context.requireUnsealed();
    return this.#context.audit.run(this.#context.call(actor, 'principal.list'), {}, async (scope) => {
      requireOverseer(actor, 'list principals');
      const { after, limit } = checkList(options, 'principal');
      const found = await this.#context.records.principalsByName(after, limit);
      scope.detail['count'] = found.length;
      return found.map(toPrincipal);
    });
  }

  /**
   * Officers only. Replaces the fields given. An officer cannot disable itself, and the last active
   * officer cannot be disabled. Disabling ends the principal's tokens. Changing projects drops a
   * default project that is no longer among them.
   */
  async updatePrincipal(actor: Caller, name: string, input: UpdatePrincipalInput): Promise<Principal> {
    this.#context.requireUnsealed();
    return this.#context.audit.run(this.#context.call(actor, 'principal.update'), target(name), async (scope) => {
      requireOfficer(actor, 'update principals');
      checkName(name, 'principal');
      const projects = input.projects === undefined ? undefined : checkProjects(input.projects);
      const certificates = input.certificates === undefined ? undefined : checkCertificates(input.certificates);
      const status = input.status === undefined ? undefined : checkStatus(input.status);
      if (projects === undefined && certificates === undefined && status === undefined && input.defaultProject === undefined) {
        throw new CofferError('INVALID_ARGUMENT', 'an update must change at least one field');
      }
      if (status !== undefined) scope.detail['status'] = status;
      if (status === 'DISABLED' && isSelf(actor, name)) throw new CofferError('ACCESS_DENIED', 'an officer cannot disable itself');
      const updated = await this.#context.retrying(async () => {
        const current = await this.#context.records.principalByName(name);
        if (current === undefined) throw notFound();
        const was = current.value;
        const nextProjects = projects ?? was.projects;
        const defaultProject = input.defaultProject !== undefined
          ? checkDefaultProject(input.defaultProject, nextProjects)
          : was.defaultProject !== undefined && nextProjects.includes(was.defaultProject) ? was.defaultProject : undefined;
        const nextCertificates = certificates ?? was.certificates;
        const oldFingerprints = new Set(was.certificates.map((c) => c.fingerprint));
        const newFingerprints = new Set(nextCertificates.map((c) => c.fingerprint));
        const added = [...newFingerprints].filter((f) => !oldFingerprints.has(f));
        const removed = [...oldFingerprints].filter((f) => !newFingerprints.has(f));
        await this.#context.checkUnbound(added);
        const next: PrincipalRecord = {
          id: was.id, name: was.name, role: was.role, projects: nextProjects,
          ...(defaultProject === undefined ? {} : { defaultProject }),
          status: status ?? was.status, certificates: nextCertificates,
          ...(was.passwordHash === undefined ? {} : { passwordHash: was.passwordHash }),
          createdAt: was.createdAt, updatedAt: this.#context.now(),
        };
        const batch: IdentityWrite[] = [
          writes.principal(next, current.version),
          ...added.map((f) => writes.certIndex(f, was.id)),
          ...removed.map((f) => writes.deleteCertIndex(f)),
          ...(await this.#context.projectTouches(nextProjects.filter((p) => !was.projects.includes(p)))),
        ];
        if (was.role === 'officer' && next.status !== was.status) {
          batch.push(await this.#context.rosterWrite((ids) => next.status === 'ACTIVE' ? [...ids, was.id] : ids.filter((id) => id !== was.id), 'disabled'));
        }
        await this.#context.commit(batch);
        return next;
      });
      if (updated.status === 'DISABLED') this.#context.tokens.revokePrincipal(updated.id);
      return toPrincipal(updated);
    });
  }

  /** Officers for anyone, anyone for itself. Ends the principal's existing tokens. */
  async setPassword(actor: Caller, name: string, password: string): Promise<void> {
    this.#context.requireUnsealed();
    await this.#context.audit.run(this.#context.call(actor, 'principal.set-password'), target(name), async () => {
      authorizeSetPassword(actor, name);
      checkName(name, 'principal');
      checkPassword(password);
      const passwordHash = await hashPassword(password);
      const id = await this.#context.retrying(async () => {
        const current = await this.#context.records.principalByName(name);
        if (current === undefined) throw notFound();
        await this.#context.commit([writes.principal({ ...current.value, passwordHash, updatedAt: this.#context.now() }, current.version)]);
        return current.value.id;
      });
      this.#context.tokens.revokePrincipal(id);
    });
  }

  /**
   * Officers only; never itself, never the last active officer. In the same commit its certificate
   * indexes go (the fingerprints may be bound again) and its name index becomes a tombstone (the
   * name may not: it still names the principal in key policies).
   */
  async deletePrincipal(actor: Caller, name: string): Promise<void> {
    this.#context.requireUnsealed();
    await this.#context.audit.run(this.#context.call(actor, 'principal.delete'), target(name), async () => {
      requireOfficer(actor, 'delete principals');
      checkName(name, 'principal');
      if (isSelf(actor, name)) throw new CofferError('ACCESS_DENIED', 'an officer cannot delete itself');
      const id = await this.#context.retrying(async () => {
        const current = await this.#context.records.principalByName(name);
        if (current === undefined) throw notFound();
        const was = current.value;
        const batch: IdentityWrite[] = [
          writes.deletePrincipal(was.id, current.version),
          writes.retireName(was.name, was.id, this.#context.now(), current.nameVersion),
          ...was.certificates.map((c) => writes.deleteCertIndex(c.fingerprint)),
        ];
        if (was.role === 'officer' && was.status === 'ACTIVE') {
          batch.push(await this.#context.rosterWrite((ids) => ids.filter((i) => i !== was.id), 'deleted'));
        }
        await this.#context.commit(batch);
        return was.id;
      });
      this.#context.tokens.revokePrincipal(id);
    });
  }

  /**
   * For the server's own checks, behind no route of its own: resolves when `name` is an ACTIVE
   * principal, else PRINCIPAL_NOT_FOUND, whether unknown, deleted or disabled, so it tells no more
   * than "exists and is active" (the key share route: a grant must name a live principal, or whoever
   * later took the name would hold it). Not audited here: the caller's operation audits the outcome.
   */
  async requireActivePrincipal(name: string): Promise<void> {
    this.#context.requireUnsealed();
    const found = await this.#context.records.principalByName(checkName(name, 'principal'));
    if (found?.value.status !== 'ACTIVE') throw notFound();
  }

  // ---- projects ----

  /** Officers only. */
  createProject(actor: Caller, input: CreateProjectInput): Promise<Project> {
    return this.#projects.create(actor, input);
  }

  /** Officers and auditors see every project; anyone else only its own (others are "not found"). */
  getProject(actor: Caller, name: string): Promise<Project> {
    return this.#projects.get(actor, name);
  }

  /** Officers and auditors: every project; anyone else: its own. In name order. */
  listProjects(actor: Caller, options: ListOptions = {}): Promise<Project[]> {
    return this.#projects.list(actor, options);
  }

  /** Officers only; PROJECT_NOT_EMPTY while any principal lists it or `hasKeys` says it has keys. */
  deleteProject(actor: Caller, name: string, hasKeys?: ProjectHasKeys): Promise<void> {
    return this.#projects.delete(actor, name, hasKeys);
  }

  // ---- authentication ----

  /**
   * The principal bound to a client certificate's fingerprint (the TLS layer has already checked the
   * chain). Unknown → AUTH_CERTIFICATE_UNTRUSTED; disabled → AUTH_FAILED. Audits refusals only.
   */
  authenticateCertificate(fingerprint: string, requestId: string): Promise<Principal> {
    return this.#authentication.certificate(fingerprint, requestId);
  }

  /**
   * Password login for a bearer token. Unknown name, wrong or missing password and disabled principal
   * all give the same AUTH_FAILED in the same time. After too many failures for the name or the
   * address, RATE_LIMITED before any hashing, even for the right password.
   */
  login(name: string, password: string, context: LoginContext): Promise<IssuedToken> {
    return this.#authentication.login(name, password, context);
  }

  /** The principal behind a login token. Unknown, expired, disabled or deleted → AUTH_FAILED. Audits refusals only. */
  authenticateToken(token: string, requestId: string): Promise<Principal> {
    return this.#authentication.token(token, requestId);
  }

  /** Ends a login token. Idempotent; audited when it ended a live session. */
  logout(token: string, requestId = 'logout'): Promise<void> {
    return this.#authentication.logout(token, requestId);
  }
}
