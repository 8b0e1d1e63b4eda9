// The security domain's public description: what the caller persists. It holds no secret.
import { CofferError } from '../core/errors.ts';
import { decodeBase64url } from './base64url.ts';
import { checkFieldString } from './length-prefixed.ts';

export const DESCRIPTOR_FORMAT_VERSION = 1;
/** More custodians than this is an organisational mistake, and each one costs an HPKE operation. */
export const MAX_CUSTODIANS = 16;
export const MAX_CUSTODIAN_NAME_LENGTH = 200;
export const DOMAIN_KEY_BYTES = 32;

/** An HPKE (RFC 9180 base mode) ciphertext: encapsulated key and AEAD output, both base64url. */
export interface HpkeCiphertext {
  readonly enc: string;
  readonly ciphertext: string;
}

export interface CustodianEntry {
  readonly id: string;
  readonly name: string;
  /** Raw X25519 public key, 32 bytes base64url. */
  readonly publicKey: string;
  /** This custodian's Shamir share, HPKE-encrypted to `publicKey` (info "coffer/share/v1"). */
  readonly encryptedShare: HpkeCiphertext;
  /** Hex SHA-256 over label ‖ domainId ‖ custodianId ‖ share: rejects a corrupted or wrong share at once. */
  readonly shareDigest: string;
}

export interface DomainDescriptor {
  readonly formatVersion: typeof DESCRIPTOR_FORMAT_VERSION;
  readonly domainId: string;
  readonly createdAt: string;
  readonly threshold: number;
  readonly custodians: readonly CustodianEntry[];
  /** Hex HMAC-SHA-256 under the domain key over label ‖ domainId: confirms a reconstructed key. */
  readonly keyCheck: string;
  /** SPKI DER base64url of the Ed25519 key that signs audit checkpoints. */
  readonly auditPublicKey: string;
}

/** A custodian's share re-encrypted to one unseal session's ephemeral key (info "coffer/unseal/v1"). */
export interface UnsealShareEnvelope {
  readonly formatVersion: typeof DESCRIPTOR_FORMAT_VERSION;
  readonly domainId: string;
  readonly custodianId: string;
  readonly sessionId: string;
  readonly enc: string;
  readonly ciphertext: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX_256 = /^[0-9a-f]{64}$/;
/** SPKI DER of an Ed25519 key: a 12-byte header and the 32-byte key. */
const ED25519_SPKI_BYTES = 44;
const HPKE_ENC_BYTES = 32;
const AEAD_TAG_BYTES = 16;

/** Shamir shares carry one extra byte (the x coordinate); with threshold 1 a share is the key itself. */
export function shareLength(threshold: number): number {
  return threshold === 1 ? DOMAIN_KEY_BYTES : DOMAIN_KEY_BYTES + 1;
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

function invalid(what: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `domain descriptor: ${what} is malformed`);
}

function record(value: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(what);
  // Allowlist: an unknown field is an error, so nothing unexpected is carried along.
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw invalid(`${what}.${key}`);
  return value as Record<string, unknown>;
}

function uuid(value: unknown, what: string): string {
  if (!isUuid(value)) throw invalid(what);
  return value;
}

function hex256(value: unknown, what: string): string {
  if (typeof value !== 'string' || !HEX_256.test(value)) throw invalid(what);
  return value;
}

function base64url(value: unknown, what: string, length: number): string {
  try {
    decodeBase64url(value, what, length);
  } catch {
    throw invalid(what);
  }
  return value as string;
}

function parseCustodian(value: unknown, index: number, threshold: number): CustodianEntry {
  const what = `custodians[${index}]`;
  const c = record(value, what, ['id', 'name', 'publicKey', 'encryptedShare', 'shareDigest']);
  const box = record(c['encryptedShare'], `${what}.encryptedShare`, ['enc', 'ciphertext']);
  let name: string;
  try {
    name = checkFieldString(c['name'], 'name', MAX_CUSTODIAN_NAME_LENGTH);
  } catch {
    throw invalid(`${what}.name`);
  }
  return Object.freeze({
    id: uuid(c['id'], `${what}.id`),
    name,
    publicKey: base64url(c['publicKey'], `${what}.publicKey`, 32),
    encryptedShare: Object.freeze({
      enc: base64url(box['enc'], `${what}.encryptedShare.enc`, HPKE_ENC_BYTES),
      ciphertext: base64url(box['ciphertext'], `${what}.encryptedShare.ciphertext`, shareLength(threshold) + AEAD_TAG_BYTES),
    }),
    shareDigest: hex256(c['shareDigest'], `${what}.shareDigest`),
  });
}

/**
 * Checks a descriptor read back from storage (or anywhere untrusted) and returns a frozen copy
 * holding only the known fields. Malformed → INVALID_ARGUMENT. It cannot tell a genuine
 * descriptor from a forged one; the keyCheck only confirms a key reconstructed against it.
 */
export function parseDomainDescriptor(value: unknown): DomainDescriptor {
  const d = record(value, 'descriptor', ['formatVersion', 'domainId', 'createdAt', 'threshold', 'custodians', 'keyCheck', 'auditPublicKey']);
  if (d['formatVersion'] !== DESCRIPTOR_FORMAT_VERSION) throw invalid('formatVersion');
  const createdAt = d['createdAt'];
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw invalid('createdAt');
  const list = d['custodians'];
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_CUSTODIANS) throw invalid('custodians');
  const threshold = d['threshold'];
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1 || threshold > list.length) {
    throw invalid('threshold');
  }
  const custodians = list.map((entry: unknown, index) => parseCustodian(entry, index, threshold));
  if (new Set(custodians.map((c) => c.id)).size !== custodians.length) throw invalid('custodians (duplicate id)');
  if (new Set(custodians.map((c) => c.publicKey)).size !== custodians.length) throw invalid('custodians (duplicate public key)');
  return Object.freeze({
    formatVersion: DESCRIPTOR_FORMAT_VERSION,
    domainId: uuid(d['domainId'], 'domainId'),
    createdAt,
    threshold,
    custodians: Object.freeze(custodians),
    keyCheck: hex256(d['keyCheck'], 'keyCheck'),
    auditPublicKey: base64url(d['auditPublicKey'], 'auditPublicKey', ED25519_SPKI_BYTES),
  });
}

/** Checks an envelope's shape (→ INVALID_ARGUMENT); whether it is genuine is the barrier's job. */
export function parseUnsealShareEnvelope(value: unknown): UnsealShareEnvelope {
  const fail = (what: string) => new CofferError('INVALID_ARGUMENT', `unseal envelope: ${what} is malformed`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('envelope');
  const e = value as Record<string, unknown>;
  if (e['formatVersion'] !== DESCRIPTOR_FORMAT_VERSION) throw fail('formatVersion');
  for (const field of ['domainId', 'custodianId', 'sessionId'] as const) if (!isUuid(e[field])) throw fail(field);
  for (const field of ['enc', 'ciphertext'] as const) {
    try {
      decodeBase64url(e[field], field);
    } catch {
      throw fail(field);
    }
  }
  return {
    formatVersion: DESCRIPTOR_FORMAT_VERSION,
    domainId: e['domainId'] as string,
    custodianId: e['custodianId'] as string,
    sessionId: e['sessionId'] as string,
    enc: e['enc'] as string,
    ciphertext: e['ciphertext'] as string,
  };
}
