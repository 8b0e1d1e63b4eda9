// The bytes of one group commit: lines are encoded as they are queued, off the JS heap.

// Starting capacity: a few dozen entries; doubled as needed, so a burst costs O(log n) reallocations.
const INITIAL_CAPACITY = 16 * 1024;

/** One batch's lines in file order, as UTF-8. Each batch has its own, so the writer never shares one. */
export class BatchBuffer {
  #buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
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

  /** The bytes gathered so far (a view: push nothing more while it is being written). */
  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#used);
  }
}
