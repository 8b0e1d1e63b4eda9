// The PostgreSQL store against a real server started for this file: the shared conformance suite
// (a fresh schema per case), then what is PostgreSQL's own: several nodes (pools) racing, revision
// visibility, LISTEN/NOTIFY, migrations, hostile rows, and failing fast while the server is away.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { runStoreConformance } from '../conformance.ts';
import { rejectsWith } from '../conformance-helpers.ts';
import type { StoreWrite } from '../store.ts';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from './index.ts';
import { adminQuery, createTestDatabase, dropTestSchema, randomName, startTestPostgres, type TestPostgres } from './pg-test-server.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const put = (key: string, value: string, expectVersion?: number): StoreWrite =>
  expectVersion === undefined ? { op: 'put', key, value: bytes(value) } : { op: 'put', key, value: bytes(value), expectVersion };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let server: TestPostgres | undefined;
function pgServer(): TestPostgres {
  if (server === undefined) throw new Error('the test PostgreSQL did not start');
  return server;
}

before(async () => {
  server = await startTestPostgres();
});
after(async () => {
  await server?.destroy();
});

/** Stores opened by a case on one fresh schema; cleanup closes them all and drops the schema. */
function schemaFixture(options: Partial<PostgresStoreOptions> = {}): {
  schema: string;
  open(extra?: Partial<PostgresStoreOptions>): Promise<PostgresStore>;
  cleanup(): Promise<void>;
} {
  const schema = randomName();
  const opened: PostgresStore[] = [];
  return {
    schema,
    async open(extra = {}) {
      const store = await openPostgresStore({ connectionString: pgServer().url, schema, poolSize: 4, ...options, ...extra });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      await dropTestSchema(pgServer().url, schema);
    },
  };
}

runStoreConformance('postgres', async () => {
  const fixture = schemaFixture();
  const store = await fixture.open();
  return { store, cleanup: () => fixture.cleanup() };
});

/** Waits until `condition` holds, polling; fails after `ms`. */
async function eventually(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('postgres store: several nodes', () => {
  it('two stores (two pools) expecting the same version: exactly one commit wins', async () => {
    const fixture = schemaFixture();
    try {
      const [a, b] = [await fixture.open(), await fixture.open()];
      await a.commit([put('k', 'base')]);
      for (let round = 1; round <= 10; round++) {
        const results = await Promise.allSettled([a.commit([put('k', `a${round}`, round)]), b.commit([put('k', `b${round}`, round)])]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        assert.equal(won.length, 1, `round ${round}`);
        assert.equal((lost[0]?.reason as { code?: unknown }).code, 'STORE_CONFLICT');
        assert.equal((await b.get('k'))?.version, round + 1);
      }
    } finally {
      await fixture.cleanup();
    }
  });

  it('a reader following changes() under many concurrent committers never misses a revision', async () => {
    const fixture = schemaFixture();
    try {
      const writers = [await fixture.open(), await fixture.open(), await fixture.open()];
      const reader = await fixture.open();
      const committed = new Map<number, string[]>();
      const progress = { done: false };
      const commits = (async () => {
        const jobs: Promise<void>[] = [];
        for (let i = 0; i < 150; i++) {
          const store = writers[i % 3] ?? reader;
          // Commits of 1 to 3 writes, so pages must not split them.
          const keys = Array.from({ length: 1 + (i % 3) }, (_, j) => `w/${i}/${j}`);
          jobs.push(
            store.commit(keys.map((key) => put(key, 'v'))).then((result) => {
              committed.set(result.revision, keys);
            }),
          );
          if (i % 10 === 0) await sleep(1);
        }
        await Promise.all(jobs);
        progress.done = true;
      })();
      const seen = new Map<number, string[]>();
      let cursor = 0;
      for (;;) {
        const finished = progress.done;
        const page = await reader.changes(cursor, 4);
        for (const change of page) {
          assert.ok(change.revision > cursor, 'the feed never goes backwards');
          seen.set(change.revision, [...(seen.get(change.revision) ?? []), change.key]);
        }
        cursor = page.at(-1)?.revision ?? cursor;
        if (finished && page.length === 0) break;
      }
      await commits;
      // Every key is written once, so each commit's writes all stay at its revision: the reader
      // must have seen every commit, whole, with no revision it passed gaining writes later.
      assert.equal(committed.size, 150);
      assert.deepEqual([...seen.keys()].sort((x, y) => x - y), [...committed.keys()].sort((x, y) => x - y));
      for (const [revision, keys] of committed) assert.deepEqual(seen.get(revision), [...keys].sort(), `revision ${revision}`);
      assert.equal(await reader.revision(), Math.max(...committed.keys()));
    } finally {
      await fixture.cleanup();
    }
  });

  it("watch() hears another store's commits through LISTEN/NOTIFY", async () => {
    const fixture = schemaFixture();
    try {
      const [writer, watcher] = [await fixture.open(), await fixture.open()];
      const heard: number[] = [];
      const unsubscribe = watcher.watch((revision) => heard.push(revision));
      // The first call comes once the LISTEN connection is up: the catch-up hint (revision 0).
      await eventually(() => heard.length > 0, 5000, 'the catch-up call');
      assert.deepEqual(heard, [0]);
      const { revision } = await writer.commit([put('a', '1')]);
      await eventually(() => heard.includes(revision), 5000, 'the notification');
      const second = await writer.commit([put('b', '1')]);
      await eventually(() => heard.includes(second.revision), 5000, 'the second notification');
      assert.deepEqual(heard, [0, revision, second.revision]);
      // A failed commit notifies nobody; an unsubscribed listener hears nothing more.
      await rejectsWith(writer.commit([put('a', 'x', 7)]), 'STORE_CONFLICT');
      unsubscribe();
      await writer.commit([put('c', '1')]);
      await sleep(200);
      assert.deepEqual(heard, [0, revision, second.revision]);
    } finally {
      await fixture.cleanup();
    }
  });

  it('schemas are separate stores, and so are their notifications', async () => {
    const one = schemaFixture();
    const two = schemaFixture();
    try {
      const [a, b] = [await one.open(), await two.open()];
      const heard: number[] = [];
      b.watch((revision) => heard.push(revision));
      await eventually(() => heard.length > 0, 5000, 'the catch-up call');
      await a.commit([put('k', 'in one')]);
      await sleep(200);
      assert.deepEqual(heard, [0]);
      assert.equal(await b.get('k'), undefined);
      assert.equal(await b.revision(), 0);
    } finally {
      await Promise.all([one.cleanup(), two.cleanup()]);
    }
  });
});

describe('postgres store: schema and hostile data', () => {
  it('records its migration, keeps data across reopen, and migrates once when nodes start together', async () => {
    const fixture = schemaFixture();
    try {
      const [first, ...others] = await Promise.all([fixture.open(), fixture.open(), fixture.open()]);
      assert.deepEqual([first, ...others].map((s) => s.schemaVersion), [1, 1, 1]);
      const { rows } = await adminQuery(pgServer().url, `SELECT version FROM ${fixture.schema}.schema_migrations`);
      assert.deepEqual(rows, [{ version: 1 }]);
      await first.commit([put('a', '1')]);
      const { revision } = await first.commit([{ op: 'delete', key: 'a' }]);
      const reopened = await fixture.open();
      assert.equal(await reopened.revision(), revision);
      assert.deepEqual(await reopened.changes(0), [{ key: 'a', revision, version: 0, deleted: true }]);
    } finally {
      await fixture.cleanup();
    }
  });

  it('refuses a schema from a newer Coffer or holding foreign tables (STORE_CORRUPT)', async () => {
    const newer = schemaFixture();
    const foreign = schemaFixture();
    try {
      await newer.open();
      await adminQuery(pgServer().url, `INSERT INTO ${newer.schema}.schema_migrations (version) VALUES (2)`);
      await rejectsWith(newer.open(), 'STORE_CORRUPT', 'newer schema');
      await adminQuery(pgServer().url, `CREATE SCHEMA ${foreign.schema}; CREATE TABLE ${foreign.schema}.accounts (id int)`);
      await rejectsWith(foreign.open(), 'STORE_CORRUPT', 'foreign tables');
    } finally {
      await Promise.all([newer.cleanup(), foreign.cleanup()]);
    }
  });

  it('rows that are not the shape it wrote are STORE_CORRUPT, never returned', async () => {
    const fixture = schemaFixture();
    try {
      const store = await fixture.open();
      await store.commit([put('k', 'v'), put('j', 'v')]);
      const entries = `${fixture.schema}.entries`;
      await adminQuery(pgServer().url, `ALTER TABLE ${entries} DROP CONSTRAINT entries_check; UPDATE ${entries} SET version = 0 WHERE key = 'k'`);
      await rejectsWith(store.get('k'), 'STORE_CORRUPT', 'live row with version 0');
      await rejectsWith(store.list(''), 'STORE_CORRUPT', 'list');
      await rejectsWith(store.changes(0), 'STORE_CORRUPT', 'live row reported deleted with version 0');
      await adminQuery(pgServer().url, `ALTER TABLE ${entries} ALTER COLUMN version TYPE text; UPDATE ${entries} SET version = 'x' WHERE key = 'j'`);
      await rejectsWith(store.get('j'), 'STORE_CORRUPT', 'a version that is not a number');
      await adminQuery(pgServer().url, `DROP TABLE ${entries}`);
      await rejectsWith(store.get('j'), 'STORE_CORRUPT', 'a missing table');
    } finally {
      await fixture.cleanup();
    }
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    const url = pgServer().url;
    await rejectsWith(openPostgresStore({ connectionString: '' }), 'INVALID_ARGUMENT');
    await rejectsWith(openPostgresStore({ connectionString: url, poolSize: 0 }), 'INVALID_ARGUMENT');
    await rejectsWith(openPostgresStore({ connectionString: url, connectTimeoutMs: 1.5 }), 'INVALID_ARGUMENT');
    await rejectsWith(openPostgresStore({ connectionString: url, statementTimeoutMs: -1 }), 'INVALID_ARGUMENT');
    for (const schema of ['', 'Coffer', 'a-b', 'x"; DROP TABLE y; --', 'a'.repeat(49)]) {
      await rejectsWith(openPostgresStore({ connectionString: url, schema }), 'INVALID_ARGUMENT', schema);
    }
  });

  it('works in a database of its own, with the default schema', async () => {
    const database = await createTestDatabase(pgServer().url);
    try {
      const store = await openPostgresStore({ connectionString: database.url });
      assert.equal(store.schema, 'coffer');
      await store.commit([put('k', 'v')]);
      assert.equal((await store.get('k'))?.version, 1);
      await store.close();
    } finally {
      await database.drop();
    }
  });
});

describe('postgres store: failing fast', () => {
  it('a server that accepts but never answers: STORE_UNAVAILABLE within the connect timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const started = Date.now();
      await rejectsWith(openPostgresStore({ connectionString: `postgres://x@127.0.0.1:${port}/x`, connectTimeoutMs: 500 }), 'STORE_UNAVAILABLE');
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a commit stuck behind a lock fails with STORE_UNAVAILABLE at the statement timeout', async () => {
    const fixture = schemaFixture({ statementTimeoutMs: 300 });
    try {
      const store = await fixture.open();
      const { Client } = (await import('pg')).default;
      const holder = new Client({ connectionString: pgServer().url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT * FROM ${fixture.schema}.store_state FOR UPDATE`);
        const started = Date.now();
        await rejectsWith(store.commit([put('k', 'v')]), 'STORE_UNAVAILABLE');
        assert.ok(Date.now() - started < 3000);
        await holder.query('ROLLBACK');
        assert.deepEqual((await store.commit([put('k', 'v')])).versions, [1]);
      } finally {
        await holder.end();
      }
    } finally {
      await fixture.cleanup();
    }
  });

  it('while the server is stopped every call is STORE_UNAVAILABLE fast; after restart the same store works and watch catches up', async () => {
    const fixture = schemaFixture();
    try {
      const store = await fixture.open();
      const other = await fixture.open();
      const heard: number[] = [];
      store.watch((revision) => heard.push(revision));
      await eventually(() => heard.length > 0, 5000, 'the catch-up call');
      const before = await store.commit([put('k', 'v1')]);

      await pgServer().stop();
      const started = Date.now();
      await rejectsWith(store.get('k'), 'STORE_UNAVAILABLE', 'get');
      await rejectsWith(store.list(''), 'STORE_UNAVAILABLE', 'list');
      await rejectsWith(store.commit([put('k', 'v2')]), 'STORE_UNAVAILABLE', 'commit');
      await rejectsWith(store.changes(0), 'STORE_UNAVAILABLE', 'changes');
      await rejectsWith(store.revision(), 'STORE_UNAVAILABLE', 'revision');
      await rejectsWith(openPostgresStore({ connectionString: pgServer().url, schema: fixture.schema }), 'STORE_UNAVAILABLE', 'open');
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);

      const heardBefore = heard.length;
      await pgServer().restart();
      // The LISTEN connection comes back by itself and calls once with the current revision.
      await eventually(() => heard.length > heardBefore, 10_000, 'watch to reconnect');
      assert.equal(heard.at(-1), before.revision);
      assert.equal((await store.get('k'))?.version, 1);
      const afterRestart = await other.commit([put('k', 'v2')]);
      assert.deepEqual(afterRestart.versions, [2]);
      await eventually(() => heard.includes(afterRestart.revision), 5000, 'a notification after the restart');
      assert.equal(await store.revision(), afterRestart.revision);
    } finally {
      await fixture.cleanup();
    }
  });

  it('after the server is killed (a crash) and restarted, the same store works again', async () => {
    const fixture = schemaFixture();
    try {
      const store = await fixture.open();
      const heard: number[] = [];
      store.watch((revision) => heard.push(revision));
      const first = await store.commit([put('k', 'v1')]);
      await eventually(() => heard.includes(first.revision), 5000, 'the first notification');
      await pgServer().kill();
      await rejectsWith(store.commit([put('k', 'v2')]), 'STORE_UNAVAILABLE');
      await pgServer().restart();
      const heardBefore = heard.length;
      // Committed before the kill, so it survived the crash (fsync is on).
      assert.equal((await store.get('k'))?.version, 1);
      const second = await store.commit([put('k', 'v2')]);
      assert.ok(second.revision > first.revision);
      await eventually(() => heard.length > heardBefore && heard.includes(second.revision), 10_000, 'watch after the crash');
    } finally {
      await fixture.cleanup();
    }
  });

  it('close is idempotent, fails later calls, and silences watch', async () => {
    const fixture = schemaFixture();
    try {
      const store = await fixture.open();
      await Promise.all([store.close(), store.close()]);
      await rejectsWith(store.get('k'), 'STORE_UNAVAILABLE');
      let called = false;
      store.watch(() => {
        called = true;
      })();
      assert.equal(called, false);
    } finally {
      await fixture.cleanup();
    }
  });
});
