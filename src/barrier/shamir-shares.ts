// Splitting and rebuilding the domain key with Shamir's scheme (shamir-secret-sharing, audited).
import { combine, split } from 'shamir-secret-sharing';

/** The library accepts plain Uint8Arrays only (not Buffers); a view shares the memory, so wiping still works. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * N shares of which any `threshold` rebuild the key. The library needs a threshold of at least 2,
 * so a 1-of-N domain gives every custodian a copy of the key: exactly what 1-of-N means.
 */
export async function splitDomainKey(domainKey: Uint8Array, custodians: number, threshold: number): Promise<Uint8Array[]> {
  if (threshold === 1) return Array.from({ length: custodians }, () => Uint8Array.from(domainKey));
  return split(plain(domainKey), custodians, threshold);
}

/**
 * Rebuilds the key from at least `threshold` shares already checked against their digests.
 * Shares with the same x coordinate (last byte) cannot come from distinct custodians of one
 * genuine domain; they would make the interpolation meaningless, so they are refused here.
 * Returns undefined when the shares cannot be combined.
 */
export async function combineDomainKey(shares: readonly Uint8Array[], threshold: number): Promise<Uint8Array | undefined> {
  const first = shares[0];
  if (first === undefined || shares.length < threshold) return undefined;
  if (threshold === 1) return Uint8Array.from(first);
  const xs = new Set(shares.map((share) => share[share.length - 1]));
  if (xs.size !== shares.length) return undefined;
  try {
    return await combine(shares.map(plain));
  } catch {
    return undefined;
  }
}
