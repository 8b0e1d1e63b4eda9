// The SHA-2 hashes Coffer's algorithms use, by their node:crypto names, and their output sizes.

export type HashName = 'sha256' | 'sha384' | 'sha512';

/** Output length in bytes (FIPS 180-4 §1). */
export const HASH_BYTES: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };
