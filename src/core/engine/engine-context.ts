// What every engine operation shares: loading keys for a caller through an in-memory cache,
// preparing key versions once, the audit wrapper, and compare-and-set updates.
import { createHash } from 'node:crypto';
import { prepareKey, type PreparedKey } from '../algorithms/index.ts';
import { CofferError, toCofferError } from '../errors.ts';
import type { KeyRecord, KeyVersionRecord, StoredKey } from '../key-record.ts';
import type { AuditSink, Clock, KeyRepository } from '../ports.ts';
import { authorizeKey, type KeyAction } from './authorization.ts';
import type { Caller } from './caller.ts';

/** A key reference: its id, or its name inside a project. */
export type KeyRef = string | { readonly project: string; readonly name: string };

/** Filled in by an operation as it learns what it touched; becomes the audit entry's target. */
export interface AuditScope {
  project?: string;
  keyId?: string;
  keyVersion?: number;
  inputDigest?: string;
  detail?: Record<string, string | number | boolean>;
}

const UPDATE_ATTEMPTS = 3;

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export class EngineContext {
  readonly repository: KeyRepository;
  readonly #audit: AuditSink;
  readonly clock: Clock;
  /** id → newest record seen; the cluster change feed will invalidate entries through invalidate(). */
  readonly #records = new Map<string, StoredKey>();
  /** `${id}/${version}` → prepared crypto objects, built once per version. */
  readonly #prepared = new Map<string, PreparedKey>();

  constructor(repository: KeyRepository, audit: AuditSink, clock: Clock) {
    this.repository = repository;
    this.#audit = audit;
    this.clock = clock;
  }

  nowIso(): string {
    return this.clock.now().toISOString();
  }

  /** Runs an operation and writes its audit entry, allowed or not, before returning or throwing. */
  async audited<T>(caller: Caller, operation: string, scope: AuditScope, run: (scope: AuditScope) => T | Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await run(scope);
    } catch (error) {
      const failure = toCofferError(error);
      await this.#record(caller, operation, scope, failure);
      throw failure;
    }
    await this.#record(caller, operation, scope, undefined);
    return result;
  }

  async #record(caller: Caller, operation: string, scope: AuditScope, failure: CofferError | undefined): Promise<void> {
    try {
      await this.#audit.append({
        time: this.nowIso(),
        principal: caller.principal,
        operation,
        outcome: failure === undefined ? 'ALLOWED' : failure.code === 'ACCESS_DENIED' ? 'DENIED' : 'FAILED',
        requestId: caller.requestId,
        ...(scope.project === undefined ? {} : { project: scope.project }),
        ...(scope.keyId === undefined ? {} : { keyId: scope.keyId }),
        ...(scope.keyVersion === undefined ? {} : { keyVersion: scope.keyVersion }),
        ...(scope.inputDigest === undefined ? {} : { inputDigest: scope.inputDigest }),
        ...(failure === undefined ? {} : { errorCode: failure.code }),
        ...(scope.detail === undefined ? {} : { detail: scope.detail }),
      });
    } catch (error) {
      // Fail closed: an operation whose audit entry is not durable is not answered.
      throw new CofferError('AUDIT_UNAVAILABLE', 'the audit journal could not be written', { cause: error });
    }
  }

  async #fetch(id: string): Promise<StoredKey | undefined> {
    const cached = this.#records.get(id);
    if (cached !== undefined) return cached;
    const stored = await this.repository.get(id);
    if (stored !== undefined) this.#records.set(id, stored);
    return stored;
  }

  /** Loads a key by id or name and checks the caller may take `action` on it. */
  async load(caller: Caller, ref: KeyRef, action: KeyAction, scope: AuditScope): Promise<StoredKey> {
    let stored: StoredKey | undefined;
    if (typeof ref === 'string') {
      scope.keyId = ref;
      stored = await this.#fetch(ref);
    } else {
      scope.project = ref.project;
      const byName = await this.repository.getByName(ref.project, ref.name);
      if (byName !== undefined) this.remember(byName);
      stored = byName;
    }
    if (stored === undefined) throw new CofferError('KEY_NOT_FOUND', 'key not found');
    scope.keyId = stored.record.id;
    scope.project = stored.record.project;
    authorizeKey(caller, stored.record, action);
    return stored;
  }

  remember(stored: StoredKey): void {
    const current = this.#records.get(stored.record.id);
    if (current === undefined || current.revision <= stored.revision) this.#records.set(stored.record.id, stored);
  }

  /** Drops cached state for a key (another node changed it, or it was destroyed). */
  invalidate(id: string): void {
    this.#records.delete(id);
    for (const cacheKey of this.#prepared.keys()) if (cacheKey.startsWith(`${id}/`)) this.#prepared.delete(cacheKey);
  }

  prepared(record: KeyRecord, version: KeyVersionRecord): PreparedKey {
    const cacheKey = `${record.id}/${version.version}`;
    let prepared = this.#prepared.get(cacheKey);
    if (prepared === undefined) {
      if (version.material === undefined) throw new CofferError('KEY_DESTROYED', 'the key material has been destroyed');
      prepared = prepareKey(record.spec, version.material);
      this.#prepared.set(cacheKey, prepared);
    }
    return prepared;
  }

  /**
   * Read-modify-write with compare-and-set: `change` computes the new record from the current
   * one and may throw to refuse. On a concurrent change the record is re-read and `change` re-run.
   */
  async update(caller: Caller, ref: KeyRef, scope: AuditScope, change: (record: KeyRecord) => KeyRecord): Promise<KeyRecord> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.load(caller, ref, 'manage', scope);
      const next = change(stored.record);
      try {
        const saved = await this.repository.update(next, stored.revision);
        this.invalidate(saved.record.id);
        this.remember(saved);
        return saved.record;
      } catch (error) {
        if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT') || attempt >= UPDATE_ATTEMPTS) throw error;
        this.invalidate(stored.record.id);
      }
    }
  }
}
