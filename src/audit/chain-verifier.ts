// Checks journal lines one at a time: the entry chain, and every checkpoint against the entries.

import type { KeyObject } from 'node:crypto';
import { computeEntryHash, entryShapeProblem, GENESIS_HASH, type ChainHead } from './audit-entry.ts';
import { checkpointShapeProblem, verifyCheckpointSignature, type Checkpoint } from './checkpoint.ts';
import { CompactRange, entryLeafHash } from './merkle.ts';

/** Where and why verification failed. `atSeq` is the seq at which the chain breaks, when known. */
export interface ChainFailure {
  readonly atSeq: number | undefined;
  readonly reason: string;
}

/** Where checking starts: the genesis, or (for a reopened journal) just after a checkpoint. */
export interface ChainStart {
  readonly nextSeq: number;
  readonly prevHash: string;
  readonly range: CompactRange;
  readonly node: string | undefined;
}

export interface ChainVerifierOptions {
  /** When set, checkpoint signatures are required and checked. */
  readonly publicKey?: KeyObject;
  /** When set, more than this many entries in a row without a checkpoint is a failure. */
  readonly checkpointEvery?: number;
  readonly start?: ChainStart;
}

export class ChainVerifier {
  readonly #publicKey: KeyObject | undefined;
  readonly #checkpointEvery: number | undefined;
  readonly #range: CompactRange;
  #nextSeq: number;
  #prevHash: string;
  #node: string | undefined;
  #entries = 0;
  #checkpoints = 0;
  #sinceCheckpoint = 0;
  #lastCheckpoint: Checkpoint | undefined;

  constructor(options: ChainVerifierOptions = {}) {
    this.#publicKey = options.publicKey;
    this.#checkpointEvery = options.checkpointEvery;
    const start = options.start;
    this.#nextSeq = start?.nextSeq ?? 0;
    this.#prevHash = start?.prevHash ?? GENESIS_HASH;
    this.#range = start?.range ?? new CompactRange();
    this.#node = start?.node;
  }

  /** Entries checked (by this verifier, not counting any before its start). */
  get entries(): number {
    return this.#entries;
  }

  get checkpoints(): number {
    return this.#checkpoints;
  }

  get head(): ChainHead {
    return { seq: this.#nextSeq - 1, hash: this.#prevHash };
  }

  /** The node the entries so far belong to. */
  get node(): string | undefined {
    return this.#node;
  }

  get range(): CompactRange {
    return this.#range;
  }

  /** Number of entries since the last checkpoint (or the start). */
  get sinceCheckpoint(): number {
    return this.#sinceCheckpoint;
  }

  get lastCheckpoint(): Checkpoint | undefined {
    return this.#lastCheckpoint;
  }

  /** Checks one line (without its newline); returns a failure, or undefined when the line is sound. */
  line(text: string): ChainFailure | undefined {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      return this.#fail('a line is not valid JSON');
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return this.#fail('a line is not a JSON object');
    const fields = record as Record<string, unknown>;
    if (fields['type'] === undefined) return this.#entry(fields);
    if (fields['type'] === 'checkpoint') return this.#checkpoint(fields);
    return this.#fail('a line has an unknown record type');
  }

  #fail(reason: string, atSeq: number | undefined = this.#nextSeq): ChainFailure {
    return { atSeq, reason };
  }

  #entry(fields: Record<string, unknown>): ChainFailure | undefined {
    const shape = entryShapeProblem(fields);
    if (shape !== undefined) return this.#fail(`malformed entry: ${shape}`);
    const seq = fields['seq'] as number;
    const expected = this.#nextSeq;
    if (seq > expected) return this.#fail('an entry is missing (seq gap)');
    if (seq < expected) return this.#fail('an entry is out of order, duplicated or inserted');
    const node = fields['node'] as string;
    if (this.#node !== undefined && node !== this.#node) return this.#fail('an entry names another node');
    const hash = fields['hash'] as string;
    if (computeEntryHash(fields) !== hash) return this.#fail("an entry's hash does not match its contents");
    if (fields['prevHash'] !== this.#prevHash) return this.#fail("an entry's prevHash does not match the previous entry");
    if (this.#checkpointEvery !== undefined && this.#sinceCheckpoint >= this.#checkpointEvery) {
      return this.#fail(`more than ${this.#checkpointEvery} entries follow one another without a checkpoint`);
    }
    this.#node = node;
    this.#range.push(entryLeafHash(hash));
    this.#prevHash = hash;
    this.#nextSeq = seq + 1;
    this.#entries += 1;
    this.#sinceCheckpoint += 1;
    return undefined;
  }

  #checkpoint(fields: Record<string, unknown>): ChainFailure | undefined {
    const shape = checkpointShapeProblem(fields);
    if (shape !== undefined) return this.#fail(`malformed checkpoint: ${shape}`, undefined);
    const checkpoint = fields as unknown as Checkpoint;
    const size = this.#range.size;
    // The journal writes a checkpoint right after the last entry it covers, so anything else means
    // entries were removed before it (or the file was cut and the checkpoint kept), or it was moved.
    if (checkpoint.treeSize > size) {
      return this.#fail(`a checkpoint covers ${checkpoint.treeSize} entries but only ${size} precede it (entries deleted or truncated)`, size);
    }
    if (checkpoint.treeSize < size) return this.#fail('a checkpoint is out of place', checkpoint.treeSize);
    const covered = size - 1;
    if (this.#node !== undefined && checkpoint.node !== this.#node) return this.#fail('a checkpoint names another node', covered);
    const roots = this.#range.roots();
    const rangeMatches = roots.length === checkpoint.range.length && roots.every((root, i) => root === checkpoint.range[i]);
    if (!rangeMatches || checkpoint.rootHash !== this.#range.root()) {
      return this.#fail("a checkpoint's root hash does not match the entries", covered);
    }
    if (this.#publicKey !== undefined) {
      if (checkpoint.signature === undefined) return this.#fail('a checkpoint is not signed', covered);
      let valid: boolean;
      try {
        valid = verifyCheckpointSignature(checkpoint, this.#publicKey);
      } catch {
        valid = false;
      }
      if (!valid) return this.#fail("a checkpoint's signature is invalid", covered);
    }
    this.#checkpoints += 1;
    this.#sinceCheckpoint = 0;
    this.#lastCheckpoint = checkpoint;
    return undefined;
  }
}
