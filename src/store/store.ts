// The Store contract: a small key/value interface with compare-and-set writes, prefix listing and a
// change feed. Stores are untrusted: they see ciphertext and non-secret metadata only.

/** A live entry. `version` counts writes to this key (1 on creation); `revision` orders all commits. */
export interface StoreEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly version: number;
  readonly revision: number;
}

/**
 * One write in a commit. `expectVersion` makes it conditional: the key's current version must
 * equal it, with 0 meaning "the key must not exist". Without it the write is unconditional.
 */
export type StoreWrite =
  | { readonly op: 'put'; readonly key: string; readonly value: Uint8Array; readonly expectVersion?: number }
  | { readonly op: 'delete'; readonly key: string; readonly expectVersion?: number };

export interface CommitResult {
  /** The store-wide revision this commit was given. */
  readonly revision: number;
  /** For each write in order: the key's new version (0 after a delete). */
  readonly versions: readonly number[];
}

/** One entry of the change feed: the latest state of a key changed after a given revision. */
export interface StoreChange {
  readonly key: string;
  readonly revision: number;
  readonly version: number;
  readonly deleted: boolean;
}

export interface ListOptions {
  /** Return only keys strictly greater than this one (for paging). */
  readonly after?: string;
  readonly limit?: number;
}

export interface Store {
  get(key: string): Promise<StoreEntry | undefined>;
  /** Live entries whose key starts with `prefix`, in key order. */
  list(prefix: string, options?: ListOptions): Promise<StoreEntry[]>;
  /**
   * Applies every write atomically and durably, or none: if any expectation fails it throws
   * STORE_CONFLICT and changes nothing. A put sets version to previous + 1 (1 for a new key).
   */
  commit(writes: readonly StoreWrite[]): Promise<CommitResult>;
  /** Keys changed after `afterRevision`, each once with its latest state, in revision order. */
  changes(afterRevision: number, limit?: number): Promise<StoreChange[]>;
  /** The revision of the newest commit (0 for an empty store). */
  revision(): Promise<number>;
  close(): Promise<void>;
}
