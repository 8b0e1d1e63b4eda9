// What the directory's parts share: sealed records, audit, caches and sessions, and the
// compare-and-set commits (retried on a concurrent change) that every change goes through.
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { Caller } from '../../core/engine/index.ts';
import type { AuditSink, Clock } from '../../core/ports.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store } from '../../store/index.ts';
import { IdentityAudit, type AuditedCall } from './identity-audit.ts';
import { checkName } from './identity-validation.ts';
import { PrincipalCache } from './principal-cache.ts';
import { SealedIdentityStore, writes, type IdentityWrite } from './sealed-identity-store.ts';
import { SessionTokens } from './session-tokens.ts';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
/** Read-check-commit attempts before a STORE_CONFLICT is reported (as the engine's updates do). */
const COMMIT_ATTEMPTS = 3;

export interface ListOptions {
  /** A name: list strictly after it (paging). */
  readonly after?: string;
  /** 1 to 1000 (default 100). */
  readonly limit?: number;
}

export function checkList(options: ListOptions, what: 'principal' | 'project'): { after: string | undefined; limit: number } {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new CofferError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  return { after: options.after === undefined ? undefined : checkName(options.after, what), limit };
}

export interface DirectoryParts {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly tokenTtlSeconds: number;
  readonly maxTokens?: number | undefined;
}

export class DirectoryContext {
  readonly records: SealedIdentityStore;
  readonly audit: IdentityAudit;
  readonly cache: PrincipalCache;
  readonly tokens: SessionTokens;
  readonly clock: Clock;
  readonly #barrier: Barrier;

  constructor(parts: DirectoryParts) {
    this.#barrier = parts.barrier;
    this.clock = parts.clock;
    this.records = new SealedIdentityStore(parts.store, parts.barrier);
    this.audit = new IdentityAudit(parts.audit, parts.clock);
    this.cache = new PrincipalCache(this.records);
    this.tokens = new SessionTokens(parts.clock, parts.tokenTtlSeconds, parts.maxTokens);
  }

  now(): string {
    return this.clock.now().toISOString();
  }

  call(actor: Caller, operation: string): AuditedCall {
    return { principal: actor.principal, requestId: actor.requestId, operation };
  }

  /**
   * Records are encrypted under the domain key, and the journal closes at seal: nothing here works
   * while sealed (and is not audited: there is no journal), and sessions and caches die at seal.
   */
  requireUnsealed(): void {
    if (this.#barrier.state === 'UNSEALED') return;
    this.tokens.clear();
    this.cache.invalidate();
    if (this.#barrier.state === 'UNINITIALIZED') throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
    throw new CofferError('DOMAIN_SEALED', 'the node is sealed');
  }

  /** Any write, successful or not (an unknown outcome included), drops the authentication caches. */
  async commit(batch: readonly IdentityWrite[]): Promise<void> {
    try {
      await this.records.commit(batch);
    } finally {
      this.cache.invalidate();
    }
  }

  /** Re-reads and re-checks after a concurrent change, so a retry reports the precise reason. */
  async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (!isCofferError(error, 'STORE_CONFLICT') || n >= COMMIT_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Each project a principal joins is rewritten unchanged with compare-and-set in the same commit:
   * PROJECT_NOT_FOUND if missing, and a concurrent deleteProject conflicts instead of racing.
   */
  async projectTouches(projects: readonly string[]): Promise<IdentityWrite[]> {
    const batch: IdentityWrite[] = [];
    for (const name of projects) {
      const project = await this.records.project(name);
      if (project === undefined) throw new CofferError('PROJECT_NOT_FOUND', `project ${name} not found`);
      batch.push(writes.project(project.value, project.version));
    }
    return batch;
  }

  /**
   * A fingerprint belongs to at most one principal: INVALID_ARGUMENT if it is bound already. The index
   * entry is also created with expectVersion 0, so a race ends in a conflict and this check on retry.
   */
  async checkUnbound(fingerprints: readonly string[]): Promise<void> {
    for (const fingerprint of fingerprints) {
      if (await this.records.isFingerprintBound(fingerprint)) {
        throw new CofferError('INVALID_ARGUMENT', `certificate ${fingerprint} is already bound to a principal`);
      }
    }
  }

  /**
   * The officer roster rewritten with compare-and-set, so two officers removing each other at once
   * cannot both succeed. With `refusal`, refuses a change that would leave no active officer.
   */
  async rosterWrite(change: (ids: readonly string[]) => string[], refusal?: 'disabled' | 'deleted'): Promise<IdentityWrite> {
    const roster = await this.records.roster();
    const officers = [...new Set(change(roster.value.officers))];
    if (refusal !== undefined && officers.length === 0) {
      throw new CofferError('ACCESS_DENIED', `the last active officer cannot be ${refusal}`);
    }
    return writes.roster({ officers }, roster.version);
  }
}
