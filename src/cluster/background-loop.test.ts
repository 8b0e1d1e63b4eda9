import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingRun } from './background-loop.ts';

/** A pass that waits until released, counting how many started. */
function gatedPass(): { pass: () => Promise<void>; release: () => void; started: () => number } {
  let started = 0;
  let open: (() => void) | undefined;
  return {
    pass: () => {
      started += 1;
      return new Promise((resolve) => { open = resolve; });
    },
    release: () => { open?.(); },
    started: () => started,
  };
}

describe('CoalescingRun', () => {
  it('shares one run among callers and folds the requests made during a pass into one more pass', async () => {
    const gate = gatedPass();
    const run = new CoalescingRun(gate.pass, () => true);
    const first = run.request();
    const second = run.request();
    const third = run.request();
    assert.equal(second, first);
    assert.equal(third, first);
    assert.equal(gate.started(), 1);
    gate.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(gate.started(), 2, 'the requests during the first pass made exactly one more');
    gate.release();
    await first;
    assert.equal(gate.started(), 2);
    assert.equal(run.running, undefined);
  });

  it('passes again only while goOn() holds', async () => {
    const gate = gatedPass();
    let goOn = true;
    const run = new CoalescingRun(gate.pass, () => goOn);
    const first = run.request();
    void run.request();
    goOn = false;
    gate.release();
    await first;
    assert.equal(gate.started(), 1);
    assert.equal(run.running, undefined);
  });
});
