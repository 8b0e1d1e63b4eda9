// The backup file format: a signed manifest, then the store's records encrypted in AES-256-GCM chunks.
//
//   "CFRBAK01" ‖ u32 manifestLength ‖ manifest (canonical JSON) ‖ u32 signatureLength ‖ Ed25519 signature ‖ chunk*
//   chunk = u32 ciphertextLength ‖ AES-256-GCM(plaintext) ‖ 16-byte tag
//
// The signature (the domain's audit key) covers label ‖ manifest; the manifest holds the SHA-256 of
// every byte after the signature. Each chunk's associated data binds the manifest's header fields
// (so no chunk moves to another file), the chunk's index (no reordering) and a final flag (no
// truncation). The plaintext is a sequence of records: u32 keyLength ‖ key ‖ u64 version ‖ u32
// valueLength ‖ value (the value exactly as stored: barrier records are already encrypted).
import { createCipheriv, createDecipheriv, createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../../audit/canonical-json.ts';
import { parseDomainDescriptor, type DomainDescriptor } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';

export const BACKUP_MAGIC = Buffer.from('CFRBAK01', 'latin1');
export const BACKUP_FORMAT = 'coffer-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const BACKUP_FILE_SUFFIX = '.cbk';
/** 64 KiB of plaintext per chunk: small enough to stream, large enough that the 20 bytes of framing and tag vanish. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** A manifest is a few KiB (the descriptor's custodians dominate); anything far larger is not ours. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
const SIGNATURE_LABEL = 'coffer/backup/manifest/v1\n';
const CHUNK_AD_LABEL = 'coffer/backup/chunk/v1';
const TAG_BYTES = 16;
const NONCE_BYTES = 12;

/**
 * Store prefixes a backup leaves out, and why: node records, join requests and join tokens belong
 * to the nodes alive at the time; idempotency answers and audit-shipping cursors are per node and
 * short-lived (a cursor restored under a new journal would stop shipping); `sys/` holds the domain
 * descriptor (carried in the manifest instead) and the pending first officer; `backup/` the
 * scheduler's lease.
 */
export const EXCLUDED_PREFIXES: readonly string[] = ['cluster/node/', 'cluster/join/', 'cluster/join-token/', 'idem/', 'audit-cursor/', 'sys/', 'backup/'];

export function isExcluded(key: string): boolean {
  return EXCLUDED_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** How records are counted in the manifest: by the key up to its first '/' (`key/`, `principal/`…). */
export function prefixOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash + 1);
}

/** The fields fixed before the body is written; each chunk's associated data binds their digest. */
export interface BackupHeader {
  readonly format: typeof BACKUP_FORMAT;
  readonly formatVersion: typeof BACKUP_FORMAT_VERSION;
  readonly backupId: string;
  readonly createdAt: string;
  /** The security domain ("cluster id") whose key encrypts the body. */
  readonly domainId: string;
  /** SPKI (base64url) of the audit key that signed the manifest: the domain's. */
  readonly auditPublicKey: string;
  readonly nodeId: string;
  /** The store revision when the backup started (records are each read as of their page). */
  readonly storeRevision: number;
  /** base64url, 32 bytes: the HKDF salt of this file's key. */
  readonly salt: string;
  /** base64url, 12 bytes: chunk i's nonce is this with its last 8 bytes XOR i. */
  readonly nonceBase: string;
  readonly chunkBytes: number;
}

export interface BackupManifest extends BackupHeader {
  /** The domain's public descriptor, so a new node can be initialised from the backup and unsealed by its custodians. */
  readonly descriptor: DomainDescriptor;
  readonly body: { readonly sha256: string; readonly bytes: number; readonly chunks: number };
  readonly records: { readonly total: number; readonly byPrefix: Readonly<Record<string, number>> };
  readonly excludedPrefixes: readonly string[];
  /**
   * The creating node's audit chain head when the backup was written (its journal is node-local, so
   * the backup pins it: a later verification of that journal must pass through this entry and hash).
   */
  readonly auditHead?: { readonly seq: number; readonly hash: string };
}

export function integrityFailed(cause?: unknown): CofferError {
  return new CofferError('BACKUP_INTEGRITY_FAILED', 'the backup failed its integrity check', cause === undefined ? undefined : { cause });
}

export function headerOf(manifest: BackupHeader): BackupHeader {
  const { format, formatVersion, backupId, createdAt, domainId, auditPublicKey, nodeId, storeRevision, salt, nonceBase, chunkBytes } = manifest;
  return { format, formatVersion, backupId, createdAt, domainId, auditPublicKey, nodeId, storeRevision, salt, nonceBase, chunkBytes };
}

function headerDigest(header: BackupHeader): Buffer {
  return createHash('sha256').update(canonicalJson(headerOf(header))).digest();
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  return b;
}

/** Associated data: label ‖ SHA-256(header) ‖ u64 index ‖ final flag, each length-prefixed. */
function chunkAd(digest: Buffer, index: number, final: boolean): Buffer {
  const parts = [Buffer.from(CHUNK_AD_LABEL), digest, u64(index), Buffer.of(final ? 1 : 0)];
  return Buffer.concat(parts.flatMap((p) => [u32(p.length), p]));
}

function nonceFor(base: Buffer, index: number): Buffer {
  const nonce = Buffer.from(base);
  const counter = u64(index);
  for (let i = 0; i < 8; i++) nonce[NONCE_BYTES - 8 + i] = (nonce[NONCE_BYTES - 8 + i] ?? 0) ^ (counter[i] ?? 0);
  return nonce;
}

/** Encrypts and decrypts one file's chunks; holds that file's key (wipe() when done). */
export class ChunkCipher {
  readonly #key: Buffer;
  readonly #nonceBase: Buffer;
  readonly #digest: Buffer;

  constructor(key: Buffer, header: BackupHeader) {
    this.#key = key;
    this.#nonceBase = Buffer.from(header.nonceBase, 'base64url');
    if (key.length !== 32 || this.#nonceBase.length !== NONCE_BYTES) throw integrityFailed();
    this.#digest = headerDigest(header);
  }

  seal(index: number, final: boolean, plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonceFor(this.#nonceBase, index));
    cipher.setAAD(chunkAd(this.#digest, index, final));
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  /** Any failure → BACKUP_INTEGRITY_FAILED. */
  open(index: number, final: boolean, sealed: Uint8Array): Buffer {
    if (sealed.length < TAG_BYTES) throw integrityFailed();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonceFor(this.#nonceBase, index));
      decipher.setAAD(chunkAd(this.#digest, index, final));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw integrityFailed(error);
    }
  }

  wipe(): void {
    this.#key.fill(0);
  }
}

export function encodeRecord(key: string, version: number, value: Uint8Array): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  return Buffer.concat([u32(keyBytes.length), keyBytes, u64(version), u32(value.length), value]);
}

/** Splits a plaintext stream back into records; bytes may arrive in any cut. */
export class RecordDecoder {
  #pending: Buffer = Buffer.alloc(0);

  push(bytes: Buffer): { key: string; version: number; value: Buffer }[] {
    this.#pending = this.#pending.length === 0 ? bytes : Buffer.concat([this.#pending, bytes]);
    const out: { key: string; version: number; value: Buffer }[] = [];
    for (;;) {
      const p = this.#pending;
      if (p.length < 4) break;
      const keyLength = p.readUInt32BE(0);
      if (p.length < 4 + keyLength + 12) break;
      const valueLength = p.readUInt32BE(4 + keyLength + 8);
      const end = 4 + keyLength + 12 + valueLength;
      if (p.length < end) break;
      const version = Number(p.readBigUInt64BE(4 + keyLength));
      if (keyLength === 0 || !Number.isSafeInteger(version) || version < 1) throw integrityFailed();
      out.push({ key: p.subarray(4, 4 + keyLength).toString('utf8'), version, value: Buffer.from(p.subarray(4 + keyLength + 12, end)) });
      this.#pending = p.subarray(end);
    }
    return out;
  }

  /** A stream that ends inside a record was cut. */
  finish(): void {
    if (this.#pending.length !== 0) throw integrityFailed();
  }
}

/** Label ‖ manifest: what the audit key signs. */
function signedBytes(manifestBytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(SIGNATURE_LABEL), manifestBytes]);
}

export function signManifest(manifestBytes: Uint8Array, key: KeyObject): Buffer {
  return sign(null, signedBytes(manifestBytes), key);
}

/** The file's prefix up to the body: magic, manifest and signature. */
export function encodeHead(manifestBytes: Buffer, signature: Buffer): Buffer {
  return Buffer.concat([BACKUP_MAGIC, u32(manifestBytes.length), manifestBytes, u32(signature.length), signature]);
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function field<T>(record: Record<string, unknown>, key: string, check: (value: unknown) => value is T): T {
  const value = record[key];
  if (!check(value)) throw integrityFailed();
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 4096;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses manifest bytes and checks the signature against the public key the manifest names. A
 * malformed manifest, or one whose signature does not check, is BACKUP_INTEGRITY_FAILED; whose
 * domain it is gets decided by the caller (BACKUP_FOREIGN_DOMAIN).
 */
export function parseSignedManifest(manifestBytes: Buffer, signature: Buffer): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(manifestBytes.toString('utf8'));
  } catch (error) {
    throw integrityFailed(error);
  }
  if (!isObject(raw) || raw['format'] !== BACKUP_FORMAT || raw['formatVersion'] !== BACKUP_FORMAT_VERSION) throw integrityFailed();
  const auditPublicKey = field(raw, 'auditPublicKey', isString);
  let ok = false;
  try {
    const publicKey = createPublicKey({ key: Buffer.from(auditPublicKey, 'base64url'), format: 'der', type: 'spki' });
    ok = publicKey.asymmetricKeyType === 'ed25519' && verify(null, signedBytes(manifestBytes), publicKey, signature);
  } catch {
    ok = false;
  }
  // The signature is over these exact bytes, and they are canonical: nothing else can hide in them.
  if (!ok || canonicalJson(raw) !== manifestBytes.toString('utf8')) throw integrityFailed();
  let descriptor: DomainDescriptor;
  try {
    descriptor = parseDomainDescriptor(raw['descriptor']);
  } catch (error) {
    throw integrityFailed(error);
  }
  const body = field(raw, 'body', isObject);
  const records = field(raw, 'records', isObject);
  const byPrefix = field(records, 'byPrefix', isObject);
  for (const count of Object.values(byPrefix)) if (!isCount(count)) throw integrityFailed();
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION,
    backupId: field(raw, 'backupId', isString),
    createdAt: field(raw, 'createdAt', isString),
    domainId: field(raw, 'domainId', isString),
    auditPublicKey,
    nodeId: field(raw, 'nodeId', isString),
    storeRevision: field(raw, 'storeRevision', isCount),
    salt: field(raw, 'salt', isString),
    nonceBase: field(raw, 'nonceBase', isString),
    chunkBytes: field(raw, 'chunkBytes', isCount),
    descriptor,
    body: { sha256: field(body, 'sha256', isString), bytes: field(body, 'bytes', isCount), chunks: field(body, 'chunks', isCount) },
    records: { total: field(records, 'total', isCount), byPrefix: byPrefix as Record<string, number> },
    excludedPrefixes: field(raw, 'excludedPrefixes', (v): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string')),
    ...(raw['auditHead'] === undefined ? {} : { auditHead: auditHeadOf(raw['auditHead']) }),
  };
  if (descriptor.domainId !== manifest.domainId || descriptor.auditPublicKey !== auditPublicKey || !B64URL.test(manifest.salt) || !B64URL.test(manifest.nonceBase)
    || manifest.chunkBytes < 1 || manifest.chunkBytes > MAX_CHUNK_BYTES || !/^[0-9a-f]{64}$/.test(manifest.body.sha256) || manifest.body.chunks < 1) {
    throw integrityFailed();
  }
  return manifest;
}

function auditHeadOf(value: unknown): { seq: number; hash: string } {
  if (!isObject(value)) throw integrityFailed();
  const seq = field(value, 'seq', (v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= -1);
  const hash = field(value, 'hash', isString);
  if (!/^[0-9a-f]{64}$/.test(hash) || Object.keys(value).length !== 2) throw integrityFailed();
  return { seq, hash };
}

export function manifestBytesOf(manifest: BackupManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

export { u32 };
