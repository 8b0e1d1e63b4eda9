// Strict base64url (RFC 4648 §5, no padding): one canonical text per byte string.
import { CofferError } from '../core/errors.ts';

const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes canonical unpadded base64url, else INVALID_ARGUMENT naming `what`. Node's own decoder
 * skips bad characters silently; re-encoding and comparing rejects those and non-zero spare bits.
 */
export function decodeBase64url(value: unknown, what: string, expectedLength?: number): Buffer {
  if (typeof value !== 'string' || !ALPHABET.test(value)) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be base64url`);
  }
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) throw new CofferError('INVALID_ARGUMENT', `${what} must be canonical base64url`);
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be ${expectedLength} bytes`);
  }
  return bytes;
}
