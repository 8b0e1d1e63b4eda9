// The registry: heartbeats make a node live, silence makes it dead, a clean stop removes only its
// own record, and forged or malformed records never come back out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../store/index.ts';
import { Heartbeat } from './heartbeat.ts';
import { NodeRegistry, nodeRecordKey } from './node-registry.ts';

class Clock {
  ms = Date.parse('2030-01-01T00:00:00Z');
  now(): Date {
    return new Date(this.ms);
  }
}

describe('node registry', () => {
  it('lists live nodes, drops dead ones, and removes only its own record on stop', async (t) => {
    const store = await openSqliteStore(':memory:');
    t.after(() => store.close());
    const clock = new Clock();
    const registry = new NodeRegistry({ store, clock, deadAfterSeconds: 15 });
    let state: 'SEALED' | 'UNSEALED' = 'SEALED';
    const a = new Heartbeat({ registry, nodeId: 'a', apiUrl: 'https://a:8443', version: '1.0.0', state: () => state, clock });
    const b = new Heartbeat({ registry, nodeId: 'b', apiUrl: 'https://b:8443', version: '1.0.0', state: () => 'SEALED', clock });
    await a.start();
    await b.start();
    t.after(async () => {
      await a.stop();
      await b.stop();
    });
    assert.deepEqual((await registry.liveNodes()).map((n) => [n.nodeId, n.state]), [['a', 'SEALED'], ['b', 'SEALED']]);
    state = 'UNSEALED';
    clock.ms += 10_000;
    await a.beat();
    clock.ms += 10_000; // b last beat 20 s ago: dead; a 10 s ago: live
    assert.deepEqual((await registry.liveNodes()).map((n) => [n.nodeId, n.state]), [['a', 'UNSEALED']]);
    assert.equal((await registry.all()).length, 2);

    // A restarted "a" took over the id: the old instance's stop leaves the new record alone.
    const a2 = new Heartbeat({ registry, nodeId: 'a', apiUrl: 'https://a:9443', version: '1.0.1', state: () => 'SEALED', clock });
    await a2.beat();
    await a.stop();
    assert.equal((await registry.all()).find((n) => n.nodeId === 'a')?.apiUrl, 'https://a:9443');
    await a2.stop();
    assert.equal((await registry.all()).some((n) => n.nodeId === 'a'), false);
  });

  it('skips forged and malformed records, and a beat with the store down does not throw', async (t) => {
    const store = await openSqliteStore(':memory:');
    const clock = new Clock();
    const registry = new NodeRegistry({ store, clock });
    const good = { nodeId: 'n', apiUrl: 'https://n:1', state: 'UNSEALED', version: 'v', instanceId: 'i', startedAt: clock.now().toISOString(), lastHeartbeat: clock.now().toISOString() };
    const put = (key: string, value: unknown) => store.commit([{ op: 'put', key, value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) }]);
    await put(nodeRecordKey('n'), good);
    await put(nodeRecordKey('m'), { ...good }); // id in the record differs from its key
    await put(nodeRecordKey('x1'), { ...good, nodeId: 'x1', apiUrl: 'http://plain:80' });
    await put(nodeRecordKey('x2'), { ...good, nodeId: 'x2', apiUrl: 'https://user:pw@host' });
    await put(nodeRecordKey('x3'), { ...good, nodeId: 'x3', state: 'OWNED' });
    await put(nodeRecordKey('x4'), { ...good, nodeId: 'x4', extra: 1 });
    await put(nodeRecordKey('x5'), 'not json');
    await put(nodeRecordKey('x6'), { ...good, nodeId: 'x6', lastHeartbeat: 'yesterday' });
    assert.deepEqual((await registry.liveNodes()).map((n) => n.nodeId), ['n']);
    await assert.rejects(registry.put({ ...good, nodeId: 'bad id' } as never), { code: 'INVALID_ARGUMENT' });

    await store.close();
    const beat = new Heartbeat({ registry, nodeId: 'n', apiUrl: 'https://n:1', version: 'v', state: () => 'SEALED', clock });
    await beat.start();
    assert.equal((beat.lastError as { code?: unknown }).code, 'STORE_UNAVAILABLE');
    await beat.stop();
    t.diagnostic('a beat with the store closed failed quietly, as designed');
  });
});
