// Conformance cases for commits in flight at once: compare-and-set has one winner, versions are
// never handed out twice, and a change-feed reader that keeps up misses nothing.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreChange } from './store.ts';
import { put, textOf, type UseStore } from './conformance-helpers.ts';

const RACERS = 12;

function outcomes(results: readonly PromiseSettledResult<unknown>[]): { won: number[]; codes: unknown[] } {
  const won: number[] = [];
  const codes: unknown[] = [];
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') won.push(index);
    else codes.push((result.reason as { code?: unknown }).code);
  });
  return { won, codes };
}

export function registerConcurrencyCases(use: UseStore): void {
  void it('concurrent creations with expectVersion 0: exactly one wins, the rest conflict', () =>
    use(async (store) => {
      const racers = Array.from({ length: RACERS }, (_, i) => store.commit([put('k', `racer-${i}`, 0)]));
      const { won, codes } = outcomes(await Promise.allSettled(racers));
      assert.equal(won.length, 1);
      assert.deepEqual(codes, Array<string>(RACERS - 1).fill('STORE_CONFLICT'));
      assert.equal(await textOf(store, 'k'), `racer-${won[0] ?? -1}`);
      assert.equal((await store.get('k'))?.version, 1);
    }));

  void it('concurrent updates expecting the same version: exactly one wins', () =>
    use(async (store) => {
      await store.commit([put('k', 'base')]);
      const racers = Array.from({ length: RACERS }, (_, i) => store.commit([put('k', `racer-${i}`, 1), put(`side-${i}`, 'x')]));
      const { won, codes } = outcomes(await Promise.allSettled(racers));
      assert.equal(won.length, 1);
      assert.deepEqual(codes, Array<string>(RACERS - 1).fill('STORE_CONFLICT'));
      assert.equal(await textOf(store, 'k'), `racer-${won[0] ?? -1}`);
      assert.equal((await store.get('k'))?.version, 2);
      // The losers' other writes were not applied either.
      assert.deepEqual((await store.list('side-')).map((e) => e.key), [`side-${won[0] ?? -1}`]);
    }));

  void it('concurrent unconditional puts to one key each get a distinct version and revision', () =>
    use(async (store) => {
      const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => store.commit([put('k', `v${i}`)])));
      const versions = results.map((r) => r.versions[0] ?? 0).sort((a, b) => a - b);
      assert.deepEqual(versions, Array.from({ length: RACERS }, (_, i) => i + 1));
      assert.equal(new Set(results.map((r) => r.revision)).size, RACERS);
      const last = results.find((r) => r.versions[0] === RACERS);
      assert.equal((await store.get('k'))?.revision, last?.revision);
      assert.equal(await store.revision(), Math.max(...results.map((r) => r.revision)));
    }));

  void it('a change-feed reader polling during concurrent commits sees every key', () =>
    use(async (store) => {
      const seen = new Set<string>();
      let cursor = 0;
      const poll = async (): Promise<number> => {
        const page: StoreChange[] = await store.changes(cursor, 5);
        for (const change of page) {
          assert.ok(change.revision > cursor, 'the feed never goes backwards');
          seen.add(change.key);
        }
        cursor = page.at(-1)?.revision ?? cursor;
        return page.length;
      };
      let pending = 40;
      const writers = Array.from({ length: pending }, (_, i) =>
        store.commit([put(`k${i}`, 'v')]).then(() => {
          pending--;
        }),
      );
      while (pending > 0) {
        await poll();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await Promise.all(writers);
      // Drain: revisions the reader has already passed must never gain changes afterwards.
      while ((await poll()) > 0) {
        // Each poll advances the cursor; stop at the first empty page.
      }
      assert.equal(seen.size, 40);
    }));
}
