// Everything computed from the domain key, each under its own label so no two uses share a key.
import { createHash, createHmac, createPrivateKey, createPublicKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { lengthPrefixed } from './length-prefixed.ts';

export const SHARE_DIGEST_LABEL = 'coffer/share-digest/v1';
export const KEY_CHECK_LABEL = 'coffer/key-check/v1';
export const RECORD_KEY_INFO = 'coffer/barrier/record/v1';
export const AUDIT_KEY_INFO = 'coffer/audit-checkpoint-key/v1';
export const BACKUP_KEY_INFO = 'coffer/backup/v1';

/** RFC 8410 PKCS#8 prefix for an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Hex SHA-256 over label ‖ domainId ‖ custodianId ‖ share, length-prefixed. Not secret: shares are random. */
export function shareDigest(domainId: string, custodianId: string, share: Uint8Array): string {
  return createHash('sha256').update(lengthPrefixed(SHARE_DIGEST_LABEL, domainId, custodianId, share)).digest('hex');
}

export function shareDigestMatches(expectedHex: string, domainId: string, custodianId: string, share: Uint8Array): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const actual = Buffer.from(shareDigest(domainId, custodianId, share), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Hex HMAC-SHA-256(domainKey, label ‖ domainId). */
export function keyCheck(domainKey: Uint8Array, domainId: string): string {
  return createHmac('sha256', domainKey).update(lengthPrefixed(KEY_CHECK_LABEL, domainId)).digest('hex');
}

export function keyCheckMatches(expectedHex: string, domainKey: Uint8Array, domainId: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const actual = Buffer.from(keyCheck(domainKey, domainId), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** HKDF-SHA-256 (RFC 5869) with an empty salt: the domain key is already uniformly random. */
function derive(domainKey: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', domainKey, Buffer.alloc(0), info, 32));
}

/** The 256-bit key for record encryption. The caller wipes it once the XaesKey is built. */
export function deriveRecordKey(domainKey: Uint8Array): Buffer {
  return derive(domainKey, RECORD_KEY_INFO);
}

/**
 * One backup's AES-256 key: HKDF-SHA-256(domainKey, salt = the backup's random 32-byte salt, info
 * "coffer/backup/v1"). A fresh salt per backup gives every file its own key, so the per-chunk nonces
 * (random base + counter) never meet another file's. The caller wipes it after use.
 */
export function deriveBackupKey(domainKey: Uint8Array, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', domainKey, salt, BACKUP_KEY_INFO, 32));
}

/** The Ed25519 checkpoint key: seed = HKDF-SHA-256(domainKey, info "coffer/audit-checkpoint-key/v1"). */
export function deriveAuditSigningKey(domainKey: Uint8Array): KeyObject {
  const seed = derive(domainKey, AUDIT_KEY_INFO);
  const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } finally {
    seed.fill(0);
    pkcs8.fill(0);
  }
}

/** SPKI DER of a private key's public half, base64url: what the descriptor publishes. */
export function spkiBase64url(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64url');
}
