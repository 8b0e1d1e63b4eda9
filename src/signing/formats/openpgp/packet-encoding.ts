// OpenPGP wire encoding (RFC 4880 §3, §4.2, §5.2.3.1): packets with new-format headers, MPIs,
// signature subpackets, big-endian integers and timestamps. Pure byte building; no crypto.
import { CofferError } from '../../../core/errors.ts';

/** Packet tags used here (RFC 4880 §4.3). */
export const PACKET_TAG = { signature: 2, publicKey: 6, userId: 13 } as const;

/** Signature subpacket types used here (RFC 4880 §5.2.3.1; issuer fingerprint: RFC 9580 §5.2.3.35). */
export const SUBPACKET = { creationTime: 2, issuerKeyId: 16, preferredHashes: 21, keyFlags: 27, issuerFingerprint: 33 } as const;

/** The latest time a four-octet OpenPGP timestamp holds (2106-02-07). */
const MAX_TIMESTAMP = 0xffff_ffff;

export function uint16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
}

export function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/**
 * Seconds since the epoch, floored (RFC 4880 §3.5), for a time that fits four octets. `what` names
 * the time in the INVALID_ARGUMENT message.
 */
export function openpgpSeconds(time: Date, what: string): number {
  const ms = time instanceof Date ? time.getTime() : Number.NaN;
  const seconds = Math.floor(ms / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_TIMESTAMP) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be a valid time between 1970 and 2106`);
  }
  return seconds;
}

/** A packet body length in the new format (RFC 4880 §4.2.2.1–3): one, two or five octets; never partial. */
function newFormatLength(length: number): Buffer {
  if (length < 192) return Buffer.from([length]);
  if (length < 8384) {
    const rest = length - 192;
    return Buffer.from([(rest >> 8) + 192, rest & 0xff]);
  }
  return Buffer.concat([Buffer.from([0xff]), uint32(length)]);
}

/** A whole packet: new-format tag octet (bits 7 and 6 set, RFC 4880 §4.2), length, body. */
export function packet(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xc0 | tag]), newFormatLength(body.length), body]);
}

/**
 * A multiprecision integer (RFC 4880 §3.2): a two-octet bit count then the big-endian magnitude
 * without leading zero octets. Zero is two zero octets.
 */
export function mpi(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start += 1;
  const bytes = Buffer.from(magnitude.subarray(start));
  const lead = bytes[0];
  const bits = lead === undefined ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(lead));
  return Buffer.concat([uint16(bits), bytes]);
}

/** One signature subpacket (RFC 4880 §5.2.3.1): length of type ‖ data, type, data. Our subpackets are all short. */
export function subpacket(type: number, data: Buffer): Buffer {
  return Buffer.concat([newFormatLength(data.length + 1), Buffer.from([type]), data]);
}

/** A subpacket area: its two-octet length, then the subpackets (RFC 4880 §5.2.3). */
export function subpacketArea(subpackets: readonly Buffer[]): Buffer {
  const body = Buffer.concat(subpackets);
  return Buffer.concat([uint16(body.length), body]);
}
