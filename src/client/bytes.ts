// Bytes in the SDK, base64 on the wire (RFC 4648 §4, padded, as the API requires).
import { CofferError } from '../core/errors.ts';

/** Binary input: bytes as they are, or a string taken as its UTF-8 encoding. */
export type BytesLike = Uint8Array | string;

export function toBytes(value: BytesLike): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function encodeBase64(value: BytesLike): string {
  return toBytes(value).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a base64 field of an answer; anything else means the answer is not what the API promises. */
export function decodeBase64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new CofferError('CLIENT_PROTOCOL_ERROR', `the answer's ${field} is not base64`);
  return Buffer.from(value, 'base64');
}
