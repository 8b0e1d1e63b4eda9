import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkpointPayload } from './checkpoint.ts';
import { AuditJournal } from './journal.ts';
import { event, isCheckpoint, newSigner, readRecords, rehash, writeRecords, type JsonRecord, type TestSigner } from './journal-test-kit.ts';
import { CompactRange, entryLeafHash } from './merkle.ts';
import { assertJournalValid, verifyJournal, type VerifyJournalResult } from './verify.ts';

// One journal of 250 entries with signed checkpoints at 100, 200 and 250 (on close); each test
// copies its records, tampers with the copy, and verifies it.
let records: JsonRecord[] = [];
let keys: TestSigner;

function positionOf(seq: number): number {
  return records.findIndex((record) => !isCheckpoint(record) && record['seq'] === seq);
}

function failure(result: VerifyJournalResult): { atSeq: number | undefined; reason: string } {
  if (result.ok) assert.fail('tampering must be detected');
  assert.equal(result.code, 'AUDIT_CHAIN_INVALID');
  return { atSeq: result.atSeq, reason: result.reason };
}

/** Rebuilds hashes, prevHashes and checkpoints over `entries` as a forger would, signing with `signWith` if given. */
function forgeChain(entries: readonly JsonRecord[], signWith?: (data: Uint8Array) => Uint8Array): JsonRecord[] {
  const out: JsonRecord[] = [];
  const range = new CompactRange();
  let prevHash = '0'.repeat(64);
  for (const [seq, original] of entries.entries()) {
    const entry = rehash({ ...original, seq, prevHash });
    prevHash = entry['hash'] as string;
    range.push(entryLeafHash(prevHash));
    out.push(entry);
    if ((seq + 1) % 100 === 0 || seq === entries.length - 1) {
      const checkpoint: JsonRecord = { type: 'checkpoint', treeSize: seq + 1, rootHash: range.root(), time: '2025-01-01T00:00:00.000Z', node: 'node-a', range: range.roots() };
      if (signWith !== undefined) {
        const payload = checkpointPayload({ treeSize: seq + 1, rootHash: range.root(), time: '2025-01-01T00:00:00.000Z', node: 'node-a' });
        checkpoint['signature'] = Buffer.from(signWith(payload)).toString('base64');
      }
      out.push(checkpoint);
    }
  }
  return out;
}

describe('verifyJournal', { timeout: 60_000 }, () => {
  let dir = '';
  let seqFile = 0;
  const check = async (tampered: readonly JsonRecord[], options: Parameters<typeof verifyJournal>[1] = { publicKey: keys.publicKey }) => {
    const path = join(dir, `tampered-${seqFile++}.log`);
    writeRecords(path, tampered);
    return verifyJournal(path, options);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-audit-verify-'));
    keys = newSigner();
    const path = join(dir, 'audit.log');
    const journal = await AuditJournal.open({ path, nodeId: 'node-a', checkpointSigner: keys.signer, checkpointEvery: 100 });
    await Promise.all(Array.from({ length: 250 }, (_, i) => journal.append(event(i))));
    await journal.close();
    records = readRecords(path);
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the untouched journal, re-serialised with its keys in any order', async () => {
    assert.equal(records.length, 253);
    const reordered = records.map((record) => Object.fromEntries(Object.entries(record).reverse()));
    const result = await check(reordered, { publicKey: keys.publicKey, checkpointEvery: 100 });
    if (!result.ok) assert.fail(JSON.stringify(result));
    assert.deepEqual([result.entries, result.checkpoints, result.head.seq], [250, 3, 249]);
  });

  it('detects an edited field at that entry', async () => {
    const tampered = structuredClone(records);
    (tampered[positionOf(137)] as JsonRecord)['outcome'] = 'DENIED';
    assert.deepEqual(failure(await check(tampered)).atSeq, 137);
  });

  it('detects an edited and re-hashed entry at the next entry', async () => {
    const tampered = structuredClone(records);
    tampered[positionOf(137)] = rehash({ ...tampered[positionOf(137)], principal: 'mallory' });
    const { atSeq, reason } = failure(await check(tampered));
    assert.equal(atSeq, 138);
    assert.match(reason, /prevHash/);
  });

  it('detects an edited and re-hashed last entry through the checkpoint that covers it', async () => {
    const tampered = structuredClone(records);
    tampered[positionOf(249)] = rehash({ ...tampered[positionOf(249)], outcome: 'DENIED' });
    assert.match(failure(await check(tampered, {})).reason, /root hash/);
  });

  it('detects a deleted entry', async () => {
    const tampered = records.filter((_, i) => i !== positionOf(42));
    assert.equal(failure(await check(tampered)).atSeq, 42);
  });

  it('detects an inserted forged entry, even one correctly linked and hashed', async () => {
    const tampered = structuredClone(records);
    const previous = tampered[positionOf(41)] as JsonRecord;
    const forged = rehash({ ...tampered[positionOf(42)], seq: 42, prevHash: previous['hash'], requestId: 'forged' });
    tampered.splice(positionOf(42), 0, forged);
    assert.equal(failure(await check(tampered)).atSeq, 43);
  });

  it('detects two swapped entries', async () => {
    const tampered = structuredClone(records);
    const [a, b] = [positionOf(60), positionOf(61)];
    [tampered[a], tampered[b]] = [tampered[b] as JsonRecord, tampered[a] as JsonRecord];
    assert.equal(failure(await check(tampered)).atSeq, 60);
  });

  it('detects entries cut before a checkpoint that covers them', async () => {
    const tampered = records.filter((record) => isCheckpoint(record) || (record['seq'] as number) < 240);
    const { atSeq, reason } = failure(await check(tampered));
    assert.equal(atSeq, 240);
    assert.match(reason, /deleted or truncated/);
  });

  it('cannot see a cut made right after a checkpoint (documented limit)', async () => {
    const cut = records.slice(0, positionOf(199) + 2);
    assert.equal(cut.at(-1)?.['type'], 'checkpoint');
    const result = await check(cut, { publicKey: keys.publicKey, checkpointEvery: 100 });
    if (!result.ok) assert.fail(JSON.stringify(result));
    assert.equal(result.entries, 200);
  });

  it('detects a rewritten history through the checkpoint roots, and re-rooted forgeries through the signature', async () => {
    const entries = records.filter((record) => !isCheckpoint(record) && record['seq'] !== 42);
    // Renumbered and re-hashed, but the original checkpoints kept: the roots no longer match.
    const renumbered = forgeChain(entries).filter((record) => !isCheckpoint(record));
    const withOldCheckpoints = [...renumbered.slice(0, 100), records[positionOf(99) + 1] as JsonRecord, ...renumbered.slice(100)];
    assert.match(failure(await check(withOldCheckpoints)).reason, /root hash/);
    // Checkpoints recomputed too: only the signature gives it away.
    const reRooted = forgeChain(entries);
    assert.match(failure(await check(reRooted)).reason, /not signed/);
    assert.equal((await check(reRooted, {})).ok, true, 'without the public key only consistency is checked');
    const { privateKey } = generateKeyPairSync('ed25519');
    const forgedSignatures = forgeChain(entries, (data) => sign(null, data, privateKey));
    assert.match(failure(await check(forgedSignatures)).reason, /signature is invalid/);
  });

  it('detects a checkpoint with a bad signature, and any checkpoint under the wrong public key', async () => {
    const tampered = structuredClone(records);
    const checkpoint = tampered[positionOf(199) + 1] as JsonRecord;
    const signature = Buffer.from(checkpoint['signature'] as string, 'base64');
    signature[10] = (signature[10] ?? 0) ^ 1;
    checkpoint['signature'] = signature.toString('base64');
    assert.deepEqual(failure(await check(tampered)), { atSeq: 199, reason: "a checkpoint's signature is invalid" });

    const other = newSigner();
    assert.deepEqual(failure(await check(records, { publicKey: other.publicKey })), { atSeq: 99, reason: "a checkpoint's signature is invalid" });
  });

  it('accepts the public key as SPKI DER or as the raw 32-byte key, and refuses other key types', async () => {
    const der = keys.publicKey.export({ format: 'der', type: 'spki' });
    assert.equal((await check(records, { publicKey: der })).ok, true);
    assert.equal((await check(records, { publicKey: der.subarray(-32) })).ok, true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    await assert.rejects(check(records, { publicKey: rsa }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(check(records, { publicKey: new Uint8Array(7) }), { code: 'INVALID_ARGUMENT' });
  });

  it('with checkpointEvery, detects a journal whose checkpoints were all dropped', async () => {
    const bare = records.filter((record) => !isCheckpoint(record));
    assert.equal(failure(await check(bare, { publicKey: keys.publicKey, checkpointEvery: 100 })).atSeq, 100);
    assert.equal((await check(bare)).ok, true, 'without it, an uncheckpointed journal is only chain-checked');
  });

  it('detects a checkpoint moved later, malformed lines, unknown records and smuggled fields', async () => {
    const moved = structuredClone(records);
    const [checkpoint] = moved.splice(positionOf(99) + 1, 1);
    moved.splice(positionOf(109), 0, checkpoint as JsonRecord);
    assert.match(failure(await check(moved)).reason, /out of place/);

    const smuggled = structuredClone(records);
    (smuggled[positionOf(5)] as JsonRecord)['plaintext'] = 'secret';
    assert.deepEqual(failure(await check(smuggled)), { atSeq: 5, reason: 'malformed entry: an audit event has an unknown field' });

    const path = join(dir, 'garbled.log');
    writeRecords(path, records.slice(0, 10));
    appendFileSync(path, 'garbage\n');
    assert.deepEqual(failure(await verifyJournal(path)), { atSeq: 10, reason: 'a line is not valid JSON' });
    writeRecords(path, [...records.slice(0, 3), { type: 'note', text: 'hello' }]);
    assert.match(failure(await verifyJournal(path)).reason, /unknown record type/);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"seq":1,', '"seq":"1",'));
    assert.match(failure(await verifyJournal(path)).reason, /seq must be/);
  });

  it('assertJournalValid throws AUDIT_CHAIN_INVALID; an unreadable file is AUDIT_UNAVAILABLE', async () => {
    const path = join(dir, 'asserted.log');
    writeRecords(path, records);
    assert.deepEqual((await assertJournalValid(path, { publicKey: keys.publicKey })).entries, 250);
    writeRecords(path, records.filter((_, i) => i !== positionOf(7)));
    await assert.rejects(assertJournalValid(path, { publicKey: keys.publicKey }), { code: 'AUDIT_CHAIN_INVALID' });
    await assert.rejects(verifyJournal(join(dir, 'missing.log')), { code: 'AUDIT_UNAVAILABLE' });
  });

  it('verifies an empty journal', async () => {
    const path = join(dir, 'empty.log');
    writeFileSync(path, '');
    assert.deepEqual(await verifyJournal(path, { publicKey: keys.publicKey }), { ok: true, entries: 0, checkpoints: 0, head: { seq: -1, hash: '0'.repeat(64) } });
  });
});
