// JSON records of one kind kept barrier-encrypted in a Store, each bound to its path and version,
// as key-repository/sealed-key-repository.ts does for keys.
import { CofferError } from '../../core/errors.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store, StoreEntry, StoreWrite } from '../../store/index.ts';

export interface SealedJson {
  readonly path: string;
  readonly value: unknown;
  /** The store version of the record: the next write must expect exactly this. */
  readonly version: number;
}

export class SealedJsonStore {
  readonly #store: Store;
  readonly #barrier: Barrier;
  readonly #kind: string;

  constructor(store: Store, barrier: Barrier, kind: string) {
    this.#store = store;
    this.#barrier = barrier;
    this.#kind = kind;
  }

  #open(entry: StoreEntry): SealedJson {
    // Decryption authenticates kind, path and version (BARRIER_INTEGRITY_FAILED on any edit or replay).
    const plaintext = this.#barrier.decryptRecord(this.#kind, entry.key, entry.version, entry.value);
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(plaintext).toString('utf8'));
    } catch (error) {
      throw new CofferError('STORE_CORRUPT', `a stored ${this.#kind} record is malformed`, { cause: error });
    }
    return { path: entry.key, value, version: entry.version };
  }

  async get(path: string): Promise<SealedJson | undefined> {
    const entry = await this.#store.get(path);
    return entry === undefined ? undefined : this.#open(entry);
  }

  async list(prefix: string): Promise<SealedJson[]> {
    const entries = await this.#store.list(prefix);
    return entries.map((entry) => this.#open(entry));
  }

  /** A write that succeeds only if the record is still at `currentVersion` (0: must not exist). */
  write(path: string, value: unknown, currentVersion: number): StoreWrite {
    const plaintext = Buffer.from(JSON.stringify(value), 'utf8');
    return { op: 'put', key: path, value: this.#barrier.encryptRecord(this.#kind, path, currentVersion + 1, plaintext), expectVersion: currentVersion };
  }

  /** A delete that succeeds only if the record is still at `currentVersion`. */
  remove(path: string, currentVersion: number): StoreWrite {
    return { op: 'delete', key: path, expectVersion: currentVersion };
  }

  /** After the commit holding `write(path, …, currentVersion)` succeeded: refuse older versions from now on. */
  noteCommitted(path: string, currentVersion: number): void {
    this.#barrier.noteCommitted(this.#kind, path, currentVersion + 1);
  }

  /** Compare-and-set of one record; STORE_CONFLICT if it changed since `currentVersion`. */
  async put(path: string, value: unknown, currentVersion: number): Promise<number> {
    await this.#store.commit([this.write(path, value, currentVersion)]);
    this.noteCommitted(path, currentVersion);
    return currentVersion + 1;
  }

  /** Writes or replaces the record at `path`, compare-and-set against the version read now (a racing replacement conflicts). */
  async replace(path: string, value: unknown): Promise<number> {
    const current = await this.get(path);
    return this.put(path, value, current?.version ?? 0);
  }
}
