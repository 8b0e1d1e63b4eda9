// In-memory rollback detection: the highest version this node has opened for each record.
import { hash } from 'node:crypto';

/** Bounds memory: a million entries measured about 95 MB (a 44-character digest and a number each). */
export const DEFAULT_VERSION_MEMORY_ENTRIES = 1_000_000;

/**
 * Remembers the highest version seen per (kind, id). A Map keeps insertion order, so touching an
 * entry re-inserts it and the first key is always the least recently used: an LRU at O(1). An
 * evicted record loses its rollback protection until it is read again, and nothing survives a
 * restart: this catches a store that goes back in time under a running node, not a store that was
 * already old when the node started.
 */
export class VersionMemory {
  readonly #highest = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity: number = DEFAULT_VERSION_MEMORY_ENTRIES) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.#capacity = capacity;
  }

  /**
   * SHA-256 of "len(kind):kind:id" (the length makes the split unambiguous, and the barrier only
   * accepts well-formed strings, so the UTF-8 input is injective). A digest gives every entry the
   * same small flat string, whatever the id's length or how the caller's string was built.
   */
  static #key(kind: string, id: string): string {
    return hash('sha256', `${kind.length}:${kind}:${id}`, 'base64');
  }

  /** False when `version` is below a version already seen for this record. */
  allows(kind: string, id: string, version: number): boolean {
    const highest = this.#highest.get(VersionMemory.#key(kind, id));
    return highest === undefined || version >= highest;
  }

  /** Records that `version` authenticated; never lowers what is remembered. */
  note(kind: string, id: string, version: number): void {
    const key = VersionMemory.#key(kind, id);
    const highest = Math.max(this.#highest.get(key) ?? 0, version);
    this.#highest.delete(key);
    this.#highest.set(key, highest);
    if (this.#highest.size > this.#capacity) {
      const oldest = this.#highest.keys().next();
      if (oldest.done !== true) this.#highest.delete(oldest.value);
    }
  }

  forget(kind: string, id: string): void {
    this.#highest.delete(VersionMemory.#key(kind, id));
  }

  clear(): void {
    this.#highest.clear();
  }

  get size(): number {
    return this.#highest.size;
  }
}
