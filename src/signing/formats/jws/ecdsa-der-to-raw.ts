// ECDSA signatures from DER (the X9.62 Ecdsa-Sig-Value the module returns) to the fixed-width r‖s
// that JWS requires (RFC 7518 §3.4). Strict DER only: anything else is a fault, not a signature.
import { CofferError } from '../../../core/errors.ts';

const SEQUENCE = 0x30;
const INTEGER = 0x02;

function malformed(): CofferError {
  // The bytes came from the module, not the caller: an internal fault, vague like every crypto failure.
  return new CofferError('INTERNAL_ERROR', 'malformed ECDSA signature');
}

/** A definite length (X.690 §8.1.3); DER wants the short form below 128 and the fewest octets (§10.1). */
function readLength(der: Uint8Array, offset: number): { length: number; next: number } {
  const first = der[offset];
  if (first === undefined) throw malformed();
  if (first < 0x80) return { length: first, next: offset + 1 };
  // Ecdsa-Sig-Value for P-521 is at most 139 bytes, so one length octet always suffices.
  const second = der[offset + 1];
  if (first !== 0x81 || second === undefined || second < 0x80) throw malformed();
  return { length: second, next: offset + 2 };
}

/** A positive INTEGER in minimal two's complement (X.690 §8.3.2), left-padded to `width` bytes. */
function readScalar(der: Uint8Array, offset: number, width: number): { value: Buffer; next: number } {
  if (der[offset] !== INTEGER) throw malformed();
  const { length, next } = readLength(der, offset + 1);
  const end = next + length;
  if (length === 0 || end > der.length) throw malformed();
  const body = der.subarray(next, end);
  const lead = body[0] ?? 0;
  if ((lead & 0x80) !== 0) throw malformed(); // negative
  // A leading zero octet is allowed only to keep the next octet's top bit from reading as a sign.
  if (lead === 0 && length > 1 && ((body[1] ?? 0) & 0x80) === 0) throw malformed();
  const magnitude = lead === 0 ? body.subarray(1) : body;
  // Zero is not a valid r or s (FIPS 186-5 §6.4.2), and no scalar is wider than the group order.
  if (magnitude.length === 0 || magnitude.length > width) throw malformed();
  const value = Buffer.alloc(width);
  value.set(magnitude, width - magnitude.length);
  return { value, next: end };
}

/** r‖s, each `scalarBytes` wide (32 for P-256, 48 for P-384, 66 for P-521; RFC 7518 §3.4). */
export function ecdsaDerToRaw(der: Uint8Array, scalarBytes: number): Buffer {
  if (der[0] !== SEQUENCE) throw malformed();
  const { length, next } = readLength(der, 1);
  if (next + length !== der.length) throw malformed();
  const r = readScalar(der, next, scalarBytes);
  const s = readScalar(der, r.next, scalarBytes);
  if (s.next !== der.length) throw malformed();
  return Buffer.concat([r.value, s.value]);
}
