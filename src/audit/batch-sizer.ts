// How many entries one group commit may take: enough that the disk keeps up with the appends, few
// enough that one batch does not hold every operation in flight while the event loop has nothing to do.

/** The smallest bound: a write of this many entries already spreads its fixed cost thin. */
export const MIN_BATCH_ENTRIES = 32;
// Throughput is a decayed average over roughly the last ten batches.
const DECAY = 0.9;
// Write time is an exponentially weighted mean; each reading weighs this much.
const WRITE_WEIGHT = 0.2;
// A batch holds about two write times' worth of appends, so the writer needs at most half its time.
const HEADROOM = 2;

/**
 * Tracks appends per millisecond and how long a durable write takes, and bounds the batch to the
 * appends of HEADROOM write times (at least MIN_BATCH_ENTRIES).
 *
 * Why a bound: when every operation in flight waits on the same write, the event loop idles for
 * the whole of it; a bounded batch splits them into groups, one computing while another's write is
 * on disk. Why adaptive: a fixed bound caps throughput at bound / write time, which a slow disk
 * would make the bottleneck; and each extra batch costs a sync (about 0.2-0.3 ms of CPU on the
 * development VM), so batches should be no smaller than they need to be.
 *
 * Which way the estimate errs: a completion is seen only when the event loop gets to it, so a busy
 * loop makes writes read long and batches larger (at worst one batch per write, as if unbounded),
 * never smaller. When the writer is the bottleneck the loop is idle, readings are exact, batches
 * come full and back to back, the measured rate is bound / write time, and the bound doubles until
 * it no longer limits.
 */
export class BatchSizer {
  #entries = 0;
  #elapsedMs = 0;
  #lastEnd: number | undefined;
  #writeMs: number | undefined;
  #limit = Infinity;

  /** Most entries a batch may take. Unbounded until a write has been measured. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Reports one durable write of `entries` entries: the first was queued at `firstQueuedAt`, the
   * write started at `startedAt` and was seen complete at `endedAt` (milliseconds, one monotonic clock).
   */
  committed(entries: number, firstQueuedAt: number, startedAt: number, endedAt: number): void {
    // The time this batch accounts for: since the previous write ended, or, after an idle spell,
    // since its first entry arrived (so idleness does not read as a slow rate).
    const since = this.#lastEnd === undefined ? firstQueuedAt : Math.max(this.#lastEnd, firstQueuedAt);
    this.#lastEnd = endedAt;
    this.#entries = this.#entries * DECAY + entries;
    this.#elapsedMs = this.#elapsedMs * DECAY + Math.max(endedAt - since, Number.EPSILON);
    const reading = endedAt - startedAt;
    this.#writeMs = this.#writeMs === undefined ? reading : this.#writeMs + WRITE_WEIGHT * (reading - this.#writeMs);
    const perMs = this.#entries / this.#elapsedMs;
    this.#limit = Math.max(MIN_BATCH_ENTRIES, Math.ceil(HEADROOM * perMs * this.#writeMs));
  }
}
