// An upload's session record (<dir>/<id>.json): what was asked for, until when, how far the data is durable.
import { CofferError } from '../../core/errors.ts';
import { NODE_HASH_NAMES } from '../../pki/cms/signed-attributes.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';

/** The hashes an upload may run (every PkiHash), with node:crypto's names: also the list create() accepts. */
export const UPLOAD_HASHES = NODE_HASH_NAMES;

/** Metadata is small labels (branch, commit, file name), never content: bounded as serialised JSON. */
export const MAX_METADATA_BYTES = 16 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface UploadRecord {
  readonly version: 1;
  readonly uploadId: string;
  readonly hashes: readonly PkiHash[];
  readonly expectedSize?: number;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Bytes of the .part file fsynced before this record was written: all a restart trusts. */
  readonly durableOffset: number;
  /** Set once, by complete(): the final size and the hex digests of the whole file. */
  readonly completed?: { readonly size: number; readonly digests: Readonly<Partial<Record<PkiHash, string>>> };
}

/** Ids are lowercase uuids; anything else names no upload and never reaches a path. */
export function isUploadId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function uploadNotFound(uploadId: unknown): CofferError {
  const shown = typeof uploadId === 'string' && isUploadId(uploadId) ? uploadId : '(malformed id)';
  return new CofferError('UPLOAD_NOT_FOUND', `no upload ${shown}: unknown, removed or expired`);
}

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

/** The requested hashes, known and deduplicated in order; at least one. */
export function checkHashes(hashes: unknown): readonly PkiHash[] {
  if (!Array.isArray(hashes) || hashes.length === 0) throw invalid(`hashes must list at least one of ${Object.keys(UPLOAD_HASHES).join(', ')}`);
  const known = new Set<PkiHash>();
  for (const hash of hashes as unknown[]) {
    if (typeof hash !== 'string' || !Object.hasOwn(UPLOAD_HASHES, hash)) throw invalid(`hashes must be among ${Object.keys(UPLOAD_HASHES).join(', ')}`);
    known.add(hash as PkiHash);
  }
  return [...known];
}

/** A byte count: a safe integer from 0; over `max` is INPUT_TOO_LARGE. */
export function checkSize(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be an integer from 0`);
  if (value > max) throw new CofferError('INPUT_TOO_LARGE', `${what} is over the limit of ${max} bytes`);
  return value;
}

/** String labels only, at most MAX_METADATA_BYTES as JSON. */
export function checkMetadata(metadata: unknown): Readonly<Record<string, string>> {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalid('metadata must be an object of strings');
  const entries = Object.entries(metadata);
  if (entries.some(([, value]) => typeof value !== 'string')) throw invalid('metadata values must be strings');
  const copy = Object.fromEntries(entries) as Record<string, string>;
  if (Buffer.byteLength(JSON.stringify(copy)) > MAX_METADATA_BYTES) throw new CofferError('INPUT_TOO_LARGE', `metadata is over ${MAX_METADATA_BYTES} bytes`);
  return copy;
}

function corrupt(uploadId: string): CofferError {
  return new CofferError('STORE_CORRUPT', `the record of upload ${uploadId} is malformed`);
}

/** Parses a record read from disk; anything off is STORE_CORRUPT (the directory is ours alone). */
export function parseRecord(uploadId: string, text: string): UploadRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CofferError('STORE_CORRUPT', `the record of upload ${uploadId} is not JSON`, { cause: error });
  }
  if (typeof value !== 'object' || value === null) throw corrupt(uploadId);
  const r = value as Record<string, unknown>;
  const dates = [r['createdAt'], r['expiresAt']];
  if (r['version'] !== 1 || r['uploadId'] !== uploadId || !dates.every((d) => typeof d === 'string' && !Number.isNaN(Date.parse(d)))) throw corrupt(uploadId);
  try {
    checkHashes(r['hashes']);
    checkSize(r['durableOffset'], 'durableOffset', Number.MAX_SAFE_INTEGER);
    if (r['expectedSize'] !== undefined) checkSize(r['expectedSize'], 'expectedSize', Number.MAX_SAFE_INTEGER);
    if (r['metadata'] !== undefined) checkMetadata(r['metadata']);
    const completed = r['completed'];
    if (completed !== undefined) {
      if (typeof completed !== 'object' || completed === null) throw corrupt(uploadId);
      checkSize((completed as Record<string, unknown>)['size'], 'size', Number.MAX_SAFE_INTEGER);
    }
  } catch (error) {
    throw new CofferError('STORE_CORRUPT', `the record of upload ${uploadId} is malformed`, { cause: error });
  }
  return value as UploadRecord;
}

/** Incomplete uploads expire; a complete one stays until removed (its job owns it). */
export function isExpired(record: UploadRecord, now: Date): boolean {
  return record.completed === undefined && Date.parse(record.expiresAt) <= now.getTime();
}
