// RFC 6962 / RFC 9162 Merkle tree heads over entry hashes, kept incrementally as a compact range.

import { hash } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { isHexHash } from './audit-entry.ts';

/** MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1). */
export const EMPTY_TREE_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// Scratch buffers for the domain-separated inputs: hashing runs synchronously, so one of each is
// enough, and reusing them keeps an allocation off every append.
const nodeInput = Buffer.alloc(65);
const entryLeafInput = Buffer.alloc(33);

/** Leaf hash of arbitrary leaf data: SHA-256(0x00 ‖ data) (RFC 9162 §2.1.1). */
export function leafHash(data: Uint8Array): string {
  return hash('sha256', Buffer.concat([Buffer.of(0), data]), 'hex');
}

/** Leaf hash of a journal entry: the leaf data is the entry's 32-byte hash. */
export function entryLeafHash(entryHashHex: string): string {
  entryLeafInput[0] = 0;
  entryLeafInput.write(entryHashHex, 1, 32, 'hex');
  return hash('sha256', entryLeafInput, 'hex');
}

/** Interior node: SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1). */
export function nodeHash(leftHex: string, rightHex: string): string {
  nodeInput[0] = 1;
  nodeInput.write(leftHex, 1, 32, 'hex');
  nodeInput.write(rightHex, 33, 32, 'hex');
  return hash('sha256', nodeInput, 'hex');
}

/**
 * Reference MTH by the recursive definition (RFC 9162 §2.1.1): split at the largest power of two
 * smaller than n. O(n); used by tests to check CompactRange, never on the append path.
 */
export function merkleRoot(leafHashes: readonly string[]): string {
  const n = leafHashes.length;
  if (n === 0) return EMPTY_TREE_HASH;
  if (n === 1) return leafHashes[0] as string;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(merkleRoot(leafHashes.slice(0, k)), merkleRoot(leafHashes.slice(k)));
}

function popCount(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/**
 * The roots of the perfect subtrees that make up a tree of `size` leaves, largest first: one per set
 * bit of `size`. Appending a leaf pushes it and merges equal-sized neighbours (amortised one node
 * hash per leaf, at most log2(n)); the tree head folds the roots from the right. Both are O(log n).
 */
export class CompactRange {
  #size: number;
  readonly #roots: string[];

  constructor(size = 0, roots: readonly string[] = []) {
    if (!Number.isSafeInteger(size) || size < 0 || popCount(size) !== roots.length || !roots.every(isHexHash)) {
      throw new CofferError('AUDIT_CHAIN_INVALID', 'a compact range does not match its tree size');
    }
    this.#size = size;
    this.#roots = [...roots];
  }

  get size(): number {
    return this.#size;
  }

  /** The subtree roots, largest first (stored in checkpoints so a reopened journal resumes in O(log n)). */
  roots(): readonly string[] {
    return [...this.#roots];
  }

  /** Appends a leaf hash. */
  push(leaf: string): void {
    let merged = leaf;
    // Each trailing 1 bit of the old size is a subtree of the same height as the one being carried.
    for (let size = this.#size; size % 2 === 1; size = (size - 1) / 2) {
      merged = nodeHash(this.#roots.pop() as string, merged);
    }
    this.#roots.push(merged);
    this.#size += 1;
  }

  /** MTH over every leaf pushed so far. */
  root(): string {
    let root = this.#roots.at(-1);
    if (root === undefined) return EMPTY_TREE_HASH;
    for (let i = this.#roots.length - 2; i >= 0; i--) root = nodeHash(this.#roots[i] as string, root);
    return root;
  }
}
