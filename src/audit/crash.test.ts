import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { AuditJournal } from './journal.ts';
import { isCheckpoint, readRecords, tempDir } from './journal-test-kit.ts';
import { verifyJournal } from './verify.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'crash-appender.ts');
const ACKS_BEFORE_KILL = 3000;

describe('AuditJournal crash safety', { timeout: 60_000 }, () => {
  it('keeps every acknowledged entry when the process is SIGKILLed mid-stream', async (t) => {
    const path = join(tempDir(t), 'audit.log');
    const child = spawn(process.execPath, [FIXTURE, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let publicKey: Buffer | undefined;
    const acknowledged = new Map<number, number>();
    // Reads to the end of the pipe: lines written before the kill are all delivered.
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('key ')) {
        publicKey = Buffer.from(line.slice(4), 'base64');
        continue;
      }
      const [seq, n] = line.split(' ').map(Number);
      acknowledged.set(seq as number, n as number);
      if (acknowledged.size === ACKS_BEFORE_KILL) child.kill('SIGKILL');
    }
    clearTimeout(guard);
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    assert.ok(publicKey !== undefined);
    assert.ok(acknowledged.size >= ACKS_BEFORE_KILL, `only ${acknowledged.size} acknowledgements before the guard fired`);

    // As the crash left it: verifies (a torn last line, if any, is skipped).
    const raw = await verifyJournal(path, { publicKey, checkpointEvery: 64 });
    assert.equal(raw.ok, true, JSON.stringify(raw));

    const journal = await AuditJournal.open({ path, nodeId: 'crash-node', checkpointEvery: 64 });
    const maxAcked = Math.max(...acknowledged.keys());
    assert.ok(journal.head().seq >= maxAcked, `head ${journal.head().seq} is behind acknowledged seq ${maxAcked}`);
    await journal.close();

    const entries = readRecords(path).filter((record) => !isCheckpoint(record));
    for (const [seq, n] of acknowledged) {
      assert.equal(entries[seq]?.['seq'], seq);
      assert.equal(entries[seq]['requestId'], `req-${n}`, `acknowledged entry ${seq} is missing or different`);
    }
    // The reopened journal wrote an unsigned checkpoint on close, so check chain and roots without the key.
    const reopened = await verifyJournal(path, { checkpointEvery: 64 });
    assert.equal(reopened.ok, true, JSON.stringify(reopened));
  });
});
