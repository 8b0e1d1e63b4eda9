import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../core/ports.ts';
import { GENESIS_HASH } from './audit-entry.ts';
import { AuditJournal } from './journal.ts';
import { event, independentHash, isCheckpoint, ManualClock, newSigner, readRecords, tempDir, type JsonRecord } from './journal-test-kit.ts';
import { verifyJournal } from './verify.ts';

const CHAIN_FIELDS = ['seq', 'node', 'prevHash', 'hash'];

function entriesOf(path: string): JsonRecord[] {
  return readRecords(path).filter((record) => !isCheckpoint(record));
}

describe('AuditJournal', { timeout: 60_000 }, () => {
  it('writes a chain of 1,000 entries that verifies, with a signed checkpoint every 100', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const { signer, publicKey } = newSigner();
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', checkpointSigner: signer, checkpointEvery: 100 });
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => journal.append(event(i + j))));
    }
    const head = journal.head();
    await journal.close();

    const entries = entriesOf(path);
    assert.deepEqual(entries.map((entry) => entry['seq']), Array.from({ length: 1000 }, (_, i) => i));
    assert.equal(entries[0]?.['prevHash'], GENESIS_HASH);
    for (const [i, entry] of entries.entries()) {
      assert.equal(entry['hash'], independentHash(entry), `hash of ${i}`);
      if (i > 0) assert.equal(entry['prevHash'], entries[i - 1]?.['hash']);
      assert.equal(entry['node'], 'node-a');
    }
    const checkpoints = readRecords(path).filter(isCheckpoint);
    assert.deepEqual(checkpoints.map((checkpoint) => checkpoint['treeSize']), [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    assert.deepEqual(head, { seq: 999, hash: entries[999]?.['hash'] });
    assert.deepEqual(await verifyJournal(path, { publicKey, checkpointEvery: 100 }), { ok: true, entries: 1000, checkpoints: 10, head });
  });

  it('stores exactly the fields it was given plus the chain fields, and refuses unknown ones', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    const minimal: AuditEvent = { time: '2025-01-01T00:00:00.000Z', principal: 'alice', operation: 'ListKeys', outcome: 'DENIED', requestId: 'r1', errorCode: 'ACCESS_DENIED' };
    const full = event(2, { principal: 'zoë', detail: { zeta: 1, alpha: 'x ✓ 😀', mid: true } });
    await journal.append(minimal);
    await journal.append(full);
    const smuggled = { ...event(3), plaintext: 'top secret' } as AuditEvent;
    await assert.rejects(journal.append(smuggled), { code: 'INVALID_ARGUMENT' });
    await journal.close();

    const [first, second, ...rest] = entriesOf(path);
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.keys(first ?? {}).sort(), [...Object.keys(minimal), ...CHAIN_FIELDS].sort());
    assert.deepEqual(Object.keys(second ?? {}).sort(), [...Object.keys(full), ...CHAIN_FIELDS].sort());
    assert.deepEqual(second?.['detail'], { alpha: 'x ✓ 😀', mid: true, zeta: 1 });
    assert.equal(second['principal'], 'zoë');
    assert.equal(second['hash'], independentHash(second));
    assert.doesNotMatch(readFileSync(path, 'utf8'), /top secret/);
  });

  it('refuses malformed events with INVALID_ARGUMENT and writes nothing for them', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    const bad: unknown[] = [
      null,
      'event',
      { ...event(0), principal: '' },
      { ...event(0), operation: undefined },
      { ...event(0), requestId: 7 },
      { ...event(0), outcome: 'MAYBE' },
      { ...event(0), time: 'yesterday' },
      { ...event(0), keyVersion: -1 },
      { ...event(0), keyVersion: 1.5 },
      { ...event(0), inputDigest: 'XYZ' },
      { ...event(0), errorCode: 'not a code' },
      { ...event(0), project: '' },
      { ...event(0), principal: 'p'.repeat(1025) },
      { ...event(0), detail: { nested: { deep: 1 } } },
      { ...event(0), detail: { '1': 'integer-like key' } },
      { ...event(0), detail: { n: Number.NaN } },
      { ...event(0), detail: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
    ];
    for (const candidate of bad) {
      await assert.rejects(journal.append(candidate as AuditEvent), { code: 'INVALID_ARGUMENT' }, JSON.stringify(candidate));
    }
    await journal.append(event(0));
    await journal.close();
    assert.deepEqual(entriesOf(path).map((entry) => entry['seq']), [0]);
  });

  it('continues seq and chain after a reopen', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const { signer, publicKey } = newSigner();
    const options = { path, nodeId: 'node-a', checkpointSigner: signer, checkpointEvery: 10 };
    let journal = await AuditJournal.open(options);
    for (let i = 0; i < 25; i++) await journal.append(event(i));
    const before = journal.head();
    await journal.close();

    journal = await AuditJournal.open(options);
    assert.deepEqual(journal.head(), before);
    assert.equal(await journal.record(event(25)), 25);
    await journal.close();
    // Reopening right after a checkpoint (the one close wrote) works the same way.
    journal = await AuditJournal.open(options);
    assert.equal(await journal.record(event(26)), 26);
    await journal.close();

    const entries = entriesOf(path);
    assert.deepEqual(entries.map((entry) => entry['seq']), Array.from({ length: 27 }, (_, i) => i));
    assert.equal(entries[25]?.['prevHash'], before.hash);
    const result = await verifyJournal(path, { publicKey, checkpointEvery: 10 });
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it('cuts a torn last line on open: it was never acknowledged', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    let journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    for (let i = 0; i < 5; i++) await journal.append(event(i));
    await journal.close();
    const intact = statSync(path).size;
    appendFileSync(path, '{"detail":{"a":1},"errorCode":"KEY_NOT_F');

    assert.equal((await verifyJournal(path)).ok, true, 'the verifier skips a torn last line too');
    journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    assert.equal(statSync(path).size, intact);
    assert.equal(await journal.record(event(5)), 5);
    await journal.close();
    assert.deepEqual(await verifyJournal(path), { ok: true, entries: 6, checkpoints: 2, head: { seq: 5, hash: entriesOf(path)[5]?.['hash'] } });
  });

  it('refuses to open a journal whose tail does not verify, or that belongs to another node', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'audit.log');
    const journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    for (let i = 0; i < 3; i++) await journal.append(event(i));
    await journal.close();
    await assert.rejects(AuditJournal.open({ path, nodeId: 'node-b' }), { code: 'INVALID_ARGUMENT' });

    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace('"principal":"user-2"', '"principal":"mallory"'));
    await assert.rejects(AuditJournal.open({ path, nodeId: 'node-a' }), { code: 'AUDIT_CHAIN_INVALID' });
    writeFileSync(path, `${text}not json\n`);
    await assert.rejects(AuditJournal.open({ path, nodeId: 'node-a' }), { code: 'AUDIT_CHAIN_INVALID' });
  });

  it('refuses bad options and a second writer in the same process', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const { signer } = newSigner();
    const other = newSigner();
    const refused: unknown[] = [
      { path, nodeId: '' },
      { path, nodeId: 'has space' },
      { path: '', nodeId: 'node-a' },
      { path, nodeId: 'node-a', checkpointEvery: 0 },
      { path, nodeId: 'node-a', checkpointIntervalMs: -5 },
      { path, nodeId: 'node-a', sinks: [{}] },
      { path, nodeId: 'node-a', colour: 'blue' },
      { path, nodeId: 'node-a', checkpointSigner: { sign: (data: Uint8Array) => signer.sign(data), publicKey: other.publicKey } },
      { path, nodeId: 'node-a', checkpointSigner: { sign: (data: Uint8Array) => signer.sign(data), publicKey: Buffer.alloc(5) } },
    ];
    for (const options of refused) {
      await assert.rejects(AuditJournal.open(options as Parameters<typeof AuditJournal.open>[0]), { code: 'INVALID_ARGUMENT' });
    }
    const journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    await assert.rejects(AuditJournal.open({ path, nodeId: 'node-a' }), { code: 'INVALID_ARGUMENT' });
    await journal.close();
    await (await AuditJournal.open({ path, nodeId: 'node-a' })).close();
  });

  it('group-commits concurrent appends: 5,000 gap-free seqs in far fewer fsyncs', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    const seqs = await Promise.all(Array.from({ length: 5000 }, (_, i) => journal.record(event(i))));
    assert.deepEqual([...seqs].sort((a, b) => a - b), Array.from({ length: 5000 }, (_, i) => i));
    const stats = journal.stats();
    assert.equal(stats.entries, 5000);
    assert.ok(stats.batches < 10, `batches: ${stats.batches}`);
    // Appends issued while a batch is being written form the next batch.
    const waves = [];
    for (let wave = 0; wave < 5; wave++) {
      waves.push(...Array.from({ length: 200 }, (_, i) => journal.append(event(5000 + wave * 200 + i))));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(waves);
    assert.ok(journal.stats().batches - stats.batches < 1000, 'no fsync per entry');
    await journal.close();
    assert.deepEqual(entriesOf(path).map((entry) => entry['seq']), Array.from({ length: 6000 }, (_, i) => i));
    assert.equal((await verifyJournal(path)).ok, true);
  });

  it('takes 10,000 concurrent appends in a handful of batches', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const journal = await AuditJournal.open({ path, nodeId: 'node-a' });
    const events = Array.from({ length: 10_000 }, (_, i) => event(i));
    const started = performance.now();
    await Promise.all(events.map((e) => journal.append(e)));
    const elapsed = performance.now() - started;
    assert.ok(journal.stats().batches <= 2, `batches: ${journal.stats().batches}`);
    // Generous bound for shared CI machines; the bench measures the real figure.
    assert.ok(elapsed < 2000, `10,000 appends took ${elapsed.toFixed(0)} ms`);
    await journal.close();
  });

  it('splits a burst into bounded batches once writes have been measured, in order and with checkpoints in place', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', checkpointEvery: 100 });
    // One at a time: the sizer learns the write time and a low rate, so the bound is its minimum.
    for (let i = 0; i < 5; i++) await journal.append(event(i));
    const before = journal.stats();
    const settled: number[] = [];
    const seqs = await Promise.all(Array.from({ length: 1000 }, (_, i) => journal.record(event(5 + i)).then((seq) => {
      settled.push(seq);
      return seq;
    })));
    assert.deepEqual(seqs, Array.from({ length: 1000 }, (_, i) => 5 + i));
    assert.deepEqual(settled, seqs, 'batches become durable, and resolve, in order');
    const batches = journal.stats().batches - before.batches;
    // The first append of the burst is written at once; the rest go in batches of the minimum bound (32).
    assert.ok(batches >= 1 + Math.ceil(999 / 32) && batches <= 2 + Math.ceil(999 / 32), `batches: ${batches}`);
    await journal.close();
    assert.deepEqual(entriesOf(path).map((entry) => entry['seq']), Array.from({ length: 1005 }, (_, i) => i));
    assert.equal((await verifyJournal(path, { checkpointEvery: 100 })).ok, true);
  });

  it('fails closed with AUDIT_UNAVAILABLE when the file cannot be written', async () => {
    // /dev/full accepts open() and fails every write with ENOSPC: a real failing device, no mocks.
    const journal = await AuditJournal.open({ path: '/dev/full', nodeId: 'node-a' });
    const pending = [journal.append(event(0)), journal.append(event(1))];
    for (const append of pending) await assert.rejects(append, { code: 'AUDIT_UNAVAILABLE' });
    await assert.rejects(journal.append(event(2)), { code: 'AUDIT_UNAVAILABLE' });
    assert.deepEqual(journal.head(), { seq: -1, hash: GENESIS_HASH });
    assert.equal(journal.stats().entries, 0);
    await journal.close();
  });

  it('fails closed when a checkpoint cannot be signed', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const { signer } = newSigner();
    let calls = 0;
    const flaky = {
      publicKey: signer.publicKey,
      sign: (data: Uint8Array): Uint8Array => {
        calls += 1;
        if (calls > 1) throw new Error('HSM gone');
        return signer.sign(data);
      },
    };
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', checkpointSigner: flaky, checkpointEvery: 3 });
    await journal.append(event(0));
    await journal.append(event(1));
    await assert.rejects(journal.append(event(2)), { code: 'AUDIT_UNAVAILABLE' });
    await assert.rejects(journal.append(event(3)), { code: 'AUDIT_UNAVAILABLE' });
    await journal.close();
  });

  it('refuses appends after close', async (t) => {
    const journal = await AuditJournal.open({ path: join(tempDir(t), 'audit.log'), nodeId: 'node-a' });
    const last = journal.append(event(0));
    const closed = journal.close();
    await assert.rejects(journal.append(event(1)), { code: 'AUDIT_UNAVAILABLE' });
    await last;
    await closed;
    assert.equal(journal.head().seq, 0);
  });

  it('checkpoints on a timer when entries arrived, with the clock it was given', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const clock = new ManualClock();
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', checkpointIntervalMs: 10, clock });
    await journal.append(event(0));
    await journal.append(event(1));
    for (let waited = 0; readRecords(path).filter(isCheckpoint).length === 0 && waited < 200; waited++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const [checkpoint] = readRecords(path).filter(isCheckpoint);
    assert.equal(checkpoint?.['treeSize'], 2);
    assert.equal(checkpoint['time'], clock.current.toISOString());
    assert.equal(checkpoint['signature'], undefined, 'no signer, no signature');
    await journal.close();
    assert.equal(readRecords(path).filter(isCheckpoint).length, 1, 'close adds no checkpoint over the same entries');
  });
});
