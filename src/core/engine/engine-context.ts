// What every engine operation shares: loading keys for a caller through an in-memory cache,
// preparing key versions once, the audit wrapper, and compare-and-set updates.
import { hash } from 'node:crypto';
import { prepareKey, preparePublicKey, type PreparedKey } from '../algorithms/index.ts';
import { CofferError, toCofferError } from '../errors.ts';
import type { KeyRecord, KeyVersionRecord, StoredKey } from '../key-record.ts';
import type { AuditSink, Clock, KeyRepository } from '../ports.ts';
import { authorizeKey, type KeyAction } from './authorization.ts';
import { openSealedMaterial, type ApprovedUse } from './approved-use.ts';
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

/** Hex SHA-256, through the one-shot crypto.hash (no Hash object; about 0.4 µs less per call). */
export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** Cached names come from stored records, whose names and projects were validated (no NUL). */
function nameKeyOf(project: string, name: string): string {
  return `${project}\u0000${name}`;
}

export class EngineContext {
  readonly repository: KeyRepository;
  readonly #audit: AuditSink;
  readonly clock: Clock;
  /** id → newest record seen; the cluster change feed will invalidate entries through invalidate(). */
  readonly #records = new Map<string, StoredKey>();
  /**
   * nameKey(project, name) → id, so a lookup by name costs what a lookup by id does. Sound because a
   * key's project and name never change and the repository writes a name's index entry in the same
   * commit as the record, never re-pointing it. A name could only come to mean another id if the old
   * record were purged and the name re-created, and whatever purges a key (here, or the cluster change
   * feed on another node) must call invalidate(id), which drops the entries naming that id: this map
   * is never staler than #records. Every hit is re-checked against the record's own project and name,
   * and misses are not cached (a key created elsewhere must resolve at once).
   */
  readonly #names = new Map<string, string>();
  /**
   * Bumped by invalidate(): a repository read that started before an invalidation may return the
   * state that invalidation dropped, so it is returned to its caller but not cached.
   */
  #epoch = 0;
  // The last timestamp formatted: every operation's audit entry needs one, and many share a millisecond.
  #isoMillis = Number.NaN;
  #iso = '';
  /** `${id}/${version}` → prepared crypto objects, built once per version. */
  readonly #prepared = new Map<string, PreparedKey>();

  constructor(repository: KeyRepository, audit: AuditSink, clock: Clock) {
    this.repository = repository;
    this.#audit = audit;
    this.clock = clock;
  }

  nowIso(): string {
    const now = this.clock.now();
    const millis = now.getTime();
    // NaN never equals itself, so an invalid date still reaches toISOString and throws there.
    if (millis !== this.#isoMillis) {
      this.#iso = now.toISOString();
      this.#isoMillis = millis;
    }
    return this.#iso;
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
    const epoch = this.#epoch;
    const stored = await this.repository.get(id);
    if (stored !== undefined && epoch === this.#epoch) this.remember(stored);
    return stored;
  }

  async #fetchByName(project: string, name: string): Promise<StoredKey | undefined> {
    const nameKey = nameKeyOf(project, name);
    const id = this.#names.get(nameKey);
    if (id !== undefined) {
      const stored = await this.#fetch(id);
      if (stored !== undefined && stored.record.project === project && stored.record.name === name) return stored;
      // The id is gone or no longer carries this name: forget it and ask the repository.
      if (this.#names.get(nameKey) === id) this.#names.delete(nameKey);
    }
    const epoch = this.#epoch;
    const stored = await this.repository.getByName(project, name);
    if (stored !== undefined && epoch === this.#epoch && stored.record.project === project && stored.record.name === name) {
      this.remember(stored);
      this.#names.set(nameKey, stored.record.id);
    }
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
      stored = await this.#fetchByName(ref.project, ref.name);
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
    this.#epoch += 1;
    const stored = this.#records.get(id);
    this.#records.delete(id);
    if (stored !== undefined) {
      const nameKey = nameKeyOf(stored.record.project, stored.record.name);
      if (this.#names.get(nameKey) === id) this.#names.delete(nameKey);
    } else {
      // Not cached by id (evicted or never read): find its names the slow way; invalidation is rare.
      for (const [nameKey, cachedId] of this.#names) if (cachedId === id) this.#names.delete(nameKey);
    }
    for (const cacheKey of this.#prepared.keys()) if (cacheKey.startsWith(`${id}/`)) this.#prepared.delete(cacheKey);
  }

  /**
   * The version's key, prepared once and cached. A sealed version is opened only with the grant of an
   * approved use carrying the key-approval key, prepared for that one use and never cached.
   */
  prepared(record: KeyRecord, version: KeyVersionRecord, grant?: ApprovedUse): PreparedKey {
    if (version.material === undefined && version.sealedMaterial !== undefined) {
      if (grant === undefined) throw new CofferError('APPROVAL_REQUIRED', 'the key is sealed: a use needs its approvers’ released shares');
      const material = openSealedMaterial(grant.keyApprovalKey(), record.id, version.version, version.sealedMaterial);
      try {
        return prepareKey(record.spec, material);
      } finally {
        material.fill(0);
      }
    }
    const cacheKey = `${record.id}/${version.version}`;
    let prepared = this.#prepared.get(cacheKey);
    if (prepared === undefined) {
      if (version.material === undefined) throw missingMaterial(record, version);
      prepared = prepareKey(record.spec, version.material);
      this.#prepared.set(cacheKey, prepared);
    }
    return prepared;
  }

  /** For public-key operations (verify, RSA encrypt): works for sealed keys, from the stored SPKI. */
  preparedPublic(record: KeyRecord, version: KeyVersionRecord): PreparedKey {
    if (version.material !== undefined || version.publicKey === undefined) return this.prepared(record, version);
    const cacheKey = `${record.id}/${version.version}/public`;
    let prepared = this.#prepared.get(cacheKey);
    if (prepared === undefined) {
      prepared = preparePublicKey(record.spec, version.publicKey);
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

/** A version without material: destroyed, or (a key imported from its public half) never had any. */
export function missingMaterial(record: KeyRecord, version: KeyVersionRecord): CofferError {
  if (record.state !== 'DESTROYED' && version.publicKey !== undefined) {
    return new CofferError('KEY_PUBLIC_ONLY', 'the key holds only a public key: it can verify and encrypt, not sign, decrypt or export');
  }
  return new CofferError('KEY_DESTROYED', 'the key material has been destroyed');
}
