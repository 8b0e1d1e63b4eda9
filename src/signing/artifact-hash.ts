// Hashing an artifact under a format's HashPlan, streamed: a 20 GB file goes through in chunks and is
// never held in memory. The module only ever sees the digest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ArtifactDigest, HashPlan } from './formats/format-signer.ts';

const NODE_HASH = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' } as const;

/** Hashes prefix ‖ every chunk of `source` (a file path, or any stream or iterable of bytes). */
export async function hashArtifact(plan: HashPlan, source: string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<ArtifactDigest> {
  const hash = createHash(NODE_HASH[plan.hash]);
  if (plan.prefix !== undefined) hash.update(plan.prefix);
  let size = 0;
  const chunks = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1024 * 1024 }) : source;
  for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { hash: plan.hash, digest: hash.digest(), size };
}
