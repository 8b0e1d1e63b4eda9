// The barrier's record format: format byte ‖ XAES-256-GCM(nonce ‖ ciphertext ‖ tag), AD-bound to the record.
import { CofferError } from '../core/errors.ts';
import { XAES_OVERHEAD, type XaesKey } from '../core/crypto/xaes-256-gcm.ts';
import { checkFieldString, lengthPrefixed, uint64 } from './length-prefixed.ts';

export const RECORD_FORMAT_V1 = 0x01;
export const RECORD_OVERHEAD = 1 + XAES_OVERHEAD;
const RECORD_AD_LABEL = 'coffer/barrier/record-ad/v1';
/** Kinds and ids are store keys, not documents; the bound keeps associated data small. */
export const MAX_RECORD_FIELD_LENGTH = 1024;

export interface RecordAddress {
  readonly kind: string;
  readonly id: string;
  readonly version: number;
}

export function checkRecordAddress(kind: unknown, id: unknown, version: unknown): RecordAddress {
  checkFieldString(kind, 'kind', MAX_RECORD_FIELD_LENGTH);
  checkFieldString(id, 'id', MAX_RECORD_FIELD_LENGTH);
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new CofferError('INVALID_ARGUMENT', 'version must be a positive safe integer');
  }
  return { kind: kind as string, id: id as string, version };
}

/**
 * Associated data: label ‖ format ‖ kind ‖ id ‖ version, each length-prefixed, so no two addresses
 * share AD and a row moved to another id, kind or version fails authentication.
 */
function associatedData(format: number, address: RecordAddress): Buffer {
  return lengthPrefixed(RECORD_AD_LABEL, Uint8Array.of(format), address.kind, address.id, uint64(address.version));
}

export function sealRecord(key: XaesKey, address: RecordAddress, plaintext: Uint8Array): Buffer {
  if (!(plaintext instanceof Uint8Array)) throw new CofferError('INVALID_ARGUMENT', 'plaintext must be bytes');
  // A fresh random 192-bit nonce per record (XAES-256-GCM), so nonce reuse is not a concern.
  return Buffer.concat([Uint8Array.of(RECORD_FORMAT_V1), key.seal(plaintext, associatedData(RECORD_FORMAT_V1, address))]);
}

/** Returns the plaintext, or undefined for any failure; the caller reports all of them alike. */
export function openRecord(key: XaesKey, address: RecordAddress, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < RECORD_OVERHEAD || sealed[0] !== RECORD_FORMAT_V1) return undefined;
  return key.open(sealed.subarray(1), associatedData(RECORD_FORMAT_V1, address));
}
