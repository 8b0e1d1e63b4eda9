// Hashing an artifact under a format's HashPlan, streamed: a 20 GB file goes through in chunks and is
// never held in memory. The module only ever sees the digest.
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { nodeHashName } from '../pki/cms/signed-attributes.ts';
import type { ArtifactDigest, HashPlan } from './formats/format-signer.ts';

/** Large enough that per-read overhead vanishes beside the hashing, small enough to stay cache friendly. */
const READ_BYTES = 4 * 1024 * 1024;

/** The same bytes hashed twice in one pass: under the plan, and (for a check) plainly under `also`. */
export interface CheckedArtifactDigest extends ArtifactDigest {
  /** The artifact alone (no prefix) under the `also` hash. */
  readonly also: Buffer;
}

/**
 * Hashes prefix ‖ every chunk of `source` ‖ suffix (a file path, or any stream or iterable of bytes). With
 * `also`, the artifact alone is hashed under that hash in the same pass, to compare with a digest
 * recorded earlier (a file that changed since is then caught without reading it twice).
 */
export async function hashArtifact(plan: HashPlan, source: string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<ArtifactDigest>;
export async function hashArtifact(plan: HashPlan, source: string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, also: HashPlan['hash']): Promise<CheckedArtifactDigest>;
export async function hashArtifact(plan: HashPlan, source: string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, also?: HashPlan['hash']): Promise<ArtifactDigest | CheckedArtifactDigest> {
  const hash = createHash(nodeHashName(plan.hash));
  if (plan.prefix !== undefined) hash.update(plan.prefix);
  const hashes = also === undefined ? [hash] : [hash, createHash(nodeHashName(also))];
  const size = typeof source === 'string' ? await hashFile(hashes, source) : await hashChunks(hashes, source);
  if (plan.suffix !== undefined) hash.update(plan.suffix);
  const digest = { hash: plan.hash, digest: hash.digest(), size };
  return hashes[1] === undefined ? digest : { ...digest, also: hashes[1].digest() };
}

async function hashChunks(hashes: readonly Hash[], chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
  let size = 0;
  for await (const chunk of chunks) {
    for (const hash of hashes) hash.update(chunk);
    size += chunk.byteLength;
  }
  return size;
}

/**
 * Two reused buffers: the next read runs on libuv's thread pool while this one is hashed, so the
 * file is read and hashed at once and nothing is allocated per chunk.
 */
async function hashFile(hashes: readonly Hash[], path: string): Promise<number> {
  const file = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)] as const;
    let index = 0;
    let size = 0;
    let pending = file.read(buffers[0], 0, READ_BYTES, null);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) return size;
      index ^= 1;
      pending = file.read(buffers[index as 0 | 1], 0, READ_BYTES, null);
      const chunk = buffer.subarray(0, bytesRead);
      for (const hash of hashes) hash.update(chunk);
      size += bytesRead;
    }
  } finally {
    await file.close();
  }
}
