// AES Key Wrap with Padding (RFC 5649) on OpenSSL's id-aesN-wrap-pad ciphers, with the RFC's
// default alternative initial value. Unwrap reports failure as undefined and never says why.
import { createCipheriv, createDecipheriv, KeyObject } from 'node:crypto';

/** RFC 5649 §3: the constant high half of the alternative initial value. */
const AIV_PREFIX = Buffer.from('a65959a6', 'hex');
/** RFC 5649 §3: plaintext lengths are encoded in 32 bits. */
const MAX_PLAINTEXT = 0xffffffff;

function cipherName(key: KeyObject | Uint8Array): string {
  const bytes = key instanceof KeyObject ? key.symmetricKeySize : key.length;
  switch (bytes) {
    case 16: return 'id-aes128-wrap-pad';
    case 24: return 'id-aes192-wrap-pad';
    case 32: return 'id-aes256-wrap-pad';
    default: throw new RangeError('AES-KWP needs a 128, 192 or 256-bit key');
  }
}

/** RFC 5649 §4.1: the plaintext padded to a multiple of 8 bytes, plus the 8-byte integrity block. */
export function kwpWrappedLength(plaintextLength: number): number {
  return 8 * Math.ceil(plaintextLength / 8) + 8;
}

export function kwpWrap(key: KeyObject | Uint8Array, plaintext: Uint8Array): Buffer {
  if (plaintext.length < 1 || plaintext.length > MAX_PLAINTEXT) throw new RangeError('AES-KWP wraps 1 to 2^32-1 bytes');
  const cipher = createCipheriv(cipherName(key), key, AIV_PREFIX);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

/** Returns the plaintext, or undefined if the input is malformed or fails the RFC 5649 §4.2 checks. */
export function kwpUnwrap(key: KeyObject | Uint8Array, wrapped: Uint8Array): Buffer | undefined {
  const name = cipherName(key);
  // RFC 5649 §4.2: at least two 64-bit blocks, and whole blocks only.
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) return undefined;
  try {
    const decipher = createDecipheriv(name, key, AIV_PREFIX);
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch {
    return undefined;
  }
}
