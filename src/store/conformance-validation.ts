// Conformance cases for bad input (INVALID_ARGUMENT, nothing changed) and for a closed store.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store, StoreWrite } from './store.ts';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from './validate-input.ts';
import { bytes, del, put, rejectsWith, type UseStore } from './conformance-helpers.ts';

/** Lets a case pass what a careless JavaScript caller might, past the types. */
function loose(value: unknown): StoreWrite {
  return value as StoreWrite;
}

const BAD_KEYS: readonly [string, unknown][] = [
  ['empty', ''],
  ['1025 ASCII bytes', 'k'.repeat(MAX_KEY_BYTES + 1)],
  ['over 1024 UTF-8 bytes in 342 characters', '€'.repeat(342)],
  ['a lone surrogate', 'k\uD800'],
  ['a NUL', 'a\0b'],
  ['not a string', 42],
];

export function registerValidationCases(use: UseStore): void {
  void it('keys up to 1024 UTF-8 bytes are accepted', () =>
    use(async (store) => {
      const ascii = 'k'.repeat(MAX_KEY_BYTES);
      const multibyte = '€'.repeat(341) + 'k';
      await store.commit([put(ascii, 'a'), put(multibyte, 'b')]);
      assert.equal((await store.get(ascii))?.version, 1);
      assert.equal((await store.get(multibyte))?.version, 1);
    }));

  void it('bad keys are INVALID_ARGUMENT in get, put and delete', () =>
    use(async (store) => {
      for (const [what, key] of BAD_KEYS) {
        await rejectsWith(store.get(key as string), 'INVALID_ARGUMENT', `get, ${what}`);
        await rejectsWith(store.commit([loose({ op: 'put', key, value: bytes('v') })]), 'INVALID_ARGUMENT', `put, ${what}`);
        await rejectsWith(store.commit([loose({ op: 'delete', key })]), 'INVALID_ARGUMENT', `delete, ${what}`);
      }
      assert.equal(await store.revision(), 0);
    }));

  void it('values must be Uint8Arrays no larger than the limit', () =>
    use(async (store) => {
      const notBytes: readonly unknown[] = ['text', [1, 2], new ArrayBuffer(2), new Uint16Array(2), new DataView(new ArrayBuffer(2)), undefined, null];
      for (const [index, value] of notBytes.entries()) {
        await rejectsWith(store.commit([loose({ op: 'put', key: 'k', value })]), 'INVALID_ARGUMENT', `value #${index}`);
      }
      await rejectsWith(store.commit([put('k', new Uint8Array(MAX_VALUE_BYTES + 1))]), 'INVALID_ARGUMENT');
      assert.equal(await store.get('k'), undefined);
    }));

  void it('a batch must be a non-empty array of distinct keys with known ops', () =>
    use(async (store) => {
      await rejectsWith(store.commit([]), 'INVALID_ARGUMENT');
      await rejectsWith(store.commit(loose(undefined) as unknown as StoreWrite[]), 'INVALID_ARGUMENT');
      await rejectsWith(store.commit([put('k', '1'), put('k', '2')]), 'INVALID_ARGUMENT');
      await rejectsWith(store.commit([put('k', '1'), del('k')]), 'INVALID_ARGUMENT');
      await rejectsWith(store.commit([loose({ op: 'upsert', key: 'k', value: bytes('v') })]), 'INVALID_ARGUMENT');
      await rejectsWith(store.commit([loose(null)]), 'INVALID_ARGUMENT');
      assert.equal(await store.get('k'), undefined);
      assert.equal(await store.revision(), 0);
    }));

  void it('expectVersion must be a non-negative integer', () =>
    use(async (store) => {
      for (const expectVersion of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', 2 ** 53]) {
        await rejectsWith(store.commit([loose({ op: 'put', key: 'k', value: bytes('v'), expectVersion })]), 'INVALID_ARGUMENT');
        await rejectsWith(store.commit([loose({ op: 'delete', key: 'k', expectVersion })]), 'INVALID_ARGUMENT');
      }
      assert.equal(await store.revision(), 0);
    }));

  void it('one bad write rejects the whole batch before anything is applied', () =>
    use(async (store) => {
      await store.commit([put('a', 'a1')]);
      const revision = await store.revision();
      await rejectsWith(store.commit([put('a', 'a2'), put('b', 'b1'), loose({ op: 'put', key: '', value: bytes('x') })]), 'INVALID_ARGUMENT');
      await rejectsWith(store.commit([put('b', 'b1'), put('a', 'a2', -1)]), 'INVALID_ARGUMENT');
      assert.equal((await store.get('a'))?.version, 1);
      assert.equal(await store.get('b'), undefined);
      assert.equal(await store.revision(), revision);
    }));

  void it('list and changes reject malformed paging arguments', () =>
    use(async (store) => {
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await rejectsWith(store.list('', { limit }), 'INVALID_ARGUMENT');
        await rejectsWith(store.changes(0, limit), 'INVALID_ARGUMENT');
      }
      await rejectsWith(store.list(loose(7) as unknown as string), 'INVALID_ARGUMENT');
      await rejectsWith(store.list('p\uDC00'), 'INVALID_ARGUMENT');
      await rejectsWith(store.list('p', { after: loose(7) as unknown as string }), 'INVALID_ARGUMENT');
      for (const after of [-1, 0.5, Number.NaN]) await rejectsWith(store.changes(after), 'INVALID_ARGUMENT');
    }));
}

export function registerCloseCases(use: UseStore): void {
  void it('after close every call fails with STORE_UNAVAILABLE and close is idempotent', () =>
    use(async (store: Store) => {
      await store.commit([put('k', 'v')]);
      await store.close();
      await rejectsWith(store.get('k'), 'STORE_UNAVAILABLE');
      await rejectsWith(store.list(''), 'STORE_UNAVAILABLE');
      await rejectsWith(store.commit([put('k', 'w')]), 'STORE_UNAVAILABLE');
      await rejectsWith(store.changes(0), 'STORE_UNAVAILABLE');
      await rejectsWith(store.revision(), 'STORE_UNAVAILABLE');
      await store.close();
    }));
}
