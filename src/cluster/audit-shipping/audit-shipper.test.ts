// Audit shipping over a store that goes away and comes back (also with commits whose outcome is
// unknown): every entry arrives in order, none lost, none twice, and the copy verifies as a journal.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CofferError } from '../../core/errors.ts';
import { AuditJournal, verifyJournal } from '../../audit/index.ts';
import { openSqliteStore, type Store } from '../../store/index.ts';
import { AuditShipper, auditCursorKey } from './audit-shipper.ts';

/** A store that can be switched off, or made to lose the answer of its next commits after applying them. */
function flaky(inner: Store): Store & { down: boolean; loseAnswers: number } {
  const unavailable = (): Promise<never> => Promise.reject(new CofferError('STORE_UNAVAILABLE', 'down'));
  const wrapper = {
    down: false,
    loseAnswers: 0,
    get: (key: string) => (wrapper.down ? unavailable() : inner.get(key)),
    list: (prefix: string, options?: { after?: string; limit?: number }) => (wrapper.down ? unavailable() : inner.list(prefix, options)),
    commit: async (writes: Parameters<Store['commit']>[0]) => {
      if (wrapper.down) return unavailable();
      const result = await inner.commit(writes);
      if (wrapper.loseAnswers > 0) {
        wrapper.loseAnswers -= 1;
        return unavailable();
      }
      return result;
    },
    changes: (after: number, limit?: number) => (wrapper.down ? unavailable() : inner.changes(after, limit)),
    revision: () => (wrapper.down ? unavailable() : inner.revision()),
    close: () => inner.close(),
  };
  return wrapper;
}

async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('audit shipping', () => {
  it('ships every durable entry and checkpoint once, in order, across outages and lost answers; the copy verifies', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-ship-'));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const inner = await openSqliteStore(join(dir, 'store.db'));
    t.after(() => inner.close());
    const store = flaky(inner);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const path = join(dir, 'audit.jsonl');
    let journal: AuditJournal | undefined = await AuditJournal.open({
      path, nodeId: 'n1', checkpointEvery: 7, checkpointSigner: { sign: (data) => sign(null, data, privateKey), publicKey },
    });
    const shipper = new AuditShipper({
      store, nodeId: 'n1', journalPath: path, durableSeq: () => journal?.head().seq ?? Number.POSITIVE_INFINITY,
      batchLines: 5, pollMs: 30, minBackoffMs: 10, maxBackoffMs: 50,
    });
    t.after(() => shipper.stop());
    shipper.start();
    const event = (i: number) => ({ time: new Date().toISOString(), principal: 'p', operation: 'op', outcome: 'ALLOWED' as const, requestId: `r${i}` });
    for (let i = 0; i < 20; i++) await journal.append(event(i));
    await until(() => shipper.shippedSeq === 19);

    // The store goes away: the journal keeps accepting entries, the shipper retries.
    store.down = true;
    for (let i = 20; i < 60; i++) await journal.append(event(i));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(shipper.state, 'retrying');
    assert.equal(shipper.shippedSeq, -1); // the cursor is re-read after a failure
    store.down = false;
    // Back, but the next two commits apply and then lose their answer (outcome unknown).
    store.loseAnswers = 2;
    await until(() => shipper.shippedSeq === 59);
    await journal.close();
    journal = undefined;
    await shipper.flush();

    const entries = await inner.list('audit/n1/');
    const lines = entries.map((e) => Buffer.from(e.value).toString('utf8'));
    const seqs = lines.map((l) => JSON.parse(l) as { seq?: number; type?: string }).filter((l) => l.type !== 'checkpoint').map((l) => l.seq);
    assert.deepEqual(seqs, Array.from({ length: 60 }, (_, i) => i));
    assert.ok(lines.filter((l) => l.includes('"checkpoint"')).length >= 8);
    const copy = join(dir, 'copy.jsonl');
    writeFileSync(copy, lines.map((l) => `${l}\n`).join(''));
    const verified = await verifyJournal(copy, { publicKey, checkpointEvery: 7 });
    assert.equal(verified.ok, true, JSON.stringify(verified));
    const cursor = JSON.parse(Buffer.from((await inner.get(auditCursorKey('n1')))?.value ?? []).toString('utf8')) as { seq: number };
    assert.equal(cursor.seq, 59);

    // A restarted shipper over the same file ships nothing twice.
    const again = new AuditShipper({ store, nodeId: 'n1', journalPath: path, durableSeq: () => Number.POSITIVE_INFINITY });
    await again.flush();
    assert.equal(again.shipped, 0);
    assert.equal(again.shippedSeq, 59);
    await again.stop();
  });

  it('stops with AUDIT_CHAIN_INVALID when the store already holds a different chain for this node id', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-ship-'));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const store = await openSqliteStore(join(dir, 'store.db'));
    t.after(() => store.close());
    const write = async (name: string) => {
      const journal = await AuditJournal.open({ path: join(dir, name), nodeId: 'same' });
      for (let i = 0; i < 3; i++) await journal.append({ time: new Date().toISOString(), principal: name, operation: 'op', outcome: 'ALLOWED', requestId: 'r' });
      await journal.close();
    };
    await write('first.jsonl');
    await write('second.jsonl');
    const first = new AuditShipper({ store, nodeId: 'same', journalPath: join(dir, 'first.jsonl'), durableSeq: () => Number.POSITIVE_INFINITY });
    await first.flush();
    assert.equal(first.shippedSeq, 2);
    const before = (await store.list('audit/same/')).length;
    const errors: unknown[] = [];
    const second = new AuditShipper({ store, nodeId: 'same', journalPath: join(dir, 'second.jsonl'), durableSeq: () => Number.POSITIVE_INFINITY, onError: (e) => errors.push(e) });
    await second.flush();
    assert.equal(second.state, 'diverged');
    assert.equal((errors[0] as { code?: unknown }).code, 'AUDIT_CHAIN_INVALID');
    assert.equal((await store.list('audit/same/')).length, before);
  });
});
