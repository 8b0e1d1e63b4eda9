// Signing stats over a real SQLite store: record/query round trips with grouping, filters and the
// projects restriction; coalesced concurrent increments; strict telemetry and query parsing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CofferError, isCofferError, type ErrorCode } from '../../core/errors.ts';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import type { Store, StoreWrite } from '../../store/store.ts';
import {
  CONFLICT_TRIES, parseStatsQuery, parseTelemetryEvent, SigningStats, STATS_PREFIX, telemetryStatsEvent, UNKNOWN_NODE, type StatsEvent,
} from './index.ts';

/**
 * A store whose commits are counted; the next `failNext` commits fail (STORE_UNAVAILABLE), and before
 * each of the next `interfereNext` ones another node's SigningStats records `event()` first.
 */
interface CountingStore extends Store {
  readonly commits: { count: number; failNext: number; interfereNext: number };
  /** Every prefix listed. */
  readonly listed: string[];
}

async function openStore(t: TestContext): Promise<CountingStore> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-stats-'));
  const store = await openSqliteStore(join(dir, 'signing.db'));
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const commits = { count: 0, failNext: 0, interfereNext: 0 };
  const otherNode = new SigningStats({ store });
  const listed: string[] = [];
  return {
    commits, listed,
    get: (key) => store.get(key),
    list: (prefix, options) => {
      listed.push(prefix);
      return store.list(prefix, options);
    },
    commit: async (writes: readonly StoreWrite[]) => {
      commits.count += 1;
      if (commits.failNext > 0) {
        commits.failNext -= 1;
        throw new CofferError('STORE_UNAVAILABLE', 'the store is down');
      }
      if (commits.interfereNext > 0) {
        commits.interfereNext -= 1;
        await otherNode.record(event());
      }
      return store.commit(writes);
    },
    changes: (after, limit) => store.changes(after, limit),
    revision: () => store.revision(),
    close: () => store.close(),
  };
}

function event(fields: Partial<StatsEvent> = {}): StatsEvent {
  return {
    at: new Date('2026-03-02T10:00:00Z'), project: 'web', profile: 'release', node: 'coffer-1',
    path: 'service', outcome: 'signed', size: 100, durationMs: 10, ...fields,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => isCofferError(error, code));
}

function throwsWith(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => isCofferError(error, code));
}

const HEX_32 = 'ab'.repeat(32);

function telemetry(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    project: 'web', profile: 'release', digest: { hash: 'SHA-256', value: HEX_32 }, size: 4096,
    outcome: 'signed', durationMs: 12.5, ...fields,
  };
}

describe('SigningStats', () => {
  it('sums counters per group, filters, and keeps only the days asked', async (t) => {
    const store = await openStore(t);
    const stats = new SigningStats({ store });
    await Promise.all([
      stats.record(event()),
      stats.record(event({ size: 50, durationMs: 5 })),
      stats.record(event({ outcome: 'failed', size: 7, durationMs: 1 })),
      stats.record(event({ at: new Date('2026-03-03T23:59:59Z'), profile: 'nightly', node: undefined, path: 'direct' })),
      stats.record(event({ at: new Date('2026-03-03T00:00:00Z'), project: 'api', node: 'coffer-2' })),
      stats.record(event({ at: new Date('2026-03-05T00:00:00Z'), project: 'api' })),
      stats.record(event({ at: new Date('2026-03-01T23:59:59.999Z'), size: 1 })),
    ]);

    assert.deepEqual(await stats.query({ from: '2026-03-02', to: '2026-03-04' }, ['day']), [
      { day: '2026-03-02', count: 3, bytes: 157, durationMs: 16 },
      { day: '2026-03-03', count: 2, bytes: 200, durationMs: 20 },
    ]);
    assert.deepEqual(await stats.query({ from: '2026-03-01', to: '2026-03-05' }, ['project', 'outcome']), [
      { project: 'api', outcome: 'signed', count: 2, bytes: 200, durationMs: 20 },
      { project: 'web', outcome: 'failed', count: 1, bytes: 7, durationMs: 1 },
      { project: 'web', outcome: 'signed', count: 4, bytes: 251, durationMs: 35 },
    ]);
    assert.deepEqual(await stats.query({ from: '2026-03-01', to: '2026-03-05' }, []), [{ count: 7, bytes: 458, durationMs: 56 }]);
    assert.deepEqual(await stats.query({ from: '2026-03-01', to: '2026-03-05', path: 'direct' }, ['node', 'profile', 'path']), [
      { node: UNKNOWN_NODE, profile: 'nightly', path: 'direct', count: 1, bytes: 100, durationMs: 10 },
    ]);
    assert.deepEqual(await stats.query({ from: '2026-03-01', to: '2026-03-05', project: 'web', outcome: 'signed' }, ['day', 'profile']), [
      { day: '2026-03-01', profile: 'release', count: 1, bytes: 1, durationMs: 10 },
      { day: '2026-03-02', profile: 'release', count: 2, bytes: 150, durationMs: 15 },
      { day: '2026-03-03', profile: 'nightly', count: 1, bytes: 100, durationMs: 10 },
    ]);
    assert.deepEqual(await stats.query({ from: '2026-03-01', to: '2026-03-05', node: UNKNOWN_NODE }, ['project']), [
      { project: 'web', count: 1, bytes: 100, durationMs: 10 },
    ]);
    assert.deepEqual(await stats.query({ from: '2026-03-06', to: '2026-03-09' }, ['day']), []);
    // One list per day, narrowed by the fixed segments in key order.
    store.listed.length = 0;
    await stats.query({ from: '2026-03-02', to: '2026-03-03', project: 'web', profile: 'release', path: 'service' }, ['day']);
    assert.deepEqual(store.listed, [`${STATS_PREFIX}2026-03-02/web/release/`, `${STATS_PREFIX}2026-03-03/web/release/`]);
    // A project named as a prefix of another does not reach into its keys.
    await stats.record(event({ project: 'web2' }));
    assert.deepEqual(await stats.query({ from: '2026-03-02', to: '2026-03-02', project: 'web' }, ['project']), [
      { project: 'web', count: 3, bytes: 157, durationMs: 16 },
    ]);
  });

  it('restricts a query to the projects given', async (t) => {
    const stats = new SigningStats({ store: await openStore(t) });
    await Promise.all(['web', 'api', 'docs'].map((project) => stats.record(event({ project }))));
    const range = { from: '2026-03-02', to: '2026-03-02' };
    assert.deepEqual((await stats.query({ ...range, projects: ['web', 'docs'] }, ['project'])).map((row) => row.project), ['docs', 'web']);
    assert.deepEqual(await stats.query({ ...range, projects: ['web'], project: 'api' }, ['project']), []);
    assert.deepEqual(await stats.query({ ...range, projects: [] }, ['project']), []);
    assert.deepEqual(await stats.query({ ...range, projects: ['api'], project: 'api' }, []), [{ count: 1, bytes: 100, durationMs: 10 }]);
  });

  it('merges 200 concurrent increments of one counter into a few commits, each durable when it resolves', async (t) => {
    const store = await openStore(t);
    const stats = new SigningStats({ store });
    await Promise.all(Array.from({ length: 200 }, (_, index) => stats.record(event({ size: index, durationMs: 1 }))));
    assert.ok(store.commits.count <= 5, `${store.commits.count} commits`);
    assert.deepEqual(await stats.query({ from: '2026-03-02', to: '2026-03-02' }, ['day']), [
      { day: '2026-03-02', count: 200, bytes: 199 * 100, durationMs: 200 },
    ]);
    // A second instance reads what the first committed (nothing was left in memory).
    const other = new SigningStats({ store });
    assert.equal((await other.query({ from: '2026-03-02', to: '2026-03-02' }, []))[0]?.count, 200);
  });

  it('loses no increment when two writers (two nodes) contend for one counter', async (t) => {
    const store = await openStore(t);
    const nodes = [new SigningStats({ store }), new SigningStats({ store })];
    const calls: Promise<void>[] = [];
    for (let index = 0; index < 200; index++) calls.push((nodes[index % 2] ?? assert.fail()).record(event()));
    await Promise.all(calls);
    assert.equal((await nodes[0]?.query({ from: '2026-03-02', to: '2026-03-02' }, []))?.[0]?.count, 200);
  });

  it('re-reads and adds again when another node wrote the counter in between, and gives up after 20 tries', async (t) => {
    const store = await openStore(t);
    const stats = new SigningStats({ store });
    const range = { from: '2026-03-02', to: '2026-03-02' };
    store.commits.interfereNext = 1;
    await stats.record(event());
    assert.equal(store.commits.count, 2);
    assert.deepEqual(await stats.query(range, []), [{ count: 2, bytes: 200, durationMs: 20 }]);
    store.commits.count = 0;
    store.commits.interfereNext = CONFLICT_TRIES;
    await rejectsWith(stats.record(event()), 'STORE_CONFLICT');
    assert.equal(store.commits.count, CONFLICT_TRIES);
    assert.deepEqual(await stats.query(range, []), [{ count: 2 + CONFLICT_TRIES, bytes: 200 + CONFLICT_TRIES * 100, durationMs: 20 + CONFLICT_TRIES * 10 }]);
  });

  it('rejects every call of a batch whose commit fails, and the next batch still lands', async (t) => {
    const store = await openStore(t);
    const stats = new SigningStats({ store });
    // The first call is written alone, the next two share the second commit: both commits fail.
    store.commits.failNext = 2;
    const results = await Promise.allSettled([stats.record(event()), stats.record(event()), stats.record(event())]);
    for (const result of results) assert.ok(result.status === 'rejected' && isCofferError(result.reason, 'STORE_UNAVAILABLE'));
    assert.equal(store.commits.count, 2);
    await stats.record(event({ size: 1 }));
    assert.deepEqual(await stats.query({ from: '2026-03-02', to: '2026-03-02' }, []), [{ count: 1, bytes: 1, durationMs: 10 }]);
  });

  it('refuses events and queries that could not form a key', async (t) => {
    const store = await openStore(t);
    const stats = new SigningStats({ store });
    await rejectsWith(stats.record(event({ project: 'web/../api' })), 'INVALID_ARGUMENT');
    await rejectsWith(stats.record(event({ node: UNKNOWN_NODE })), 'INVALID_ARGUMENT');
    await rejectsWith(stats.record(event({ size: -1 })), 'INVALID_ARGUMENT');
    await rejectsWith(stats.record(event({ at: new Date(Number.NaN) })), 'INVALID_ARGUMENT');
    await rejectsWith(stats.query({ from: '2026-03-02', to: '2026-03-02', profile: 'a/b' }, ['day']), 'INVALID_ARGUMENT');
    await rejectsWith(stats.query({ from: '2026-03-03', to: '2026-03-02' }, ['day']), 'INVALID_ARGUMENT');
    await rejectsWith(stats.query({ from: '2026-03-02', to: '2026-03-02' }, ['day', 'day']), 'INVALID_ARGUMENT');
    assert.deepEqual(await store.list(STATS_PREFIX), []);
    assert.equal(store.commits.count, 0);
  });
});

describe('parseTelemetryEvent', () => {
  it('accepts a full event, lowercasing the digest, and records it as a direct signing', async (t) => {
    const parsed = parseTelemetryEvent(telemetry({
      digest: { hash: 'SHA-384', value: 'AB'.repeat(48) }, node: 'coffer-1.example:8443',
      keyId: '0f8fad5b-d9cb-469f-a165-70867728950e', errorCode: 'KEY_NOT_FOUND', outcome: 'failed', size: 2 ** 50,
    }));
    assert.deepEqual(parsed.digest, { hash: 'SHA-384', value: 'ab'.repeat(48) });
    assert.equal(parsed.node, 'coffer-1.example:8443');
    const minimal = parseTelemetryEvent(telemetry());
    assert.deepEqual(Object.keys(minimal).sort(), ['digest', 'durationMs', 'outcome', 'profile', 'project', 'size']);
    const stats = new SigningStats({ store: await openStore(t) });
    await stats.record(telemetryStatsEvent(minimal, new Date('2026-03-02T08:00:00Z')));
    assert.deepEqual(await stats.query({ from: '2026-03-02', to: '2026-03-02' }, ['path', 'node']), [
      { path: 'direct', node: UNKNOWN_NODE, count: 1, bytes: 4096, durationMs: 12.5 },
    ]);
  });

  it('rejects bad events with their codes and records nothing', async (t) => {
    const store = await openStore(t);
    const stats = new SigningStats({ store });
    const bad: [Record<string, unknown> | unknown[] | null, ErrorCode][] = [
      [telemetry({ digest: { hash: 'SHA-256', value: 'ab'.repeat(31) } }), 'INVALID_DIGEST'],
      [telemetry({ digest: { hash: 'SHA-512', value: 'ab'.repeat(32) } }), 'INVALID_DIGEST'],
      [telemetry({ digest: { hash: 'SHA-256', value: 'zz'.repeat(32) } }), 'INVALID_ARGUMENT'],
      [telemetry({ digest: { hash: 'SHA-256', value: `${HEX_32}a` } }), 'INVALID_ARGUMENT'],
      [telemetry({ digest: { hash: 'MD5', value: 'ab'.repeat(16) } }), 'INVALID_ARGUMENT'],
      [telemetry({ digest: { hash: 'SHA-256', value: HEX_32, extra: 1 } }), 'INVALID_ARGUMENT'],
      [telemetry({ digest: HEX_32 }), 'INVALID_ARGUMENT'],
      [telemetry({ submitter: 'mallory' }), 'INVALID_ARGUMENT'],
      [telemetry({ size: -1 }), 'INVALID_ARGUMENT'],
      [telemetry({ size: 1.5 }), 'INVALID_ARGUMENT'],
      [telemetry({ size: 2 ** 50 + 1 }), 'INVALID_ARGUMENT'],
      [telemetry({ size: '10' }), 'INVALID_ARGUMENT'],
      [telemetry({ outcome: 'maybe' }), 'INVALID_ARGUMENT'],
      [telemetry({ durationMs: -0.5 }), 'INVALID_ARGUMENT'],
      [telemetry({ durationMs: 86_400_001 }), 'INVALID_ARGUMENT'],
      [telemetry({ durationMs: Number.POSITIVE_INFINITY }), 'INVALID_ARGUMENT'],
      [telemetry({ project: 'web/other' }), 'INVALID_ARGUMENT'],
      [telemetry({ project: undefined }), 'INVALID_ARGUMENT'],
      [telemetry({ profile: '.hidden' }), 'INVALID_ARGUMENT'],
      [telemetry({ profile: 'p'.repeat(65) }), 'INVALID_ARGUMENT'],
      [telemetry({ node: '-' }), 'INVALID_ARGUMENT'],
      [telemetry({ keyId: '0F8FAD5B-D9CB-469F-A165-70867728950E' }), 'INVALID_ARGUMENT'],
      [telemetry({ errorCode: 'key_not_found' }), 'INVALID_ARGUMENT'],
      [[telemetry()], 'INVALID_ARGUMENT'],
      [null, 'INVALID_ARGUMENT'],
    ];
    for (const [value, code] of bad) {
      // What the route does: parse, then record; a refused event never reaches the store.
      await rejectsWith((async () => { await stats.record(telemetryStatsEvent(parseTelemetryEvent(value), new Date())); })(), code);
    }
    assert.deepEqual(await store.list(STATS_PREFIX), []);
    assert.equal(store.commits.count, 0);
  });

  it('does not repeat long input in its messages', () => {
    const long = 'x'.repeat(5000);
    for (const value of [telemetry({ [long]: 1 }), telemetry({ project: long }), telemetry({ digest: { hash: long, value: long } })]) {
      assert.throws(() => parseTelemetryEvent(value), (error: unknown) => error instanceof CofferError && error.message.length < 200);
    }
  });
});

describe('parseStatsQuery', () => {
  const today = new Date('2026-03-10T23:30:00Z');

  it('defaults to the week ending today, grouped by day', () => {
    assert.deepEqual(parseStatsQuery({}, today), { from: '2026-03-04', to: '2026-03-10', groupBy: ['day'] });
    assert.deepEqual(parseStatsQuery({ to: '2026-03-02' }, today), { from: '2026-02-24', to: '2026-03-02', groupBy: ['day'] });
    assert.deepEqual(parseStatsQuery({
      from: '2025-03-10', to: '2026-03-10', groupBy: 'project,outcome,day', project: 'web', profile: 'release',
      node: 'coffer-1', path: 'direct', outcome: 'failed',
    }, today), {
      from: '2025-03-10', to: '2026-03-10', groupBy: ['project', 'outcome', 'day'], project: 'web', profile: 'release',
      node: 'coffer-1', path: 'direct', outcome: 'failed',
    });
    assert.equal(parseStatsQuery({ from: '2024-01-01', to: '2024-12-31' }, today).from, '2024-01-01');
  });

  it('rejects bad ranges, dimensions and filters', () => {
    const bad: Record<string, unknown>[] = [
      { from: '2026-03-05', to: '2026-03-04' },
      { from: '2025-02-03', to: '2026-03-10' },
      { from: '2024-01-01', to: '2025-01-01' },
      { from: '2026-02-30', to: '2026-03-10' },
      { to: '2026-02-29' },
      { from: '2026-3-01' },
      { from: '2026-03-01T00:00:00Z' },
      { from: ['2026-03-01', '2026-03-02'] },
      { groupBy: 'day,week' },
      { groupBy: 'project,day,project' },
      { groupBy: '' },
      { groupBy: 'day,' },
      { project: 'a/b' },
      { project: '' },
      { node: 'bad node' },
      { path: 'proxy' },
      { outcome: 'SIGNED' },
      { limit: '10' },
    ];
    for (const query of bad) throwsWith(() => parseStatsQuery(query, today), 'INVALID_ARGUMENT');
  });
});
