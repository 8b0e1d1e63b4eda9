// The batch runner: results in item order, failures isolated per item, concurrency bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CofferError } from '../core/errors.ts';
import { runBatch } from './batch-runner.ts';

describe('runBatch', () => {
  it('keeps order, isolates failures and never runs more than `concurrency` items at once', async () => {
    let running = 0;
    let peak = 0;
    const outcomes = await runBatch([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(n);
      running -= 1;
      if (n === 4) throw new CofferError('KEY_NOT_FOUND', 'key not found');
      if (n === 2) throw new Error('boom');
      return n * 10;
    });
    assert.equal(peak, 3);
    assert.deepEqual(outcomes.map((o) => (o.ok ? o.value : o.error.code)), [50, 10, 'KEY_NOT_FOUND', 'INTERNAL_ERROR', 30, 0, 60]);
    const internal = outcomes[3];
    assert.ok(internal !== undefined && !internal.ok);
    assert.equal(internal.error.message, 'internal error', 'unknown causes are not echoed');
  });
});
