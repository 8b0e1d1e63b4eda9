// Conformance cases for reads: prefix listing with paging, and the change feed.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store, StoreChange } from './store.ts';
import { compareKeys } from './prefix-range.ts';
import { del, keysOf, put, textOf, type UseStore } from './conformance-helpers.ts';

async function seed(store: Store, keys: readonly string[]): Promise<void> {
  await store.commit(keys.map((key) => put(key, `value of ${key}`)));
}

export function registerListCases(use: UseStore): void {
  void it('list returns the live entries under a prefix, in key order', () =>
    use(async (store) => {
      await seed(store, ['p/c', 'p/a', 'q/a', 'p', 'p/b/1', 'o/z', 'p/b', 'p/gone']);
      await store.commit([del('p/gone')]);
      const entries = await store.list('p/');
      assert.deepEqual(entries.map((e) => e.key), ['p/a', 'p/b', 'p/b/1', 'p/c']);
      for (const entry of entries) {
        assert.equal(new TextDecoder().decode(entry.value), `value of ${entry.key}`);
        assert.deepEqual(entry, await store.get(entry.key));
      }
      assert.deepEqual(await keysOf(store, ''), ['o/z', 'p', 'p/a', 'p/b', 'p/b/1', 'p/c', 'q/a']);
      assert.deepEqual(await keysOf(store, 'p/b'), ['p/b', 'p/b/1']);
      assert.deepEqual(await keysOf(store, 'r'), []);
    }));

  void it('key order is Unicode code point order (UTF-8 byte order), not UTF-16 order', () =>
    use(async (store) => {
      const keys = ['k/a', 'k/B', 'k/é', 'k/\uFF21', 'k/\uFFFD', 'k/\u{1F600}', 'k/a/', 'k/a0', 'k/A'];
      await seed(store, keys);
      const expected = [...keys].sort(compareKeys);
      assert.deepEqual(expected.slice(-3), ['k/\uFF21', 'k/\uFFFD', 'k/\u{1F600}']);
      assert.deepEqual(await keysOf(store, 'k/'), expected);
    }));

  void it('after and limit page through a prefix', () =>
    use(async (store) => {
      const keys = ['x/1', 'x/2', 'x/3', 'x/4', 'x/5'];
      await seed(store, [...keys, 'x0', 'w/9', 'y/0']);
      assert.deepEqual(await keysOf(store, 'x/', { limit: 2 }), ['x/1', 'x/2']);
      assert.deepEqual(await keysOf(store, 'x/', { after: 'x/2', limit: 2 }), ['x/3', 'x/4']);
      assert.deepEqual(await keysOf(store, 'x/', { after: 'x/4', limit: 2 }), ['x/5']);
      assert.deepEqual(await keysOf(store, 'x/', { after: 'x/5' }), []);
      assert.deepEqual(await keysOf(store, 'x/', { after: 'x/25' }), ['x/3', 'x/4', 'x/5'], 'after need not be a stored key');
      assert.deepEqual(await keysOf(store, 'x/', { after: 'a' }), keys, 'after below the prefix excludes nothing');
      assert.deepEqual(await keysOf(store, 'x/', { after: 'z' }), []);
      const paged: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await keysOf(store, 'x/', after === undefined ? { limit: 1 } : { after, limit: 1 });
        if (page.length === 0) break;
        paged.push(...page);
        after = page.at(-1);
      }
      assert.deepEqual(paged, keys);
    }));

  void it("prefixes are literal: '%', '_' and '\\' are not wildcards", () =>
    use(async (store) => {
      await seed(store, ['a%', 'a%b', 'ab', 'a_b', 'axb', 'a\\b', 'a\\\\c', 'a\\', 'a[b', 'a*b']);
      assert.deepEqual(await keysOf(store, 'a%'), ['a%', 'a%b']);
      assert.deepEqual(await keysOf(store, 'a_'), ['a_b']);
      assert.deepEqual(await keysOf(store, 'a\\'), ['a\\', 'a\\\\c', 'a\\b']);
      assert.deepEqual(await keysOf(store, 'a\\\\'), ['a\\\\c']);
      assert.deepEqual(await keysOf(store, 'a['), ['a[b']);
      assert.deepEqual(await keysOf(store, 'a*'), ['a*b']);
      assert.deepEqual(await keysOf(store, '%'), []);
    }));

  void it('prefixes ending at the edges of Unicode still match exactly', () =>
    use(async (store) => {
      await seed(store, ['e\uD7FF', 'e\uD7FFz', 'e\uE000', 'e\u{10FFFF}', 'e\u{10FFFF}a', 'f', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}']);
      assert.deepEqual(await keysOf(store, 'e\uD7FF'), ['e\uD7FF', 'e\uD7FFz']);
      assert.deepEqual(await keysOf(store, 'e\u{10FFFF}'), ['e\u{10FFFF}', 'e\u{10FFFF}a']);
      assert.deepEqual(await keysOf(store, '\u{10FFFF}'), ['\u{10FFFF}', '\u{10FFFF}\u{10FFFF}']);
      assert.equal(await textOf(store, 'e\u{10FFFF}a'), 'value of e\u{10FFFF}a');
    }));
}

/** Reads the whole feed after `from` in pages of `limit`, checking the paging contract on the way. */
async function readFeed(store: Store, from: number, limit: number): Promise<StoreChange[]> {
  const all: StoreChange[] = [];
  let cursor = from;
  for (;;) {
    const page = await store.changes(cursor, limit);
    if (page.length === 0) return all;
    // A page may exceed the limit only to carry one whole commit.
    if (page.length > limit) assert.equal(new Set(page.map((c) => c.revision)).size, 1);
    all.push(...page);
    cursor = page.at(-1)?.revision ?? cursor;
  }
}

export function registerChangeCases(use: UseStore): void {
  void it('changes reports each key once with its latest state, in revision order, deletions included', () =>
    use(async (store) => {
      const r1 = (await store.commit([put('a', '1'), put('b', '1'), put('c', '1')])).revision;
      const r2 = (await store.commit([put('a', '2')])).revision;
      const r3 = (await store.commit([del('b'), put('d', '1')])).revision;
      const r4 = (await store.commit([put('a', '3')])).revision;
      const expected: StoreChange[] = [
        { key: 'c', revision: r1, version: 1, deleted: false },
        { key: 'b', revision: r3, version: 0, deleted: true },
        { key: 'd', revision: r3, version: 1, deleted: false },
        { key: 'a', revision: r4, version: 3, deleted: false },
      ];
      assert.deepEqual(await store.changes(0), expected);
      assert.deepEqual(await store.changes(r1), expected.slice(1));
      assert.deepEqual(await store.changes(r2), expected.slice(1));
      assert.deepEqual(await store.changes(r3), expected.slice(3));
      assert.deepEqual(await store.changes(r4), []);
      assert.deepEqual(await store.changes(r4 + 1000), []);
    }));

  void it('changes respects its limit without splitting a commit', () =>
    use(async (store) => {
      const r1 = (await store.commit([put('a', '1')])).revision;
      const r2 = (await store.commit([put('b', '1'), put('c', '1'), put('d', '1')])).revision;
      const r3 = (await store.commit([put('e', '1')])).revision;
      const keys = async (after: number, limit: number): Promise<string[]> => (await store.changes(after, limit)).map((c) => c.key);
      assert.deepEqual(await keys(0, 1), ['a']);
      assert.deepEqual(await keys(0, 4), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await keys(0, 5), ['a', 'b', 'c', 'd', 'e']);
      // Stopping inside r2 would make a reader resuming after r2 skip its other writes.
      assert.deepEqual(await keys(0, 2), ['a']);
      assert.deepEqual(await keys(0, 3), ['a']);
      // A commit larger than the limit is returned whole, or the reader could never get past it.
      assert.deepEqual(await keys(r1, 2), ['b', 'c', 'd']);
      assert.deepEqual(await keys(r2, 1), ['e']);
      assert.deepEqual(await keys(r3, 1), []);
    }));

  void it('paging through the feed yields exactly the unpaged feed', () =>
    use(async (store) => {
      for (let i = 0; i < 12; i++) {
        const writes = [put(`k${i % 5}`, `${i}`), put(`single${i}`, 'x')];
        await store.commit(i % 3 === 0 ? [...writes, del(`single${i - 1}`)] : writes);
      }
      const everything = await store.changes(0);
      const keys = everything.map((c) => c.key);
      assert.equal(new Set(keys).size, keys.length, 'each key appears once');
      const revisions = everything.map((c) => c.revision);
      assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
      for (const limit of [1, 2, 3, 7, 100]) assert.deepEqual(await readFeed(store, 0, limit), everything, `limit ${limit}`);
      const final = await store.revision();
      assert.equal(everything.at(-1)?.revision, final);
    }));
}
