// Binary fields at the API edge: standard base64 (RFC 4648 §4) with padding, one canonical text per
// byte string, so two clients cannot smuggle different bytes through the same-looking value.
import { CofferError } from '../core/errors.ts';

/** Whole quanta with correct padding; the schema checks this before the decoder sees the value. */
export const BASE64_PATTERN = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';

/** A JSON-schema fragment for a base64 field. */
export function base64Schema(description: string): { type: 'string'; pattern: string; description: string } {
  return { type: 'string', pattern: BASE64_PATTERN, description: `${description} (standard base64)` };
}

/**
 * Decodes a base64 field. The pattern leaves one way to be non-canonical (non-zero spare bits in
 * the last quantum); re-encoding catches it → INVALID_ARGUMENT naming the field.
 */
export function decodeBase64Field(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new CofferError('INVALID_ARGUMENT', `${field} must be canonical standard base64`);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
