// The bytes of the batch being gathered: lines are encoded as they are queued, off the JS heap.

// Starting capacity; doubled as needed, so a burst costs O(log n) reallocations.
const INITIAL_CAPACITY = 64 * 1024;
// A buffer grown larger than this by a burst is not kept for reuse.
const MAX_RETAINED = 8 * 1024 * 1024;

/**
 * Two buffers used in turn: one gathers the next batch while the other is being written. Valid
 * because the journal has a single writer that finishes each write before taking the next batch.
 */
export class BatchBuffer {
  #buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  #spare = Buffer.allocUnsafe(INITIAL_CAPACITY);
  #used = 0;

  get length(): number {
    return this.#used;
  }

  /** Appends `text` as UTF-8. */
  push(text: string): void {
    // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
    const worst = text.length * 3;
    if (this.#buffer.length - this.#used < worst) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#used + worst));
      this.#buffer.copy(grown, 0, 0, this.#used);
      this.#buffer = grown;
    }
    this.#used += this.#buffer.write(text, this.#used, 'utf8');
  }

  /** The bytes gathered so far. They stay valid until the next take(): finish writing them first. */
  take(): Buffer {
    const current = this.#buffer;
    const bytes = current.subarray(0, this.#used);
    this.#buffer = this.#spare.length > MAX_RETAINED ? Buffer.allocUnsafe(INITIAL_CAPACITY) : this.#spare;
    this.#spare = current;
    this.#used = 0;
    return bytes;
  }

  /** Drops everything gathered (the journal failed). */
  clear(): void {
    this.#used = 0;
  }
}
