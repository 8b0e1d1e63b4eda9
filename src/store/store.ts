// The Store contract: a small key/value interface with compare-and-set writes, prefix listing and a
// change feed. Stores are untrusted: they see ciphertext and non-secret metadata only.

/**
 * A live entry. `version` counts writes to this key (1 on creation, and again 1 when a deleted key is
 * re-created); `revision` is that of the commit that last wrote it. Keys are non-empty, well-formed
 * Unicode without NUL, at most 1024 UTF-8 bytes, and order by code point (= UTF-8 byte order).
 */
export interface StoreEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly version: number;
  readonly revision: number;
}

/**
 * One write in a commit. `expectVersion` makes it conditional: the key's current version must
 * equal it, with 0 meaning "the key must not exist". Without it the write is unconditional.
 * Deleting a key that does not exist (unconditionally or with expectVersion 0) is a no-op.
 */
export type StoreWrite =
  | { readonly op: 'put'; readonly key: string; readonly value: Uint8Array; readonly expectVersion?: number }
  | { readonly op: 'delete'; readonly key: string; readonly expectVersion?: number };

export interface CommitResult {
  /**
   * The store-wide revision this commit was given. Every successful commit gets a new one, even if
   * all its writes were no-ops; revisions strictly increase but may skip numbers.
   */
  readonly revision: number;
  /** For each write in order: the key's new version (0 after a delete). */
  readonly versions: readonly number[];
}

/** One entry of the change feed: the latest state of a key changed after a given revision (version 0 when deleted). */
export interface StoreChange {
  readonly key: string;
  readonly revision: number;
  readonly version: number;
  readonly deleted: boolean;
}

export interface ListOptions {
  /** Return only keys strictly greater than this one (for paging). */
  readonly after?: string;
  /** At most this many entries (a positive integer); all of them when absent. */
  readonly limit?: number;
}

export interface Store {
  get(key: string): Promise<StoreEntry | undefined>;
  /** Live entries whose key starts with `prefix` (literally: no wildcards), in key order. */
  list(prefix: string, options?: ListOptions): Promise<StoreEntry[]>;
  /**
   * Applies every write atomically and durably, or none: if any expectation fails it throws
   * STORE_CONFLICT and changes nothing. A put sets version to previous + 1 (1 for a new key).
   * A malformed batch (empty, a key twice, bad key/value/expectVersion) is INVALID_ARGUMENT.
   * STORE_UNAVAILABLE may leave the outcome unknown (a lost connection): re-read before retrying.
   */
  commit(writes: readonly StoreWrite[]): Promise<CommitResult>;
  /**
   * Keys changed after `afterRevision`, each once with its latest state, in revision order (key
   * order within a revision). A page never ends inside a commit: it stops before a commit that
   * would not fit, unless that commit comes first, which is then returned whole, past `limit`. Once
   * a revision is visible here, no lower revision can still appear, so readers resume from the
   * last revision they saw.
   */
  changes(afterRevision: number, limit?: number): Promise<StoreChange[]>;
  /** The revision of the newest commit (0 for an empty store). */
  revision(): Promise<number>;
  /**
   * Optional push side of the change feed: `listener` is called with a revision soon after commits
   * (on a shared backend, commits made by any node), and may also be called when the backend
   * suspects it missed some (after reconnecting). Calls are hints only: they can be late,
   * coalesced, repeated or lost, so readers still call changes(afterRevision) from their own
   * cursor, and poll now and then. A listener that throws is ignored. Returns the function that
   * unsubscribes; after close() no listener is called.
   */
  watch?(listener: (revision: number) => void): () => void;
  /** Idempotent; afterwards every call fails with STORE_UNAVAILABLE. */
  close(): Promise<void>;
}
