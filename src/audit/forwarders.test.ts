import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { AuditEntry } from './audit-entry.ts';
import { FileForwarder, StdoutForwarder, type AuditForwarder } from './forwarders.ts';
import { AuditJournal } from './journal.ts';
import { event, isCheckpoint, readRecords, tempDir } from './journal-test-kit.ts';

function journalEntries(path: string): unknown[] {
  return readRecords(path).filter((record) => !isCheckpoint(record));
}

describe('audit forwarders', { timeout: 60_000 }, () => {
  it('StdoutForwarder writes each durable entry as a JSON line, identical to the journal', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', sinks: [new StdoutForwarder(stream)] });
    await Promise.all(Array.from({ length: 30 }, (_, i) => journal.append(event(i))));
    await journal.append(event(30));
    await journal.close();
    const forwarded = text.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
    assert.deepEqual(forwarded, journalEntries(path));
  });

  it('FileForwarder appends a copy to another file', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'audit.log');
    const copy = await FileForwarder.open(join(dir, 'copy.log'));
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', sinks: [copy] });
    for (let i = 0; i < 5; i++) await journal.append(event(i));
    await journal.close();
    await copy.close();
    assert.deepEqual(readRecords(join(dir, 'copy.log')), journalEntries(path));
  });

  it('delivers batches in journal order, once each, as frozen entries', async (t) => {
    const batches: (readonly AuditEntry[])[] = [];
    const slow: AuditForwarder = {
      async forward(entries) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        assert.ok(Object.isFrozen(entries[0]));
        batches.push(entries);
      },
    };
    const journal = await AuditJournal.open({ path: join(tempDir(t), 'audit.log'), nodeId: 'node-a', sinks: [slow] });
    for (let wave = 0; wave < 5; wave++) await Promise.all(Array.from({ length: 10 }, (_, i) => journal.append(event(wave * 10 + i))));
    await journal.close();
    assert.deepEqual(batches.flat().map((entry) => entry.seq), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(journal.stats().forwardErrors, 0);
  });

  it('a failing forwarder never fails or blocks an append; its failures are counted', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const rejecting: AuditForwarder = { forward: () => Promise.reject(new Error('SIEM down')) };
    const throwing: AuditForwarder = {
      forward: () => {
        throw new Error('bug');
      },
    };
    // Stalls until the test lets it go: appends must carry on meanwhile.
    const stall = Promise.withResolvers<undefined>();
    const hanging: AuditForwarder = { forward: () => stall.promise };
    const received: number[] = [];
    const healthy: AuditForwarder = {
      forward: (entries) => {
        received.push(...entries.map((entry) => entry.seq));
        return Promise.resolve();
      },
    };
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', sinks: [rejecting, throwing, hanging, healthy] });
    for (let i = 0; i < 3; i++) await journal.append(event(i));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(journal.stats().forwardErrors, 6, 'three batches failed on each of two forwarders');
    assert.deepEqual(received, [0, 1, 2]);
    assert.equal(journal.stats().entries, 3);
    stall.resolve(undefined);
    await journal.close();
    assert.equal(readFileSync(path, 'utf8').split('\n').filter(Boolean).length, 4);
  });
});
