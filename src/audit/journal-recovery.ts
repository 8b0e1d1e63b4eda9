// Reopening a journal: drop a torn last line, then resume seq, chain and Merkle state from the tail.

import type { FileHandle } from 'node:fs/promises';
import { CofferError } from '../core/errors.ts';
import { computeEntryHash, entryShapeProblem, GENESIS_HASH, type ChainHead } from './audit-entry.ts';
import { ChainVerifier, type ChainFailure } from './chain-verifier.ts';
import { checkpointShapeProblem, type Checkpoint } from './checkpoint.ts';
import { CompactRange } from './merkle.ts';

export interface RecoveredJournal {
  readonly head: ChainHead;
  readonly range: CompactRange;
  /** treeSize of the last checkpoint in the file (0 if none). */
  readonly checkpointedSize: number;
  /** The node named in the file's last records, if any. */
  readonly node: string | undefined;
  /** Bytes of a torn last line that were cut off. */
  readonly truncatedBytes: number;
}

const NEWLINE = 0x0a;
const FIRST_CHUNK = 64 * 1024;
// encodeCheckpoint writes `type` first; a line that merely looks different is still checked below.
const CHECKPOINT_START = '{"type":"checkpoint"';

function invalid(failure: ChainFailure): CofferError {
  const where = failure.atSeq === undefined ? '' : ` at seq ${failure.atSeq}`;
  return new CofferError('AUDIT_CHAIN_INVALID', `the audit journal's tail does not verify${where}: ${failure.reason}`);
}

async function readRange(file: FileHandle, start: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, start + done);
    if (bytesRead === 0) throw new CofferError('AUDIT_UNAVAILABLE', 'the audit journal shrank while it was being opened');
    done += bytesRead;
  }
  return buffer;
}

/** Cuts an unterminated last line (a write torn by a crash, never acknowledged). Returns the new size. */
async function cutTornLine(file: FileHandle, size: number): Promise<number> {
  if (size === 0) return 0;
  let end = size;
  let chunk = FIRST_CHUNK;
  while (end > 0) {
    const start = Math.max(0, end - chunk);
    const buffer = await readRange(file, start, end - start);
    const newline = buffer.lastIndexOf(NEWLINE);
    if (newline >= 0) {
      const keep = start + newline + 1;
      if (keep === size) return size;
      end = keep;
      break;
    }
    end = start;
    chunk *= 2;
  }
  await file.truncate(end);
  await file.datasync();
  return end;
}

/**
 * The complete lines of the file's tail: from the file's start, or from the line before the last
 * checkpoint (the entry that checkpoint ends on) if there is one. Reads backwards in growing chunks.
 */
async function tailLines(file: FileHandle, size: number): Promise<{ lines: string[]; checkpointAt: number }> {
  let chunk = FIRST_CHUNK;
  for (;;) {
    const start = Math.max(0, size - chunk);
    const buffer = await readRange(file, start, size - start);
    // Past the file's start, the first line may be partial: begin after the first newline. A newline
    // byte never occurs inside a UTF-8 sequence, so decoding from there is safe.
    const from = start === 0 ? 0 : buffer.indexOf(NEWLINE) + 1;
    const lines = buffer.toString('utf8', from, buffer.length - 1).split('\n');
    const checkpointAt = lines.findLastIndex((line) => line.startsWith(CHECKPOINT_START));
    const entryBefore = checkpointAt > 0 && lines.slice(0, checkpointAt).some((line) => !line.startsWith(CHECKPOINT_START));
    if (entryBefore || start === 0) return { lines, checkpointAt };
    chunk *= 2;
  }
}

function parse(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below, as for any malformed record.
  }
  throw invalid({ atSeq: undefined, reason: 'a line is not a JSON object' });
}

/**
 * Where checking resumes after the last checkpoint: the entry before it is re-hashed, and the
 * checkpoint's stored range must fold to its root. The full history is the verifier's job.
 */
function resumeAfterCheckpoint(lines: readonly string[], checkpointAt: number): ChainVerifier {
  const checkpoint = parse(lines[checkpointAt] as string);
  const shape = checkpointShapeProblem(checkpoint);
  if (shape !== undefined) throw invalid({ atSeq: undefined, reason: `malformed checkpoint: ${shape}` });
  const { treeSize, rootHash, range } = checkpoint as unknown as Checkpoint;
  const entryLine = lines.slice(0, checkpointAt).findLast((line) => !line.startsWith(CHECKPOINT_START)) as string;
  const entry = parse(entryLine);
  const entryShape = entryShapeProblem(entry);
  if (entryShape !== undefined) throw invalid({ atSeq: treeSize - 1, reason: `malformed entry: ${entryShape}` });
  if (entry['seq'] !== treeSize - 1) throw invalid({ atSeq: treeSize - 1, reason: 'the last checkpoint does not follow the entry it covers' });
  if (computeEntryHash(entry) !== entry['hash']) throw invalid({ atSeq: treeSize - 1, reason: "an entry's hash does not match its contents" });
  const compact = new CompactRange(treeSize, range);
  if (compact.root() !== rootHash) throw invalid({ atSeq: treeSize - 1, reason: "the last checkpoint's range does not match its root" });
  return new ChainVerifier({
    start: { nextSeq: treeSize, prevHash: entry['hash'], range: compact, node: entry['node'] as string },
  });
}

/** Opens the way for appends: cuts a torn line, re-checks the tail, and returns the state to continue from. */
export async function recoverJournal(file: FileHandle): Promise<RecoveredJournal> {
  const { size: originalSize } = await file.stat();
  const size = await cutTornLine(file, originalSize);
  const truncatedBytes = originalSize - size;
  if (size === 0) return { head: { seq: -1, hash: GENESIS_HASH }, range: new CompactRange(), checkpointedSize: 0, node: undefined, truncatedBytes };

  const { lines, checkpointAt } = await tailLines(file, size);
  let verifier: ChainVerifier;
  let rest: readonly string[];
  let checkpointedSize = 0;
  if (checkpointAt > 0) {
    verifier = resumeAfterCheckpoint(lines, checkpointAt);
    checkpointedSize = verifier.range.size;
    rest = lines.slice(checkpointAt + 1);
  } else {
    verifier = new ChainVerifier();
    rest = lines;
  }
  for (const line of rest) {
    const failure = verifier.line(line);
    if (failure !== undefined) throw invalid(failure);
  }
  if (verifier.lastCheckpoint !== undefined) checkpointedSize = verifier.lastCheckpoint.treeSize;
  return { head: verifier.head, range: verifier.range, checkpointedSize, node: verifier.node, truncatedBytes };
}
