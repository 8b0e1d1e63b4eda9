import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchSizer, MIN_BATCH_ENTRIES } from './batch-sizer.ts';

/** Feeds `count` back-to-back batches of `entries`, each written in `writeMs` after `cpuMs` of gathering. */
function feed(sizer: BatchSizer, start: number, count: number, entries: (limit: number) => number, cpuMs: number, writeMs: number): number {
  let now = start;
  for (let i = 0; i < count; i++) {
    const queuedAt = now;
    now += cpuMs;
    sizer.committed(entries(sizer.limit), queuedAt, now, now + writeMs);
    now += writeMs;
  }
  return now;
}

describe('BatchSizer', () => {
  it('leaves the first batch unbounded: nothing has been measured yet', () => {
    assert.equal(new BatchSizer().limit, Infinity);
  });

  it('bounds a batch to the appends of two write times when the disk keeps up', () => {
    const sizer = new BatchSizer();
    // 250 entries every 5 ms (50 per ms), each written in 1 ms: two write times hold 100.
    feed(sizer, 0, 50, () => 250, 4, 1);
    assert.ok(Math.abs(sizer.limit - 100) <= 1, `limit ${sizer.limit}`);
    // A tiny load never goes below the minimum.
    feed(sizer, 10_000, 50, () => 1, 4, 1);
    assert.equal(sizer.limit, MIN_BATCH_ENTRIES);
  });

  it('grows the bound while the writer is the bottleneck, so a slow disk is not capped by it', () => {
    const sizer = new BatchSizer();
    feed(sizer, 0, 1, () => 1, 0, 10);
    assert.equal(sizer.limit, MIN_BATCH_ENTRIES);
    // Full batches back to back: every batch takes exactly the bound, 10 ms a write. The bound
    // compounds (by the decayed average, not a straight doubling): over 200 ms it grows twentyfold.
    feed(sizer, 100, 20, (limit) => limit, 0, 10);
    assert.ok(sizer.limit > 20 * MIN_BATCH_ENTRIES, `limit ${sizer.limit}`);
  });

  it('follows a disk that slows down', () => {
    const sizer = new BatchSizer();
    feed(sizer, 0, 50, () => 100, 4, 1);
    const fast = sizer.limit;
    // The same 100 entries a cycle, now each written in 8 ms: 100 per 12 ms, two write times hold ~134.
    feed(sizer, 1000, 50, () => 100, 4, 8);
    assert.ok(fast <= 41 && sizer.limit >= 130 && sizer.limit <= 136, `limits ${fast} then ${sizer.limit}`);
  });

  it('does not read an idle spell as a slow rate', () => {
    const sizer = new BatchSizer();
    feed(sizer, 0, 20, () => 100, 4, 1);
    const before = sizer.limit;
    // A minute without appends, then the same load again.
    feed(sizer, 60_000, 1, () => 100, 4, 1);
    assert.equal(sizer.limit, before);
  });
});
