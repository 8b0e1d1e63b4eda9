// The SQLite store: the shared conformance suite on a file and in memory, then what is SQLite's own
// (durability settings, schema migrations, refusing foreign or damaged files, locks, tampered rows).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { runStoreConformance } from '../conformance.ts';
import { openSqliteStore } from './index.ts';
import { APPLICATION_ID, MIGRATIONS } from './sqlite-schema.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

let dir = '';
let fileCount = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-sqlite-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
const freshPath = (): string => join(dir, `store-${++fileCount}.db`);

runStoreConformance('sqlite (file)', async () => {
  const store = await openSqliteStore(freshPath());
  return { store, cleanup: () => store.close() };
});

runStoreConformance('sqlite (:memory:)', async () => {
  const store = await openSqliteStore(':memory:');
  return { store, cleanup: () => store.close() };
});

/** A second, raw connection to the file: how an operator, or an attacker, sees it. */
function raw(path: string): DatabaseSync {
  return new DatabaseSync(path, { timeout: 1000 });
}

describe('sqlite store', () => {
  it('keeps entries, versions, tombstones and the revision across close and reopen', async () => {
    const path = freshPath();
    const first = await openSqliteStore(path);
    await first.commit([{ op: 'put', key: 'a', value: bytes('1') }, { op: 'put', key: 'b', value: bytes('1') }]);
    await first.commit([{ op: 'put', key: 'a', value: bytes('2') }]);
    const last = await first.commit([{ op: 'delete', key: 'b' }]);
    await first.close();
    const second = await openSqliteStore(path);
    assert.equal(await second.revision(), last.revision);
    assert.deepEqual(await second.get('a'), { key: 'a', value: bytes('2'), version: 2, revision: last.revision - 1 });
    assert.deepEqual(await second.changes(0), [
      { key: 'a', revision: last.revision - 1, version: 2, deleted: false },
      { key: 'b', revision: last.revision, version: 0, deleted: true },
    ]);
    assert.deepEqual(await second.checkIntegrity(), []);
    await second.close();
  });

  it('runs in WAL mode with synchronous=FULL and records its migrations', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    assert.equal(store.schemaVersion, MIGRATIONS.length);
    assert.deepEqual(await store.checkIntegrity(), [], 'checkIntegrity also verifies the durability settings');
    const db = raw(path);
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
    assert.equal(db.prepare('PRAGMA application_id').get()?.['application_id'], APPLICATION_ID);
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => r['version']);
    assert.deepEqual(versions, MIGRATIONS.map((_, i) => i + 1));
    db.close();
    await store.close();
    const reopened = await openSqliteStore(path);
    assert.equal(reopened.schemaVersion, MIGRATIONS.length, 'reopening applies nothing twice');
    await reopened.close();
  });

  it('a tombstone is one row that re-creation overwrites', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.commit([{ op: 'put', key: 'k', value: bytes('v') }]);
    await store.commit([{ op: 'delete', key: 'k' }]);
    const db = raw(path);
    const rows = (): unknown[] => db.prepare("SELECT value, version FROM entries WHERE key = 'k'").all().map((r) => ({ ...r }));
    assert.deepEqual(rows(), [{ value: null, version: 0 }]);
    await store.commit([{ op: 'put', key: 'k', value: bytes('again'), expectVersion: 0 }]);
    assert.deepEqual(rows(), [{ value: bytes('again'), version: 1 }]);
    db.close();
    await store.close();
  });

  it('refuses a file whose schema is newer than this code (STORE_CORRUPT)', async () => {
    const path = freshPath();
    await (await openSqliteStore(path)).close();
    const db = raw(path);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(MIGRATIONS.length + 1, new Date().toISOString());
    db.close();
    await assert.rejects(openSqliteStore(path), { code: 'STORE_CORRUPT' });
  });

  it('refuses a schema history with a gap (STORE_CORRUPT)', async () => {
    const path = freshPath();
    await (await openSqliteStore(path)).close();
    const db = raw(path);
    db.exec('UPDATE schema_migrations SET version = version + 1');
    db.close();
    await assert.rejects(openSqliteStore(path), { code: 'STORE_CORRUPT' });
  });

  it("refuses another application's database and a file that is not a database (STORE_CORRUPT)", async () => {
    const foreign = freshPath();
    const db = raw(foreign);
    db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY)');
    db.close();
    await assert.rejects(openSqliteStore(foreign), { code: 'STORE_CORRUPT' });
    const garbage = freshPath();
    await writeFile(garbage, Buffer.alloc(8192, 0x41));
    await assert.rejects(openSqliteStore(garbage), { code: 'STORE_CORRUPT' });
  });

  it('accepts an existing empty file as a new store', async () => {
    const path = freshPath();
    await writeFile(path, new Uint8Array(0));
    const store = await openSqliteStore(path);
    assert.equal(await store.revision(), 0);
    await store.close();
  });

  it('fails to open in a missing directory (STORE_UNAVAILABLE) and rejects bad options (INVALID_ARGUMENT)', async () => {
    await assert.rejects(openSqliteStore(join(dir, 'no-such-dir', 'x.db')), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(openSqliteStore(''), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(openSqliteStore(freshPath(), { busyTimeoutMs: -1 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(openSqliteStore(freshPath(), { busyTimeoutMs: 1.5 }), { code: 'INVALID_ARGUMENT' });
  });

  it('a commit blocked by another writer fails with STORE_UNAVAILABLE after the busy timeout; reads go on', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path, { busyTimeoutMs: 50 });
    await store.commit([{ op: 'put', key: 'k', value: bytes('v1') }]);
    const db = raw(path);
    db.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    await assert.rejects(store.commit([{ op: 'put', key: 'k', value: bytes('v2') }]), { code: 'STORE_UNAVAILABLE' });
    assert.ok(performance.now() - started >= 40, 'it waited for the lock first');
    assert.equal((await store.get('k'))?.version, 1, 'WAL readers are not blocked by a writer');
    db.exec('ROLLBACK');
    db.close();
    assert.deepEqual((await store.commit([{ op: 'put', key: 'k', value: bytes('v2') }])).versions, [2]);
    await store.close();
  });

  it('two connections to one file share compare-and-set', async () => {
    const path = freshPath();
    const one = await openSqliteStore(path);
    const two = await openSqliteStore(path);
    await one.commit([{ op: 'put', key: 'k', value: bytes('one'), expectVersion: 0 }]);
    await assert.rejects(two.commit([{ op: 'put', key: 'k', value: bytes('two'), expectVersion: 0 }]), { code: 'STORE_CONFLICT' });
    await two.commit([{ op: 'put', key: 'k', value: bytes('two'), expectVersion: 1 }]);
    assert.equal((await one.get('k'))?.version, 2);
    assert.equal(await one.revision(), await two.revision());
    await one.close();
    await two.close();
  });

  it('a database failure in the middle of a commit leaves none of it applied', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.commit([{ op: 'put', key: 'a', value: bytes('a1') }]);
    const db = raw(path);
    // Fails the second write of the batch inside SQLite, after the first has been written.
    db.exec("CREATE TRIGGER fail_boom BEFORE INSERT ON entries WHEN NEW.key = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    db.close();
    const batch = [
      { op: 'put', key: 'a', value: bytes('a2') },
      { op: 'put', key: 'b', value: bytes('b1') },
      { op: 'put', key: 'boom', value: bytes('x') },
    ] as const;
    await assert.rejects(store.commit(batch), { code: 'STORE_UNAVAILABLE' });
    assert.equal((await store.get('a'))?.version, 1);
    assert.equal(await store.get('b'), undefined);
    assert.equal(await store.revision(), 1);
    assert.deepEqual((await store.commit([{ op: 'put', key: 'b', value: bytes('b1') }])).versions, [1], 'the store is usable afterwards');
    await store.close();
  });

  it('rows edited behind its back are reported as STORE_CORRUPT, never returned', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.commit([{ op: 'put', key: 'text', value: bytes('v') }, { op: 'put', key: 'version', value: bytes('v') }]);
    const db = raw(path);
    db.exec("UPDATE entries SET value = 'not bytes' WHERE key = 'text'");
    db.exec('PRAGMA ignore_check_constraints = ON');
    db.exec("UPDATE entries SET version = -3 WHERE key = 'version'");
    db.close();
    await assert.rejects(store.get('text'), { code: 'STORE_CORRUPT' });
    await assert.rejects(store.get('version'), { code: 'STORE_CORRUPT' });
    await assert.rejects(store.list(''), { code: 'STORE_CORRUPT' });
    assert.deepEqual(await store.checkIntegrity(), [
      'CHECK constraint failed in entries',
      '1 values that are not blobs',
      '1 live entries with a version below 1',
    ]);
    await store.close();
  });

  it('checkIntegrity reports entries newer than the store revision', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.commit([{ op: 'put', key: 'k', value: bytes('v') }]);
    const db = raw(path);
    db.exec('UPDATE store_state SET revision = 0');
    db.close();
    assert.deepEqual(await store.checkIntegrity(), ['1 entries newer than the store revision']);
    await store.close();
    await assert.rejects(store.checkIntegrity(), { code: 'STORE_UNAVAILABLE' });
  });

  it('watch calls listeners with the revision of each successful commit, until unsubscribed or closed', async () => {
    const store = await openSqliteStore(':memory:');
    const heard: number[] = [];
    const unsubscribe = store.watch((revision) => heard.push(revision));
    store.watch(() => {
      throw new Error('a failing listener is ignored');
    });
    const first = await store.commit([{ op: 'put', key: 'k', value: bytes('v') }]);
    await assert.rejects(store.commit([{ op: 'put', key: 'k', value: bytes('w'), expectVersion: 0 }]), { code: 'STORE_CONFLICT' });
    const second = await store.commit([{ op: 'delete', key: 'k' }]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(heard, [first.revision, second.revision]);
    unsubscribe();
    await store.commit([{ op: 'put', key: 'k', value: bytes('v') }]);
    const late: number[] = [];
    store.watch((revision) => late.push(revision));
    await store.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(heard, [first.revision, second.revision]);
    assert.deepEqual(late, []);
  });
});
