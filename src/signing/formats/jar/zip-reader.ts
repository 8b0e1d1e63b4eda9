// Reads a ZIP archive's directory from a file handle (APPNOTE.TXT 6.3: end of central directory,
// central directory, local headers) and streams an entry's data, inflated, with its CRC-32 and size
// checked. Hostile input is refused with INVALID_ARGUMENT before anything is allocated from it.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { CofferError } from '../../../core/errors.ts';

/** The whole archive is copied into the signed output, held in memory: 1 GiB at most. */
export const MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024;
/** Without ZIP64 a directory counts entries in 16 bits (0xFFFF means "see ZIP64"). */
export const MAX_ENTRIES = 0xfffe;
/** Inflated for digests only, streamed; bounds the work a small compressed archive can ask for. */
export const MAX_TOTAL_UNCOMPRESSED_BYTES = 4 * 1024 * 1024 * 1024;

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const CENTRAL_BYTES = 46;
const LOCAL_BYTES = 30;
const MAX_COMMENT_BYTES = 0xffff;
const READ_CHUNK_BYTES = 64 * 1024;
/** APPNOTE 4.4.4: bit 0 encrypted, bit 6 strong encryption, bit 13 masked local headers. */
const ENCRYPTION_FLAGS = 0x0001 | 0x0040 | 0x2000;

export type ZipMethod = 0 | 8;

/** One entry's central-directory fields, as read and as written again (zip-writer.ts). */
export interface ZipRecord {
  readonly nameBytes: Buffer;
  readonly versionMadeBy: number;
  readonly versionNeeded: number;
  readonly flags: number;
  /** 0 stored, 8 deflated: the only methods read. */
  readonly method: ZipMethod;
  readonly dosTime: number;
  readonly dosDate: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly internalAttributes: number;
  readonly externalAttributes: number;
  readonly localExtra: Buffer;
  readonly centralExtra: Buffer;
  readonly comment: Buffer;
}

export interface ZipEntry extends ZipRecord {
  readonly name: string;
  readonly localHeaderOffset: number;
  /** Where the (compressed) data starts, after the local header. */
  readonly dataOffset: number;
}

export interface ZipArchive {
  /** In central-directory order. */
  readonly entries: readonly ZipEntry[];
  readonly comment: Buffer;
  readonly size: number;
}

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `not a readable ZIP archive: ${message}`);
}

/** Reads exactly `length` bytes at `position`; a short read means the file is truncated. */
export async function readExactly(handle: FileHandle, target: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw invalid('the file ends early');
    done += bytesRead;
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const target = Buffer.alloc(length);
  await readExactly(handle, target, position);
  return target;
}

/**
 * An entry name a consumer could write outside its directory or read two ways is refused: absolute
 * paths, drive letters, backslashes, '.' and '..' segments, empty segments, control characters.
 */
function checkedName(bytes: Buffer): string {
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('an entry name is not UTF-8');
  }
  const shown = JSON.stringify(name.slice(0, 64));
  if (name.length === 0) throw invalid('an entry has an empty name');
  // Control characters (a newline would end a manifest line) and backslashes (a second separator).
  if (/[\u0000-\u001f\u007f\\]/u.test(name)) throw invalid(`entry name ${shown} holds a control character or backslash`);
  if (name.startsWith('/') || /^[A-Za-z]:/u.test(name)) throw invalid(`entry name ${shown} is an absolute path`);
  const segments = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) throw invalid(`entry name ${shown} has an empty, '.' or '..' segment`);
  return name;
}

/** The end-of-central-directory record: the last signature whose comment reaches exactly the end of the file. */
async function findEndOfCentralDirectory(handle: FileHandle, size: number): Promise<{ offset: number; record: Buffer; comment: Buffer }> {
  const tailLength = Math.min(size, EOCD_BYTES + MAX_COMMENT_BYTES);
  const tail = await readAt(handle, size - tailLength, tailLength);
  for (let at = tailLength - EOCD_BYTES; at >= 0; at -= 1) {
    if (tail.readUInt32LE(at) !== EOCD_SIGNATURE) continue;
    const commentLength = tail.readUInt16LE(at + 20);
    if (at + EOCD_BYTES + commentLength !== tailLength) continue;
    const offset = size - tailLength + at;
    // APPNOTE 4.3.15: a ZIP64 locator sits just before the record.
    if (at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR_SIGNATURE) throw invalid('ZIP64 archives are not supported');
    return { offset, record: tail.subarray(at, at + EOCD_BYTES), comment: Buffer.from(tail.subarray(at + EOCD_BYTES)) };
  }
  throw invalid('no end of central directory record');
}

/** An entry as the central directory describes it, before its local header is read. */
type CentralRecord = Omit<ZipEntry, 'localExtra' | 'dataOffset'>;

function parseCentralDirectory(directory: Buffer, count: number, directoryOffset: number): CentralRecord[] {
  const records: CentralRecord[] = [];
  const names = new Set<string>();
  let at = 0;
  for (let index = 0; index < count; index += 1) {
    if (at + CENTRAL_BYTES > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw invalid(`central directory entry ${index + 1} is missing or malformed`);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const end = at + CENTRAL_BYTES + nameLength + extraLength + commentLength;
    if (end > directory.length) throw invalid(`central directory entry ${index + 1} runs past the directory`);
    if (directory.readUInt16LE(at + 34) !== 0) throw invalid('multi-disk archives are not supported');
    const flags = directory.readUInt16LE(at + 8);
    const method = directory.readUInt16LE(at + 10);
    const compressedSize = directory.readUInt32LE(at + 20);
    const uncompressedSize = directory.readUInt32LE(at + 24);
    const localHeaderOffset = directory.readUInt32LE(at + 42);
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) throw invalid('ZIP64 entries are not supported');
    if ((flags & ENCRYPTION_FLAGS) !== 0) throw invalid('encrypted entries are not supported');
    if (method !== 0 && method !== 8) throw invalid(`compression method ${method} is not supported (stored and deflated only)`);
    if (method === 0 && compressedSize !== uncompressedSize) throw invalid('a stored entry has different compressed and uncompressed sizes');
    if (localHeaderOffset + LOCAL_BYTES > directoryOffset) throw invalid('an entry lies outside the archive data');
    const nameBytes = Buffer.from(directory.subarray(at + CENTRAL_BYTES, at + CENTRAL_BYTES + nameLength));
    const name = checkedName(nameBytes);
    if (names.has(name)) throw invalid(`entry ${JSON.stringify(name.slice(0, 64))} appears twice`);
    names.add(name);
    records.push({
      name, nameBytes, method, flags, compressedSize, uncompressedSize, localHeaderOffset,
      versionMadeBy: directory.readUInt16LE(at + 4),
      versionNeeded: directory.readUInt16LE(at + 6),
      dosTime: directory.readUInt16LE(at + 12),
      dosDate: directory.readUInt16LE(at + 14),
      crc32: directory.readUInt32LE(at + 16),
      internalAttributes: directory.readUInt16LE(at + 36),
      externalAttributes: directory.readUInt32LE(at + 38),
      centralExtra: Buffer.from(directory.subarray(at + CENTRAL_BYTES + nameLength, at + CENTRAL_BYTES + nameLength + extraLength)),
      comment: Buffer.from(directory.subarray(at + CENTRAL_BYTES + nameLength + extraLength, end)),
    });
    at = end;
  }
  if (at !== directory.length) throw invalid('the central directory holds more than its entries');
  return records;
}

/** The local header of `record`: same name, and its data must end before the next entry starts. */
async function withLocalHeader(handle: FileHandle, record: CentralRecord, limit: number): Promise<ZipEntry> {
  const header = await readAt(handle, record.localHeaderOffset, LOCAL_BYTES);
  if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw invalid(`entry ${JSON.stringify(record.name.slice(0, 64))} has no local header`);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const dataOffset = record.localHeaderOffset + LOCAL_BYTES + nameLength + extraLength;
  if (dataOffset + record.compressedSize > limit) throw invalid(`entry ${JSON.stringify(record.name.slice(0, 64))} overlaps the next entry or the directory`);
  const variable = await readAt(handle, record.localHeaderOffset + LOCAL_BYTES, nameLength + extraLength);
  // A local name differing from the central one lets two readers see two different archives.
  if (!variable.subarray(0, nameLength).equals(record.nameBytes)) throw invalid(`entry ${JSON.stringify(record.name.slice(0, 64))} has another name in its local header`);
  return { ...record, localExtra: Buffer.from(variable.subarray(nameLength)), dataOffset };
}

/**
 * The archive's entries, checked: one disk, no ZIP64, the central directory immediately before its
 * end record, every entry's data inside the file and disjoint from the others, names unique and
 * safe, stored or deflated only, unencrypted. INVALID_ARGUMENT otherwise.
 */
export async function readZipDirectory(handle: FileHandle): Promise<ZipArchive> {
  const { size } = await handle.stat();
  if (size < EOCD_BYTES) throw invalid('too short');
  if (size > MAX_ARCHIVE_BYTES) throw invalid(`larger than ${MAX_ARCHIVE_BYTES} bytes`);
  const end = await findEndOfCentralDirectory(handle, size);
  const { record } = end;
  if (record.readUInt16LE(4) !== 0 || record.readUInt16LE(6) !== 0) throw invalid('multi-disk archives are not supported');
  const count = record.readUInt16LE(10);
  const directorySize = record.readUInt32LE(12);
  const directoryOffset = record.readUInt32LE(16);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) throw invalid('ZIP64 archives are not supported');
  if (record.readUInt16LE(8) !== count) throw invalid('the entry counts disagree');
  // Every entry takes at least CENTRAL_BYTES: an absurd count cannot fit its directory.
  if (count * CENTRAL_BYTES > directorySize) throw invalid('the entry count does not fit the central directory');
  if (directoryOffset + directorySize !== end.offset) throw invalid('the central directory is not where the end record says');
  const records = parseCentralDirectory(await readAt(handle, directoryOffset, directorySize), count, directoryOffset);
  let uncompressed = 0;
  for (const entry of records) uncompressed += entry.uncompressedSize;
  if (uncompressed > MAX_TOTAL_UNCOMPRESSED_BYTES) throw invalid(`the entries hold more than ${MAX_TOTAL_UNCOMPRESSED_BYTES} bytes uncompressed`);
  const byOffset = [...records].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  const entries = new Map<CentralRecord, ZipEntry>();
  for (const [index, entry] of byOffset.entries()) {
    // Data must end before the next local header (a data descriptor may follow it): no two entries share bytes.
    const limit = byOffset[index + 1]?.localHeaderOffset ?? directoryOffset;
    entries.set(entry, await withLocalHeader(handle, entry, limit));
  }
  const ordered: ZipEntry[] = [];
  for (const entry of records) {
    const located = entries.get(entry);
    if (located === undefined) throw invalid('an entry could not be read');
    ordered.push(located);
  }
  return { entries: ordered, comment: end.comment, size };
}

/** The entry's stored bytes, read in chunks from the file; `onRaw` sees each chunk. */
async function* rawChunks(handle: FileHandle, entry: ZipEntry, onRaw?: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  let position = entry.dataOffset;
  const end = entry.dataOffset + entry.compressedSize;
  while (position < end) {
    const chunk = await readAt(handle, position, Math.min(READ_CHUNK_BYTES, end - position));
    onRaw?.(chunk);
    yield chunk;
    position += chunk.length;
  }
}

/**
 * Streams the entry's uncompressed data to `onData`, inflating deflated entries; INVALID_ARGUMENT when
 * the data is corrupt, longer or shorter than the directory says, or its CRC-32 differs. Inflation
 * stops as soon as the output passes the declared size (a deflate bomb inflates no further).
 */
export async function readEntryData(handle: FileHandle, entry: ZipEntry, onData: (chunk: Buffer) => void, onRaw?: (chunk: Buffer) => void): Promise<void> {
  const shown = JSON.stringify(entry.name.slice(0, 64));
  let length = 0;
  let crc = 0;
  const take = (chunk: Buffer): void => {
    length += chunk.length;
    if (length > entry.uncompressedSize) throw invalid(`entry ${shown} inflates past its declared size`);
    crc = crc32(chunk, crc);
    onData(chunk);
  };
  if (entry.method === 0) {
    for await (const chunk of rawChunks(handle, entry, onRaw)) take(chunk);
  } else {
    try {
      await pipeline(Readable.from(rawChunks(handle, entry, onRaw)), createInflateRaw(), async (inflated: AsyncIterable<Buffer>) => {
        for await (const chunk of inflated) take(chunk);
      });
    } catch (error) {
      if (error instanceof CofferError) throw error;
      throw invalid(`entry ${shown} is not valid deflate data`);
    }
  }
  if (length !== entry.uncompressedSize) throw invalid(`entry ${shown} is shorter than its declared size`);
  if (crc !== entry.crc32) throw invalid(`entry ${shown} fails its CRC-32`);
}
