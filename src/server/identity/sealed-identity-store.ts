// Principals, projects and their indexes over any Store, every record encrypted by the barrier and
// bound to its kind, path and version (as the sealed key repository does), written in atomic commits.
import { CofferError } from '../../core/errors.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store, StoreEntry, StoreWrite } from '../../store/index.ts';
import {
  decodeIndex, decodeNameIndex, decodePrincipal, decodeProject, decodeRoster, encodeIndex, encodeNameTombstone, encodePrincipal,
  encodeProject, encodeRoster, type NameIndex, type OfficerRoster, type PrincipalRecord, type ProjectRecord,
} from './identity-records.ts';

export type RecordKind = 'principal' | 'principal-name' | 'principal-cert' | 'project' | 'officer-roster';

const PRINCIPAL_PREFIX = 'principal/';
const NAME_PREFIX = 'principal-name/';
const CERT_PREFIX = 'principal-cert/';
const PROJECT_PREFIX = 'project/';
const ROSTER_PATH = 'identity/officer-roster';
const SCAN_PAGE = 256;

const principalPath = (id: string): string => `${PRINCIPAL_PREFIX}${id}`;
const namePath = (name: string): string => `${NAME_PREFIX}${name}`;
const certPath = (fingerprint: string): string => `${CERT_PREFIX}${fingerprint}`;
const projectPath = (name: string): string => `${PROJECT_PREFIX}${name}`;

export interface Versioned<T> {
  readonly value: T;
  /** The store entry's version, which the record is bound to and the next write expects. */
  readonly version: number;
}

/** A principal found by name, with the version of its name index entry (which a deletion retires). */
export interface NamedPrincipal extends Versioned<PrincipalRecord> {
  readonly nameVersion: number;
}

/** Whether a name can be given to a new principal: `retired` names belonged to deleted principals. */
export type NameUse = 'free' | 'taken' | 'retired';

/**
 * One write of a commit, in plaintext; `commit` encrypts puts at version expectVersion + 1. A delete
 * without expectVersion is unconditional: used only for index entries of a principal whose own
 * record is deleted with compare-and-set in the same commit, which no other commit can touch.
 */
export type IdentityWrite =
  | { readonly op: 'put'; readonly kind: RecordKind; readonly path: string; readonly plaintext: Uint8Array; readonly expectVersion: number }
  | { readonly op: 'delete'; readonly kind: RecordKind; readonly path: string; readonly expectVersion?: number };

export const writes = {
  principal: (record: PrincipalRecord, expectVersion: number): IdentityWrite =>
    ({ op: 'put', kind: 'principal', path: principalPath(record.id), plaintext: encodePrincipal(record), expectVersion }),
  deletePrincipal: (id: string, expectVersion: number): IdentityWrite => ({ op: 'delete', kind: 'principal', path: principalPath(id), expectVersion }),
  /** Created with expectVersion 0: a taken name makes the whole commit fail. */
  nameIndex: (name: string, id: string): IdentityWrite =>
    ({ op: 'put', kind: 'principal-name', path: namePath(name), plaintext: encodeIndex(id), expectVersion: 0 }),
  /**
   * Replaces the name index entry of a deleted principal with a tombstone, never removed: the name
   * stays taken (createPrincipal refuses it) and reads as no principal.
   */
  retireName: (name: string, id: string, deletedAt: string, expectVersion: number): IdentityWrite =>
    ({ op: 'put', kind: 'principal-name', path: namePath(name), plaintext: encodeNameTombstone(id, deletedAt), expectVersion }),
  /** Created with expectVersion 0: a fingerprint bound to anyone makes the whole commit fail. */
  certIndex: (fingerprint: string, id: string): IdentityWrite =>
    ({ op: 'put', kind: 'principal-cert', path: certPath(fingerprint), plaintext: encodeIndex(id), expectVersion: 0 }),
  deleteCertIndex: (fingerprint: string): IdentityWrite => ({ op: 'delete', kind: 'principal-cert', path: certPath(fingerprint) }),
  project: (record: ProjectRecord, expectVersion: number): IdentityWrite =>
    ({ op: 'put', kind: 'project', path: projectPath(record.name), plaintext: encodeProject(record), expectVersion }),
  deleteProject: (name: string, expectVersion: number): IdentityWrite => ({ op: 'delete', kind: 'project', path: projectPath(name), expectVersion }),
  roster: (roster: OfficerRoster, expectVersion: number): IdentityWrite =>
    ({ op: 'put', kind: 'officer-roster', path: ROSTER_PATH, plaintext: encodeRoster(roster), expectVersion }),
};

/** A new principal with its name index and one index entry per certificate, for one commit. */
export function newPrincipalWrites(record: PrincipalRecord): IdentityWrite[] {
  return [
    writes.principal(record, 0),
    writes.nameIndex(record.name, record.id),
    ...record.certificates.map((c) => writes.certIndex(c.fingerprint, record.id)),
  ];
}

function integrityFailed(): CofferError {
  return new CofferError('BARRIER_INTEGRITY_FAILED', 'a stored record failed authentication');
}

export class SealedIdentityStore {
  readonly #store: Store;
  readonly #barrier: Barrier;

  constructor(store: Store, barrier: Barrier) {
    this.#store = store;
    this.#barrier = barrier;
  }

  #open(entry: StoreEntry, kind: RecordKind): Uint8Array {
    return this.#barrier.decryptRecord(kind, entry.key, entry.version, entry.value);
  }

  #principalFrom(entry: StoreEntry): Versioned<PrincipalRecord> {
    const value = decodePrincipal(this.#open(entry, 'principal'));
    // The path is authenticated as associated data; the id inside must agree with it.
    if (entry.key !== principalPath(value.id)) throw integrityFailed();
    return { value, version: entry.version };
  }

  async principal(id: string): Promise<Versioned<PrincipalRecord> | undefined> {
    const entry = await this.#store.get(principalPath(id));
    return entry === undefined ? undefined : this.#principalFrom(entry);
  }

  #nameIndex(entry: StoreEntry): NameIndex {
    return decodeNameIndex(this.#open(entry, 'principal-name'));
  }

  /** The live principal a name index entry points to; undefined for a tombstone or a dangling entry. */
  async #viaNameIndex(entry: StoreEntry): Promise<Versioned<PrincipalRecord> | undefined> {
    const index = this.#nameIndex(entry);
    if (index.retired) return undefined;
    const found = await this.principal(index.id);
    // The path is authenticated; the principal it leads to must carry that name.
    if (found !== undefined && entry.key !== namePath(found.value.name)) throw integrityFailed();
    return found;
  }

  /** A retired name (its principal deleted) reads as no principal, like an unknown one. */
  async principalByName(name: string): Promise<NamedPrincipal | undefined> {
    const entry = await this.#store.get(namePath(name));
    if (entry === undefined) return undefined;
    const found = await this.#viaNameIndex(entry);
    return found === undefined ? undefined : { ...found, nameVersion: entry.version };
  }

  async principalByFingerprint(fingerprint: string): Promise<Versioned<PrincipalRecord> | undefined> {
    const entry = await this.#store.get(certPath(fingerprint));
    if (entry === undefined) return undefined;
    const found = await this.principal(decodeIndex(this.#open(entry, 'principal-cert')));
    if (found !== undefined && !found.value.certificates.some((c) => c.fingerprint === fingerprint)) throw integrityFailed();
    return found;
  }

  /**
   * Principals in name order, after the name `after`, at most `limit`. Tombstones are skipped, and
   * reading goes on past them, so a short page still means the end of the list (the routes' paging).
   */
  async principalsByName(after: string | undefined, limit: number): Promise<PrincipalRecord[]> {
    const found: PrincipalRecord[] = [];
    let cursor = after === undefined ? undefined : namePath(after);
    while (found.length < limit) {
      const entries = await this.#store.list(NAME_PREFIX, { ...(cursor === undefined ? {} : { after: cursor }), limit });
      for (const entry of entries) {
        const principal = await this.#viaNameIndex(entry);
        if (principal !== undefined) found.push(principal.value);
        if (found.length === limit) return found;
      }
      if (entries.length < limit) return found;
      cursor = entries.at(-1)?.key;
    }
    return found;
  }

  /** Every principal, in id order, read a page at a time. */
  async *allPrincipals(): AsyncGenerator<PrincipalRecord> {
    let after: string | undefined;
    for (;;) {
      const page = await this.#store.list(PRINCIPAL_PREFIX, { ...(after === undefined ? {} : { after }), limit: SCAN_PAGE });
      for (const entry of page) yield this.#principalFrom(entry).value;
      if (page.length < SCAN_PAGE) return;
      after = page.at(-1)?.key;
    }
  }

  /** A name with any index entry (live, dangling or a tombstone) cannot be taken anew. */
  async nameUse(name: string): Promise<NameUse> {
    const entry = await this.#store.get(namePath(name));
    if (entry === undefined) return 'free';
    return this.#nameIndex(entry).retired ? 'retired' : 'taken';
  }

  /** Whether the fingerprint's index entry exists, dangling or not: either way it cannot be bound anew. */
  async isFingerprintBound(fingerprint: string): Promise<boolean> {
    return (await this.#store.get(certPath(fingerprint))) !== undefined;
  }

  async hasPrincipals(): Promise<boolean> {
    return (await this.#store.list(PRINCIPAL_PREFIX, { limit: 1 })).length > 0;
  }

  async project(name: string): Promise<Versioned<ProjectRecord> | undefined> {
    const entry = await this.#store.get(projectPath(name));
    if (entry === undefined) return undefined;
    const value = decodeProject(this.#open(entry, 'project'));
    if (value.name !== name) throw integrityFailed();
    return { value, version: entry.version };
  }

  async projects(after: string | undefined, limit: number): Promise<ProjectRecord[]> {
    const entries = await this.#store.list(PROJECT_PREFIX, { ...(after === undefined ? {} : { after: projectPath(after) }), limit });
    return entries.map((entry) => {
      const value = decodeProject(this.#open(entry, 'project'));
      if (entry.key !== projectPath(value.name)) throw integrityFailed();
      return value;
    });
  }

  async roster(): Promise<Versioned<OfficerRoster>> {
    const entry = await this.#store.get(ROSTER_PATH);
    return entry === undefined ? { value: { officers: [] }, version: 0 } : { value: decodeRoster(this.#open(entry, 'officer-roster')), version: entry.version };
  }

  /** All or nothing (STORE_CONFLICT if any expectation fails); then the barrier learns what was written. */
  async commit(batch: readonly IdentityWrite[]): Promise<void> {
    const storeWrites = batch.map((w): StoreWrite => {
      if (w.op === 'delete') return { op: 'delete', key: w.path, ...(w.expectVersion === undefined ? {} : { expectVersion: w.expectVersion }) };
      const version = w.expectVersion + 1;
      return { op: 'put', key: w.path, value: this.#barrier.encryptRecord(w.kind, w.path, version, w.plaintext), expectVersion: w.expectVersion };
    });
    await this.#store.commit(storeWrites);
    for (const w of batch) {
      // A deleted record may be created again from version 1, which the barrier would otherwise
      // refuse as a replay (barrier README: deletions must forget).
      if (w.op === 'delete') this.#barrier.forget(w.kind, w.path);
      else this.#barrier.noteCommitted(w.kind, w.path, w.expectVersion + 1);
    }
  }
}
