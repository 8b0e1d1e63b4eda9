// A JAR as the signer sees it: the entries to sign (their data streamed from the file and hashed),
// the existing manifest, and the signature files to drop; then the signed archive written with the
// new manifest and signature files first and every other entry's stored bytes copied unchanged.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CofferError } from '../../../core/errors.ts';
import { MAX_MANIFEST_BYTES, type ParsedManifest, parseManifest } from './manifest.ts';
import type { EntryDigest } from './signature-files.ts';
import { MAX_ARCHIVE_BYTES, MAX_ENTRIES, type ZipArchive, type ZipEntry, type ZipRecord, readEntryData, readExactly, readZipDirectory } from './zip-reader.ts';
import { centralHeader, copiedExtra, deflatedEntry, endOfCentralDirectory, localHeader, localHeaderLength } from './zip-writer.ts';

export const MANIFEST_NAME = 'META-INF/MANIFEST.MF';

/**
 * Whether the JDK treats `name` as part of a signature (SignatureFileVerifier.isSigningRelated):
 * directly in META-INF/ (any case), the manifest, *.SF, *.DSA, *.RSA, *.EC, or SIG-* with an
 * extension of one to three letters or digits, or none.
 */
export function isSigningRelated(name: string): boolean {
  const upper = name.toUpperCase();
  if (!upper.startsWith('META-INF/')) return false;
  const file = upper.slice('META-INF/'.length);
  if (file.includes('/')) return false;
  if (file === 'MANIFEST.MF' || /\.(SF|DSA|RSA|EC)$/u.test(file)) return true;
  if (!file.startsWith('SIG-')) return false;
  const dot = file.lastIndexOf('.');
  return dot === -1 || /^[A-Z0-9]{1,3}$/u.test(file.slice(dot + 1));
}

export interface ReadJar {
  readonly archive: ZipArchive;
  /** The existing manifest, if the archive has one. */
  readonly manifest: ParsedManifest | undefined;
  /** Entries copied into the signed archive, in their order: all but the manifest and old signature files. */
  readonly kept: readonly ZipEntry[];
  /** SHA-256 of each kept file's data (directories have none). */
  readonly digests: readonly EntryDigest[];
  /** SHA-256 over the stored bytes of every kept entry, to prove the copy is what was hashed. */
  readonly storedDigest: Buffer;
}

async function readManifest(handle: FileHandle, entry: ZipEntry): Promise<ParsedManifest> {
  if (entry.uncompressedSize > MAX_MANIFEST_BYTES) throw new CofferError('INVALID_ARGUMENT', `the JAR manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const chunks: Buffer[] = [];
  await readEntryData(handle, entry, (chunk) => chunks.push(chunk));
  return parseManifest(Buffer.concat(chunks));
}

/** Reads the archive's directory and manifest and hashes every entry to be signed, streaming each from the file. */
export async function readJar(handle: FileHandle): Promise<ReadJar> {
  const archive = await readZipDirectory(handle);
  const manifests = archive.entries.filter((entry) => entry.name.toUpperCase() === MANIFEST_NAME);
  if (manifests.length > 1) throw new CofferError('INVALID_ARGUMENT', 'the JAR holds more than one META-INF/MANIFEST.MF (in different cases)');
  const [manifestEntry] = manifests;
  const manifest = manifestEntry === undefined ? undefined : await readManifest(handle, manifestEntry);
  const kept = archive.entries.filter((entry) => !isSigningRelated(entry.name));
  const stored = createHash('sha256');
  const digests: EntryDigest[] = [];
  for (const entry of kept) {
    const directory = entry.name.endsWith('/');
    // The JDK skips directories when it verifies: data in one would be carried unsigned.
    if (directory && entry.uncompressedSize !== 0) throw new CofferError('INVALID_ARGUMENT', `directory entry ${JSON.stringify(entry.name.slice(0, 64))} holds data`);
    const hash = createHash('sha256');
    await readEntryData(handle, entry, (chunk) => hash.update(chunk), (chunk) => stored.update(chunk));
    if (!directory) digests.push({ name: entry.name, digest: hash.digest() });
  }
  return { archive, manifest, kept, digests, storedDigest: stored.digest() };
}

/** A kept entry as written: its directory fields, extras without ZIP64 blocks. */
function copiedRecord(entry: ZipEntry): ZipRecord {
  return { ...entry, localExtra: copiedExtra(entry.localExtra), centralExtra: copiedExtra(entry.centralExtra) };
}

/**
 * The signed archive: `first` (the manifest, .SF and block, deflated) then every kept entry, each
 * local header rewritten without a data descriptor and its stored bytes read again from the file
 * straight into the output. INVALID_ARGUMENT if those bytes are not the ones hashed (the file
 * changed while it was being signed) or the result would need ZIP64.
 */
export async function writeSignedJar(handle: FileHandle, read: ReadJar, first: readonly { name: string; data: Buffer }[], date: Date): Promise<Buffer> {
  const added = first.map((file) => deflatedEntry(file.name, file.data, date));
  const copied = read.kept.map((entry) => ({ entry, record: copiedRecord(entry) }));
  const records = [...added.map((file) => file.record), ...copied.map((file) => file.record)];
  if (records.length > MAX_ENTRIES) throw new CofferError('INVALID_ARGUMENT', `the signed JAR would hold more than ${MAX_ENTRIES} entries (ZIP64 is not supported)`);
  const offsets: number[] = [];
  let dataBytes = 0;
  for (const record of records) {
    offsets.push(dataBytes);
    dataBytes += localHeaderLength(record) + record.compressedSize;
  }
  const directory = Buffer.concat(records.map((record, index) => centralHeader(record, offsets[index] ?? 0)));
  const total = dataBytes + directory.length + 22 + read.archive.comment.length;
  // Offsets are 32-bit without ZIP64; the output is also held in memory.
  if (total > MAX_ARCHIVE_BYTES) throw new CofferError('INVALID_ARGUMENT', `the signed JAR would be larger than ${MAX_ARCHIVE_BYTES} bytes`);

  const output = Buffer.alloc(total);
  let at = 0;
  for (const file of added) {
    at += localHeader(file.record).copy(output, at);
    at += file.compressed.copy(output, at);
  }
  const stored = createHash('sha256');
  for (const { entry, record } of copied) {
    at += localHeader(record).copy(output, at);
    const data = output.subarray(at, at + entry.compressedSize);
    await readExactly(handle, data, entry.dataOffset);
    stored.update(data);
    at += data.length;
  }
  if (!stored.digest().equals(read.storedDigest)) throw new CofferError('INVALID_ARGUMENT', 'the JAR changed while it was being signed');
  at += directory.copy(output, at);
  endOfCentralDirectory(records.length, directory.length, dataBytes, read.archive.comment).copy(output, at);
  return output;
}
