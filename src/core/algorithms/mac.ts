// HMAC (RFC 2104) with SHA-256/384/512; the hash is fixed by the key spec. Verification compares
// in constant time.
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { CofferError } from '../errors.ts';
import { MAC_HASH } from './algorithm-parameters.ts';
import { requireAlgorithm } from './check-operation.ts';
import { MAX_MAC_MESSAGE } from './limits.ts';
import type { MacAlgorithm } from './names.ts';
import { partsOf, type PreparedKey } from './prepared-key.ts';
import { specInfo } from './spec-table.ts';

function macKey(key: PreparedKey, algorithm: MacAlgorithm, message: Uint8Array): KeyObject {
  const parts = partsOf(key);
  const allowed = specInfo(key.spec).macAlgorithm;
  requireAlgorithm(allowed === undefined ? [] : [allowed], algorithm, key.spec);
  if (parts.family !== 'HMAC') throw new CofferError('INCOMPATIBLE_ALGORITHM', `a ${key.spec} key cannot compute MACs`);
  if (message.length > MAX_MAC_MESSAGE) throw new CofferError('INPUT_TOO_LARGE', `MAC messages are limited to ${MAX_MAC_MESSAGE} bytes`);
  return parts.secret;
}

export function computeMac(key: PreparedKey, algorithm: MacAlgorithm, message: Uint8Array): Buffer {
  return createHmac(MAC_HASH[algorithm], macKey(key, algorithm, message)).update(message).digest();
}

/** True only for the full-length MAC; truncated or padded MACs are false. */
export function verifyMac(key: PreparedKey, algorithm: MacAlgorithm, message: Uint8Array, mac: Uint8Array): boolean {
  const expected = createHmac(MAC_HASH[algorithm], macKey(key, algorithm, message)).update(message).digest();
  // The length of a MAC is public (fixed by the algorithm), so comparing it first leaks nothing.
  return mac.length === expected.length && timingSafeEqual(expected, mac);
}
