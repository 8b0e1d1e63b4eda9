import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyRecord, StoredKey } from '../key-record.ts';
import type { KeyRepository } from '../ports.ts';
import { alice } from './engine-test-kit.ts';
import { KeyEngine } from './key-engine.ts';
import { MemoryAuditSink } from './memory-key-repository.ts';

/**
 * A repository that counts reads and can purge a key (record and name index), which no Coffer
 * repository does yet: it lets a test free a name and re-create it under a new id.
 */
class PurgeableRepository implements KeyRepository {
  readonly byId = new Map<string, StoredKey>();
  readonly byName = new Map<string, string>();
  reads = { get: 0, getByName: 0 };
  /** Runs inside the next getByName, after it has read the index: lets a test change state mid-read. */
  duringGetByName: (() => void) | undefined;

  get(id: string): Promise<StoredKey | undefined> {
    this.reads.get += 1;
    return Promise.resolve(this.byId.get(id));
  }

  async getByName(project: string, name: string): Promise<StoredKey | undefined> {
    this.reads.getByName += 1;
    const id = this.byName.get(`${project}/${name}`);
    const stored = id === undefined ? undefined : this.byId.get(id);
    const during = this.duringGetByName;
    this.duringGetByName = undefined;
    if (during !== undefined) {
      await Promise.resolve();
      during();
    }
    return stored;
  }

  create(record: KeyRecord): Promise<StoredKey> {
    const stored = { record, revision: 1 };
    this.byId.set(record.id, stored);
    this.byName.set(`${record.project}/${record.name}`, record.id);
    return Promise.resolve(stored);
  }

  update(record: KeyRecord, expectedRevision: number): Promise<StoredKey> {
    const stored = { record, revision: expectedRevision + 1 };
    this.byId.set(record.id, stored);
    return Promise.resolve(stored);
  }

  list(): Promise<StoredKey[]> {
    return Promise.resolve([]);
  }

  scan(): Promise<StoredKey[]> {
    return Promise.resolve([]);
  }

  purge(id: string): void {
    const stored = this.byId.get(id);
    assert.ok(stored);
    this.byId.delete(id);
    this.byName.delete(`${stored.record.project}/${stored.record.name}`);
  }
}

function setUp(): { engine: KeyEngine; repository: PurgeableRepository } {
  const repository = new PurgeableRepository();
  return { engine: new KeyEngine({ repository, audit: new MemoryAuditSink() }), repository };
}

const REF = { project: 'alpha', name: 'named' } as const;
const create = (engine: KeyEngine): Promise<{ id: string }> =>
  engine.keys.create(alice, { project: 'alpha', name: 'named', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });

describe('engine key cache', () => {
  it('resolves a name from the repository once, then from the cache', async () => {
    const { engine, repository } = setUp();
    const key = await create(engine);
    for (let i = 0; i < 3; i++) assert.equal((await engine.keys.describe(alice, REF)).id, key.id);
    assert.deepEqual(repository.reads, { get: 0, getByName: 1 });
  });

  it('does not cache a name that does not exist yet', async () => {
    const { engine, repository } = setUp();
    await assert.rejects(engine.keys.describe(alice, REF), { code: 'KEY_NOT_FOUND' });
    const key = await create(engine);
    assert.equal((await engine.keys.describe(alice, REF)).id, key.id);
    assert.equal(repository.reads.getByName, 2);
  });

  it('resolves a purged and re-created name to the new key once the old id is invalidated', async () => {
    const { engine, repository } = setUp();
    const old = await create(engine);
    assert.equal((await engine.keys.describe(alice, REF)).id, old.id);
    repository.purge(old.id);
    engine.invalidate(old.id);
    await assert.rejects(engine.keys.describe(alice, REF), { code: 'KEY_NOT_FOUND' });
    const recreated = await create(engine);
    assert.notEqual(recreated.id, old.id);
    assert.equal((await engine.keys.describe(alice, REF)).id, recreated.id);
    await assert.rejects(engine.keys.describe(alice, old.id), { code: 'KEY_NOT_FOUND' });
  });

  it('drops a cached name whose id no longer resolves and asks the repository again', async () => {
    const { engine, repository } = setUp();
    const old = await create(engine);
    await engine.keys.describe(alice, REF);
    // Another node purged and re-created the name; this node learns only that the old id changed.
    repository.purge(old.id);
    const recreated = await create(engine);
    engine.invalidate(old.id);
    assert.equal((await engine.keys.describe(alice, REF)).id, recreated.id);
  });

  it('does not cache a name read that an invalidation overtook', async () => {
    const { engine, repository } = setUp();
    const old = await create(engine);
    engine.invalidate(old.id);
    // The read returns the old key, but the key is purged and re-created while the read is in flight.
    let recreated: Promise<{ id: string }> | undefined;
    repository.duringGetByName = () => {
      repository.purge(old.id);
      engine.invalidate(old.id);
      recreated = create(engine);
    };
    assert.equal((await engine.keys.describe(alice, REF)).id, old.id);
    assert.ok(recreated);
    const { id } = await recreated;
    assert.equal((await engine.keys.describe(alice, REF)).id, id);
  });
});
