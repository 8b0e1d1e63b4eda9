// Unambiguous byte encodings for labels, HPKE info strings and associated data.
import { CofferError } from '../core/errors.ts';

const encoder = new TextEncoder();

/**
 * Each field as a 4-byte big-endian length followed by its bytes, so that no two different field
 * lists encode to the same bytes ("ab","c" ≠ "a","bc"). Strings are UTF-8.
 */
export function lengthPrefixed(...fields: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = typeof field === 'string' ? encoder.encode(field) : field;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return Buffer.concat(parts);
}

/** A safe integer as 8 bytes big-endian. */
export function uint64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

/**
 * A string that encodes to UTF-8 unambiguously: non-empty, at most `maxLength` code units and
 * well formed, because a lone surrogate becomes U+FFFD and would collide with a real U+FFFD.
 */
export function checkFieldString(value: unknown, what: string, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || !value.isWellFormed()) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}
