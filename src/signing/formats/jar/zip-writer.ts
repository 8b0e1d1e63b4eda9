// Writes ZIP records (APPNOTE.TXT 4.3): local headers without data descriptors (sizes and CRC-32
// known up front), central directory headers and the end record; no ZIP64.
import { crc32, deflateRawSync } from 'node:zlib';
import { CofferError } from '../../../core/errors.ts';
import type { ZipRecord } from './zip-reader.ts';

export type { ZipRecord };

/** APPNOTE 4.4.4 bit 3: sizes and CRC-32 follow the data in a descriptor. Written headers carry them instead. */
const DATA_DESCRIPTOR_FLAG = 0x0008;
/** APPNOTE 4.4.4 bit 11: the name is UTF-8. */
const UTF8_FLAG = 0x0800;
const ZIP64_EXTRA_ID = 0x0001;
/** Version 2.0: deflate and directories (APPNOTE 4.4.3.2); made by MS-DOS (upper byte 0), as the JDK writes. */
const VERSION_20 = 20;

/** Bytes a local header of `record` takes. */
export function localHeaderLength(record: ZipRecord): number {
  return 30 + record.nameBytes.length + record.localExtra.length;
}

/**
 * The fields local and central headers share, in the same order (APPNOTE 4.3.7 from offset 4, 4.3.12
 * from offset 6): version needed to extract through extra field length, with the CRC-32 and sizes
 * filled in and the data-descriptor flag cleared.
 */
function writeSharedFields(header: Buffer, at: number, record: ZipRecord, extraLength: number): void {
  header.writeUInt16LE(record.versionNeeded, at);
  header.writeUInt16LE(record.flags & ~DATA_DESCRIPTOR_FLAG, at + 2);
  header.writeUInt16LE(record.method, at + 4);
  header.writeUInt16LE(record.dosTime, at + 6);
  header.writeUInt16LE(record.dosDate, at + 8);
  header.writeUInt32LE(record.crc32, at + 10);
  header.writeUInt32LE(record.compressedSize, at + 14);
  header.writeUInt32LE(record.uncompressedSize, at + 18);
  header.writeUInt16LE(record.nameBytes.length, at + 22);
  header.writeUInt16LE(extraLength, at + 24);
}

/** APPNOTE 4.3.7, with the CRC-32 and sizes filled in and the data-descriptor flag cleared. */
export function localHeader(record: ZipRecord): Buffer {
  const header = Buffer.alloc(localHeaderLength(record));
  header.writeUInt32LE(0x04034b50, 0);
  writeSharedFields(header, 4, record, record.localExtra.length);
  record.nameBytes.copy(header, 30);
  record.localExtra.copy(header, 30 + record.nameBytes.length);
  return header;
}

/** APPNOTE 4.3.12, pointing at the local header written at `offset`. */
export function centralHeader(record: ZipRecord, offset: number): Buffer {
  const header = Buffer.alloc(46 + record.nameBytes.length + record.centralExtra.length + record.comment.length);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(record.versionMadeBy, 4);
  writeSharedFields(header, 6, record, record.centralExtra.length);
  header.writeUInt16LE(record.comment.length, 32);
  // Disk 0 (34), internal (36) and external (38) attributes, local header offset (42).
  header.writeUInt16LE(record.internalAttributes, 36);
  header.writeUInt32LE(record.externalAttributes, 38);
  header.writeUInt32LE(offset, 42);
  record.nameBytes.copy(header, 46);
  record.centralExtra.copy(header, 46 + record.nameBytes.length);
  record.comment.copy(header, 46 + record.nameBytes.length + record.centralExtra.length);
  return header;
}

/** APPNOTE 4.3.16: one disk, `count` entries. */
export function endOfCentralDirectory(count: number, directorySize: number, directoryOffset: number, comment: Buffer): Buffer {
  const record = Buffer.alloc(22 + comment.length);
  record.writeUInt32LE(0x06054b50, 0);
  record.writeUInt16LE(count, 8);
  record.writeUInt16LE(count, 10);
  record.writeUInt32LE(directorySize, 12);
  record.writeUInt32LE(directoryOffset, 16);
  record.writeUInt16LE(comment.length, 20);
  comment.copy(record, 22);
  return record;
}

/**
 * An extra field as copied: ZIP64 blocks dropped (the written sizes and offsets are 32-bit), the
 * others kept. INVALID_ARGUMENT when a block runs past the field.
 */
export function copiedExtra(extra: Buffer): Buffer {
  const kept: Buffer[] = [];
  let at = 0;
  while (at < extra.length) {
    if (at + 4 > extra.length) throw new CofferError('INVALID_ARGUMENT', 'not a readable ZIP archive: a malformed extra field');
    const id = extra.readUInt16LE(at);
    const end = at + 4 + extra.readUInt16LE(at + 2);
    if (end > extra.length) throw new CofferError('INVALID_ARGUMENT', 'not a readable ZIP archive: a malformed extra field');
    if (id !== ZIP64_EXTRA_ID) kept.push(extra.subarray(at, end));
    at = end;
  }
  return Buffer.concat(kept);
}

/** MS-DOS date and time (APPNOTE 4.4.6), from the UTC fields of `date` (two-second resolution, 1980–2107). */
export function dosDateTime(date: Date): { dosTime: number; dosDate: number } {
  const year = Math.min(Math.max(date.getUTCFullYear(), 1980), 2107);
  return {
    dosTime: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
    dosDate: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

/** A new deflated entry `name` holding `data`: the record and its compressed bytes. */
export function deflatedEntry(name: string, data: Buffer, date: Date): { record: ZipRecord; compressed: Buffer } {
  const compressed = deflateRawSync(data);
  return {
    record: {
      nameBytes: Buffer.from(name, 'utf8'), versionMadeBy: VERSION_20, versionNeeded: VERSION_20, flags: UTF8_FLAG, method: 8,
      ...dosDateTime(date), crc32: crc32(data), compressedSize: compressed.length, uncompressedSize: data.length,
      internalAttributes: 0, externalAttributes: 0, localExtra: Buffer.alloc(0), centralExtra: Buffer.alloc(0), comment: Buffer.alloc(0),
    },
    compressed,
  };
}
