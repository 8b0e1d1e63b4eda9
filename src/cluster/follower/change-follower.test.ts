// The follower: every change after its start revision is dispatched once, in order, whether it learns
// of it by a poll or a hint; a failed dispatch is retried; the router sends each path to its cache.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../../core/errors.ts';
import { openSqliteStore, type StoreChange } from '../../store/index.ts';
import { ChangeFollower } from './change-follower.ts';
import { invalidationDispatcher, recordKindOf } from './invalidation-router.ts';

const put = (key: string) => ({ op: 'put' as const, key, value: Buffer.from('x') });

describe('change follower', () => {
  it('dispatches changes after its start revision once each, in order, retrying a failed page', async (t) => {
    const store = await openSqliteStore(':memory:');
    t.after(() => store.close());
    await store.commit([put('before')]);
    const seen: StoreChange[] = [];
    let failNext = true;
    const follower = new ChangeFollower({
      store, from: await store.revision(), pollMs: 20, pageSize: 2,
      dispatch: (changes) => {
        if (failNext) {
          failNext = false;
          throw new Error('transient');
        }
        seen.push(...changes);
      },
    });
    t.after(() => follower.stop());
    for (let i = 0; i < 5; i++) await store.commit([put(`k${i}`)]);
    await store.commit([put('m1'), put('m2'), put('m3')]); // one commit larger than a page comes whole
    await follower.start();
    await follower.poke();
    assert.deepEqual(seen.map((c) => c.key), ['k0', 'k1', 'k2', 'k3', 'k4', 'm1', 'm2', 'm3']);
    await store.commit([{ op: 'delete', key: 'k0' }]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the poll picks it up
    assert.deepEqual(seen.at(-1), { key: 'k0', revision: await store.revision(), version: 0, deleted: true });
    assert.equal(follower.revision, await store.revision());
  });

  it('routes key, identity and barrier records to their caches and rollback memory', () => {
    const calls: string[] = [];
    const dispatch = invalidationDispatcher({
      invalidateKey: (id) => calls.push(`key ${id}`),
      invalidateIdentity: () => calls.push('identity'),
      versions: {
        forget: (kind, id) => calls.push(`forget ${kind} ${id}`),
        noteCommitted: (kind, id, version) => calls.push(`note ${kind} ${id} ${version}`),
      },
    });
    dispatch([
      { key: 'key/k1', revision: 5, version: 3, deleted: false },
      { key: 'principal-cert/ab', revision: 6, version: 0, deleted: true },
      { key: 'cluster/node/a', revision: 6, version: 9, deleted: false },
      { key: 'principal/p1', revision: 7, version: 1, deleted: false },
    ]);
    assert.deepEqual(calls, [
      'key k1', 'forget key key/k1', 'note key key/k1 3',
      'forget principal-cert principal-cert/ab',
      'forget principal principal/p1', 'note principal principal/p1 1',
      'identity',
    ]);
    assert.equal(recordKindOf('quorum/policy'), 'quorum-policy');
    assert.equal(recordKindOf('quorum/policy2'), undefined);
    assert.equal(recordKindOf('key-use/request/r'), 'key-use-request');
    assert.equal(recordKindOf('audit/n/1'), undefined);
  });

  it('wakes the admitter once per page that writes a join request, not for deletions or join tokens', () => {
    let wakes = 0;
    const dispatch = invalidationDispatcher({ joinRequested: () => { wakes++; } });
    dispatch([
      { key: 'cluster/join/r1', revision: 1, version: 1, deleted: false },
      { key: 'cluster/join/r2', revision: 2, version: 1, deleted: false },
    ]);
    assert.equal(wakes, 1);
    dispatch([
      { key: 'cluster/join/r1', revision: 3, version: 0, deleted: true },
      { key: 'cluster/join-token/t1', revision: 4, version: 2, deleted: false },
      { key: 'cluster/node/n1', revision: 5, version: 7, deleted: false },
    ]);
    assert.equal(wakes, 1);
    dispatch([{ key: 'cluster/join/r3', revision: 6, version: 2, deleted: false }]);
    assert.equal(wakes, 2);
  });

  it('reports a store that is down and catches up once it answers', async (t) => {
    const store = await openSqliteStore(':memory:');
    t.after(() => store.close());
    let down = true;
    const errors: unknown[] = [];
    const seen: string[] = [];
    const follower = new ChangeFollower({
      store: { get: store.get.bind(store), list: store.list.bind(store), commit: store.commit.bind(store), revision: store.revision.bind(store), close: store.close.bind(store),
        changes: (after: number, limit?: number) => (down ? Promise.reject(new CofferError('STORE_UNAVAILABLE', 'down')) : store.changes(after, limit)) },
      from: 0, pollMs: 20, onError: (e) => errors.push(e), dispatch: (changes) => {
        seen.push(...changes.map((c) => c.key));
      },
    });
    t.after(() => follower.stop());
    await store.commit([put('a')]);
    await follower.start();
    assert.equal((errors[0] as { code?: unknown }).code, 'STORE_UNAVAILABLE');
    down = false;
    await follower.poke();
    assert.deepEqual(seen, ['a']);
  });
});
