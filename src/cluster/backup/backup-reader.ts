// Reads a backup: its signed manifest (cheap: the head of the file only), and its records, each
// chunk authenticated as it is read and the whole body checked against the manifest's digest.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Barrier } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import { BACKUP_MAGIC, ChunkCipher, integrityFailed, MAX_MANIFEST_BYTES, parseSignedManifest, prefixOf, RecordDecoder, type BackupManifest } from './backup-format.ts';

export interface BackupRecord {
  readonly key: string;
  readonly version: number;
  readonly value: Buffer;
}

async function readExactly(file: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw integrityFailed();
    done += bytesRead;
  }
  return buffer;
}

async function readU32(file: FileHandle, position: number): Promise<number> {
  return (await readExactly(file, 4, position)).readUInt32BE(0);
}

/** The manifest (signature checked against the key it names) and where the body starts. */
async function readHead(file: FileHandle): Promise<{ manifest: BackupManifest; bodyOffset: number }> {
  const magic = await readExactly(file, BACKUP_MAGIC.length, 0);
  if (!magic.equals(BACKUP_MAGIC)) throw integrityFailed();
  let position = BACKUP_MAGIC.length;
  const manifestLength = await readU32(file, position);
  if (manifestLength === 0 || manifestLength > MAX_MANIFEST_BYTES) throw integrityFailed();
  const manifestBytes = await readExactly(file, manifestLength, position + 4);
  position += 4 + manifestLength;
  const signatureLength = await readU32(file, position);
  if (signatureLength !== 64) throw integrityFailed();
  const signature = await readExactly(file, signatureLength, position + 4);
  return { manifest: parseSignedManifest(manifestBytes, signature), bodyOffset: position + 4 + signatureLength };
}

/** Opens a backup file for reading, else BACKUP_NOT_FOUND. */
async function openBackup(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new CofferError('BACKUP_NOT_FOUND', 'no such backup', { cause: error });
  }
}

async function withFile<T>(path: string, body: (file: FileHandle) => Promise<T>): Promise<T> {
  const file = await openBackup(path);
  try {
    return await body(file);
  } finally {
    await file.close();
  }
}

/** The manifest of a file, its signature checked (not the body, not the domain). */
export function readManifest(path: string): Promise<BackupManifest> {
  return withFile(path, async (file) => (await readHead(file)).manifest);
}

/**
 * What can be checked without the domain key: the manifest's signature (against the key it names,
 * which its descriptor publishes) and the body's length and SHA-256 against the signed manifest. Any
 * altered byte fails here; the chunks' AEAD and the record counts need the key (verifyBackup).
 */
export function checkSignedDigest(path: string): Promise<BackupManifest> {
  return withFile(path, async (file) => {
    const { manifest, bodyOffset } = await readHead(file);
    if ((await file.stat()).size - bodyOffset !== manifest.body.bytes) throw integrityFailed();
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(64 * 1024);
    for (let position = bodyOffset; ;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    if (hash.digest('hex') !== manifest.body.sha256) throw integrityFailed();
    return manifest;
  });
}

/** Same domain as this barrier (same id and audit key), else BACKUP_FOREIGN_DOMAIN. */
export function checkDomain(manifest: BackupManifest, barrier: Barrier): void {
  const descriptor = barrier.descriptor;
  if (descriptor === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
  if (manifest.domainId !== descriptor.domainId || manifest.auditPublicKey !== descriptor.auditPublicKey || manifest.descriptor.keyCheck !== descriptor.keyCheck) {
    throw new CofferError('BACKUP_FOREIGN_DOMAIN', 'the backup belongs to another security domain');
  }
}

/**
 * Every record of the body in order, after checking the signature and the domain. Each chunk is
 * authenticated before its records are yielded; the digest, the chunk count and the record counts
 * are checked at the end, so a consumer must treat its work as provisional until the iterator
 * finishes without throwing (verifyBackup reads the whole file first for that reason).
 */
export async function* readRecords(path: string, barrier: Barrier): AsyncGenerator<BackupRecord, BackupManifest> {
  const file = await openBackup(path);
  try {
    const { manifest, bodyOffset } = await readHead(file);
    checkDomain(manifest, barrier);
    const cipher = new ChunkCipher(barrier.backupKey(Buffer.from(manifest.salt, 'base64url')), manifest);
    try {
      const size = (await file.stat()).size;
      if (size - bodyOffset !== manifest.body.bytes) throw integrityFailed();
      const hash = createHash('sha256');
      const decoder = new RecordDecoder();
      const counts: Record<string, number> = {};
      let total = 0;
      let position = bodyOffset;
      // Bounds a chunk before reading it: a length field cannot make us allocate more than a chunk.
      const maxSealed = manifest.chunkBytes + 16;
      for (let index = 0; index < manifest.body.chunks; index++) {
        const length = await readU32(file, position);
        if (length < 16 || length > maxSealed) throw integrityFailed();
        const sealed = await readExactly(file, length, position + 4);
        const frame = Buffer.alloc(4);
        frame.writeUInt32BE(length);
        hash.update(frame).update(sealed);
        position += 4 + length;
        const plaintext = cipher.open(index, index === manifest.body.chunks - 1, sealed);
        for (const record of decoder.push(plaintext)) {
          const prefix = prefixOf(record.key);
          counts[prefix] = (counts[prefix] ?? 0) + 1;
          total++;
          yield record;
        }
      }
      decoder.finish();
      if (position !== size || hash.digest('hex') !== manifest.body.sha256 || total !== manifest.records.total) throw integrityFailed();
      const expected = manifest.records.byPrefix;
      if (Object.keys(expected).length !== Object.keys(counts).length || Object.entries(counts).some(([prefix, n]) => expected[prefix] !== n)) throw integrityFailed();
      return manifest;
    } finally {
      cipher.wipe();
    }
  } finally {
    await file.close();
  }
}

/** Checks a backup completely (signature, domain, every chunk, digest, counts) without restoring it. */
export async function verifyBackup(path: string, barrier: Barrier): Promise<BackupManifest> {
  const records = readRecords(path, barrier);
  for (;;) {
    const next = await records.next();
    if (next.done === true) return next.value;
  }
}
