// The PE/COFF headers Authenticode needs (Microsoft PE Format §"MS-DOS stub", §"Optional Header",
// §"Certificate Table"): where the CheckSum field and the Certificate Table directory entry lie, and
// the existing certificate table. Every offset is read from an untrusted file: each is bounded before use.
import { CofferError } from '../../../core/errors.ts';

/** The NT headers must lie in the file's first 64 KiB (real linkers put them within the first 1 KiB). */
export const PE_HEADER_WINDOW = 64 * 1024;
/** The Certificate Table's file offset and size are 32-bit (PE Format §"Optional Header Data Directories"). */
export const MAX_PE_BYTES = 0xffff_ffff;

const DOS_HEADER_BYTES = 64;
/** e_lfanew, the file offset of the PE signature (PE Format §"MS-DOS Stub"). */
const E_LFANEW_OFFSET = 0x3c;
const PE_SIGNATURE = 0x0000_4550; // "PE\0\0"
const COFF_HEADER_BYTES = 20;
const PE32_MAGIC = 0x10b;
const PE32_PLUS_MAGIC = 0x20b;
/** CheckSum is at offset 64 of the optional header in both PE32 and PE32+. */
const CHECKSUM_OFFSET = 64;
/** Data directories begin at offset 96 (PE32) or 112 (PE32+); NumberOfRvaAndSizes is just before. */
const DATA_DIRECTORIES = { pe32: 96, pe32plus: 112 } as const;
/** The Certificate Table is data directory 4; each entry is 8 bytes (VirtualAddress, Size). */
const CERTIFICATE_DIRECTORY_INDEX = 4;
const DIRECTORY_ENTRY_BYTES = 8;
/** IMAGE_SECTION_HEADER: SizeOfRawData at 16, PointerToRawData at 20. */
const SECTION_HEADER_BYTES = 40;
/** WIN_CERTIFICATE's header: dwLength, wRevision, wCertificateType. */
export const WIN_CERTIFICATE_HEADER_BYTES = 8;

export interface PeLayout {
  readonly pe32plus: boolean;
  /** File offset of the optional header's 4-byte CheckSum. */
  readonly checksumOffset: number;
  /** File offset of the 8-byte Certificate Table data directory entry. */
  readonly certificateEntryOffset: number;
  /** The existing attribute certificate table (a signed file), else undefined. */
  readonly certificateTable?: { readonly offset: number; readonly size: number };
  /** Where the image ends and a certificate table begins: the table's offset, else the file's size. */
  readonly imageEnd: number;
  readonly fileSize: number;
}

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `not a PE file Authenticode can sign: ${message}`);
}

/**
 * Reads the layout from `head`, the file's first min(fileSize, PE_HEADER_WINDOW) bytes.
 * INVALID_ARGUMENT for anything but a well-formed PE32 or PE32+ header: no MZ or PE signature, an
 * e_lfanew or optional header outside the window or file, fewer than five data directories, or a
 * certificate table that is not exactly at the end of the file (MS12-024: it must be last).
 */
export function parsePeLayout(head: Buffer, fileSize: number): PeLayout {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw invalid('bad file size');
  if (fileSize > MAX_PE_BYTES) throw new CofferError('INPUT_TOO_LARGE', `a PE file is at most ${MAX_PE_BYTES} bytes`);
  if (head.length !== Math.min(fileSize, PE_HEADER_WINDOW)) throw invalid('the headers were not read whole');
  if (head.length < DOS_HEADER_BYTES) throw invalid('shorter than an MS-DOS header');
  if (head[0] !== 0x4d || head[1] !== 0x5a) throw invalid('no MZ signature');
  const peOffset = head.readUInt32LE(E_LFANEW_OFFSET);
  const optionalOffset = peOffset + 4 + COFF_HEADER_BYTES;
  // Every later read lies inside [peOffset, optionalOffset + sizeOfOptionalHeader), checked against head.
  if (optionalOffset + 2 > head.length) throw invalid('e_lfanew points outside the headers');
  if (head.readUInt32LE(peOffset) !== PE_SIGNATURE) throw invalid('no PE signature at e_lfanew');
  const sizeOfOptionalHeader = head.readUInt16LE(peOffset + 4 + 16);
  if (optionalOffset + sizeOfOptionalHeader > head.length) throw invalid('the optional header runs past the headers');
  const magic = head.readUInt16LE(optionalOffset);
  if (magic !== PE32_MAGIC && magic !== PE32_PLUS_MAGIC) throw invalid('the optional header is neither PE32 nor PE32+');
  const pe32plus = magic === PE32_PLUS_MAGIC;
  const directories = pe32plus ? DATA_DIRECTORIES.pe32plus : DATA_DIRECTORIES.pe32;
  const entryInHeader = directories + CERTIFICATE_DIRECTORY_INDEX * DIRECTORY_ENTRY_BYTES;
  if (sizeOfOptionalHeader < entryInHeader + DIRECTORY_ENTRY_BYTES) throw invalid('the optional header has no certificate table entry');
  if (head.readUInt32LE(optionalOffset + directories - 4) <= CERTIFICATE_DIRECTORY_INDEX) throw invalid('fewer than five data directories');

  const checksumOffset = optionalOffset + CHECKSUM_OFFSET;
  const certificateEntryOffset = optionalOffset + entryInHeader;
  const headersEnd = optionalOffset + sizeOfOptionalHeader + head.readUInt16LE(peOffset + 6) * SECTION_HEADER_BYTES;
  if (headersEnd > head.length) throw invalid('the section table runs past the headers');
  const offset = head.readUInt32LE(certificateEntryOffset);
  const size = head.readUInt32LE(certificateEntryOffset + 4);
  const layout = { pe32plus, checksumOffset, certificateEntryOffset, fileSize };
  let certificateTable: { offset: number; size: number } | undefined;
  if (offset !== 0 || size !== 0) {
    // A table anywhere but last would leave bytes after it that no signature covers.
    if (offset < headersEnd || size < WIN_CERTIFICATE_HEADER_BYTES || offset + size !== fileSize) {
      throw invalid('the certificate table entry does not point at a table ending the file');
    }
    certificateTable = { offset, size };
  }
  const imageEnd = certificateTable?.offset ?? fileSize;
  checkSections(head, optionalOffset + sizeOfOptionalHeader, headersEnd, imageEnd);
  return certificateTable === undefined ? { ...layout, imageEnd } : { ...layout, certificateTable, imageEnd };
}

/** Each section's raw data must lie inside the image: a truncated file is refused, not signed. */
function checkSections(head: Buffer, start: number, end: number, imageEnd: number): void {
  for (let header = start; header < end; header += SECTION_HEADER_BYTES) {
    const rawSize = head.readUInt32LE(header + 16);
    const rawPointer = head.readUInt32LE(header + 20);
    if (rawSize !== 0 && rawPointer + rawSize > imageEnd) throw invalid('a section runs past the end of the image');
  }
}
