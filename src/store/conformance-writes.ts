// Conformance cases for writes: versions, revisions, compare-and-set, atomicity, deletion, bytes.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, del, put, rejectsWith, textOf, type UseStore } from './conformance-helpers.ts';

export function registerWriteCases(use: UseStore): void {
  void it('an empty store has revision 0, no entries and no changes', () =>
    use(async (store) => {
      assert.equal(await store.revision(), 0);
      assert.equal(await store.get('missing'), undefined);
      assert.deepEqual(await store.list(''), []);
      assert.deepEqual(await store.changes(0), []);
    }));

  void it('a put creates version 1 and each later put adds one', () =>
    use(async (store) => {
      const first = await store.commit([put('k', 'one')]);
      assert.deepEqual(first.versions, [1]);
      const entry = await store.get('k');
      assert.deepEqual(entry, { key: 'k', value: bytes('one'), version: 1, revision: first.revision });
      const second = await store.commit([put('k', 'two')]);
      assert.deepEqual(second.versions, [2]);
      assert.equal((await store.get('k'))?.version, 2);
      assert.equal(await textOf(store, 'k'), 'two');
    }));

  void it('revisions strictly increase, one per commit, shared by all its writes', () =>
    use(async (store) => {
      const a = await store.commit([put('a', '1')]);
      assert.ok(a.revision >= 1);
      const b = await store.commit([put('b', '1'), put('c', '1'), put('a', '2')]);
      assert.ok(b.revision > a.revision);
      assert.deepEqual(b.versions, [1, 1, 2]);
      for (const key of ['a', 'b', 'c']) assert.equal((await store.get(key))?.revision, b.revision);
      assert.equal(await store.revision(), b.revision);
      const c = await store.commit([put('b', '2')]);
      assert.ok(c.revision > b.revision);
      assert.equal((await store.get('a'))?.revision, b.revision, 'an untouched key keeps its revision');
      assert.equal(await store.revision(), c.revision);
    }));

  void it('expectVersion 0 means "must not exist"; a matching version succeeds', () =>
    use(async (store) => {
      assert.deepEqual((await store.commit([put('k', 'v1', 0)])).versions, [1]);
      await rejectsWith(store.commit([put('k', 'again', 0)]), 'STORE_CONFLICT');
      assert.deepEqual((await store.commit([put('k', 'v2', 1)])).versions, [2]);
      await rejectsWith(store.commit([put('k', 'stale', 1)]), 'STORE_CONFLICT');
      await rejectsWith(store.commit([put('k', 'future', 3)]), 'STORE_CONFLICT');
      await rejectsWith(store.commit([put('new', 'x', 1)]), 'STORE_CONFLICT');
      assert.equal(await textOf(store, 'k'), 'v2');
      assert.equal(await store.get('new'), undefined);
    }));

  void it('a failed expectation anywhere in a batch applies none of it and uses no revision', () =>
    use(async (store) => {
      await store.commit([put('a', 'a1'), put('b', 'b1')]);
      const before = await store.revision();
      const feed = await store.changes(0);
      for (const batch of [
        [put('a', 'a2', 1), put('c', 'c1'), put('b', 'b2', 7)],
        [put('b', 'b2', 5), put('a', 'a2'), del('c')],
        [del('a', 1), put('b', 'b2', 0)],
      ]) {
        await rejectsWith(store.commit(batch), 'STORE_CONFLICT');
      }
      assert.equal(await textOf(store, 'a'), 'a1');
      assert.equal(await textOf(store, 'b'), 'b1');
      assert.equal((await store.get('a'))?.version, 1);
      assert.equal(await store.get('c'), undefined);
      assert.equal(await store.revision(), before);
      assert.deepEqual(await store.changes(0), feed);
      const next = await store.commit([put('a', 'a2', 1)]);
      assert.ok(next.revision > before);
    }));

  void it('a delete removes the key, reports version 0, and honours expectVersion', () =>
    use(async (store) => {
      await store.commit([put('k', 'v1'), put('j', 'v1')]);
      await store.commit([put('k', 'v2')]);
      await rejectsWith(store.commit([del('k', 1)]), 'STORE_CONFLICT');
      await rejectsWith(store.commit([del('k', 0)]), 'STORE_CONFLICT');
      assert.equal(await textOf(store, 'k'), 'v2');
      const result = await store.commit([del('k', 2)]);
      assert.deepEqual(result.versions, [0]);
      assert.equal(await store.get('k'), undefined);
      assert.deepEqual((await store.commit([del('j')])).versions, [0], 'an unconditional delete');
      assert.equal(await store.get('j'), undefined);
      assert.deepEqual(await store.list(''), []);
    }));

  void it('deleting a missing key: expectVersion > 0 conflicts; otherwise a no-op that still commits', () =>
    use(async (store) => {
      await rejectsWith(store.commit([del('never', 1)]), 'STORE_CONFLICT');
      assert.equal(await store.revision(), 0);
      const unconditional = await store.commit([del('never')]);
      assert.deepEqual(unconditional.versions, [0]);
      assert.ok(unconditional.revision >= 1, 'every successful commit is given a revision');
      const expectAbsent = await store.commit([del('never', 0)]);
      assert.ok(expectAbsent.revision > unconditional.revision);
      assert.equal(await store.revision(), expectAbsent.revision);
      assert.equal(await store.get('never'), undefined);
      assert.deepEqual(await store.changes(0), [], 'a key that never existed is not in the change feed');
    }));

  void it('re-creating a deleted key restarts at version 1 and expectVersion 0 accepts it', () =>
    use(async (store) => {
      await store.commit([put('k', 'v1')]);
      await store.commit([put('k', 'v2')]);
      await store.commit([del('k')]);
      await rejectsWith(store.commit([put('k', 'x', 2)]), 'STORE_CONFLICT');
      const again = await store.commit([put('k', 'fresh', 0)]);
      assert.deepEqual(again.versions, [1]);
      assert.deepEqual(await store.get('k'), { key: 'k', value: bytes('fresh'), version: 1, revision: again.revision });
      assert.deepEqual(await store.changes(0), [{ key: 'k', revision: again.revision, version: 1, deleted: false }]);
    }));

  void it('values are stored as exact bytes', () =>
    use(async (store) => {
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      const large = new Uint8Array(1024 * 1024);
      for (let i = 0; i < large.length; i++) large[i] = (i * 7919 + (i >>> 8)) & 0xff;
      // A view into a larger buffer: only the viewed bytes belong to the value.
      const backing = Uint8Array.from([9, 9, 0, 1, 0, 9, 9]);
      const cases: readonly [string, Uint8Array][] = [
        ['empty', new Uint8Array(0)],
        ['zeros', new Uint8Array(5)],
        ['every-byte', everyByte],
        ['not-utf8', Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0x00])],
        ['one-mib', large],
        ['view', backing.subarray(2, 5)],
        ['buffer', Buffer.from('buffer value')],
      ];
      await store.commit(cases.map(([key, value]) => put(key, value)));
      for (const [key, value] of cases) {
        const entry = await store.get(key);
        assert.ok(entry, key);
        assert.ok(entry.value instanceof Uint8Array, key);
        assert.equal(entry.value.byteLength, value.byteLength, key);
        assert.ok(Buffer.from(entry.value).equals(Buffer.from(value)), key);
      }
      assert.deepEqual([...((await store.get('view'))?.value ?? [])], [0, 1, 0]);
    }));

  void it('neither the written array nor a returned value aliases the stored bytes', () =>
    use(async (store) => {
      const value = bytes('original');
      await store.commit([put('k', value)]);
      value.fill(0);
      const first = await store.get('k');
      assert.equal(first && new TextDecoder().decode(first.value), 'original');
      first?.value.fill(0);
      assert.equal(await textOf(store, 'k'), 'original');
      (await store.list('k'))[0]?.value.fill(0);
      assert.equal(await textOf(store, 'k'), 'original');
    }));
}
