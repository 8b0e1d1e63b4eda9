// Tests only: a minimal valid PE32 or PE32+ image (DOS header, PE signature, COFF header, optional header
// with 16 data directories, one .text section) built from the PE Format's field offsets, and the
// osslsigncode binary run as the cross-check.
import { execFile } from 'node:child_process';
import type { ToolResult } from '../../../pki/pki-test-kit.ts';

export const E_LFANEW = 0x80;
const FILE_ALIGNMENT = 0x200;
const SECTION_ALIGNMENT = 0x1000;

export interface PeSpec {
  readonly pe32plus: boolean;
  /** The .text section's raw bytes (padded to the file alignment). */
  readonly code: Buffer;
  /** Bytes appended after the last section (an overlay), e.g. to make the file unaligned. */
  readonly overlay?: Buffer;
}

/** Offsets inside the built image, for tests that corrupt it. */
export const PE_OFFSETS = {
  optionalHeader: E_LFANEW + 24,
  sizeOfOptionalHeader: E_LFANEW + 4 + 16,
  checksum: E_LFANEW + 24 + 64,
  numberOfRvaAndSizes: (pe32plus: boolean): number => E_LFANEW + 24 + (pe32plus ? 108 : 92),
  certificateEntry: (pe32plus: boolean): number => E_LFANEW + 24 + (pe32plus ? 112 : 96) + 4 * 8,
} as const;

export function buildPe(spec: PeSpec): Buffer {
  const optionalSize = spec.pe32plus ? 240 : 224;
  const headersSize = FILE_ALIGNMENT;
  const rawSize = Math.ceil(Math.max(spec.code.length, 1) / FILE_ALIGNMENT) * FILE_ALIGNMENT;
  const image = Buffer.alloc(headersSize + rawSize);
  image.write('MZ', 0, 'latin1');
  image.writeUInt32LE(E_LFANEW, 0x3c);
  image.write('This program cannot be run in DOS mode.', 0x4e, 'latin1');
  image.write('PE\0\0', E_LFANEW, 'latin1');
  // COFF header: i386 or AMD64, one section, executable image (32-bit machine for PE32, large-address aware for PE32+).
  const coff = E_LFANEW + 4;
  image.writeUInt16LE(spec.pe32plus ? 0x8664 : 0x014c, coff);
  image.writeUInt16LE(1, coff + 2);
  image.writeUInt32LE(0x6600_0000, coff + 4);
  image.writeUInt16LE(optionalSize, coff + 16);
  image.writeUInt16LE(spec.pe32plus ? 0x0022 : 0x0102, coff + 18);
  const opt = PE_OFFSETS.optionalHeader;
  image.writeUInt16LE(spec.pe32plus ? 0x20b : 0x10b, opt);
  image.writeUInt8(14, opt + 2);
  image.writeUInt32LE(rawSize, opt + 4);
  image.writeUInt32LE(SECTION_ALIGNMENT, opt + 16); // AddressOfEntryPoint
  image.writeUInt32LE(SECTION_ALIGNMENT, opt + 20); // BaseOfCode
  if (spec.pe32plus) {
    image.writeBigUInt64LE(0x1_4000_0000n, opt + 24);
  } else {
    image.writeUInt32LE(0x40_0000, opt + 28);
  }
  image.writeUInt32LE(SECTION_ALIGNMENT, opt + 32);
  image.writeUInt32LE(FILE_ALIGNMENT, opt + 36);
  image.writeUInt16LE(6, opt + 40); // MajorOperatingSystemVersion
  image.writeUInt16LE(6, opt + 48); // MajorSubsystemVersion
  image.writeUInt32LE(SECTION_ALIGNMENT + Math.ceil(rawSize / SECTION_ALIGNMENT) * SECTION_ALIGNMENT, opt + 56); // SizeOfImage
  image.writeUInt32LE(headersSize, opt + 60);
  image.writeUInt16LE(3, opt + 68); // IMAGE_SUBSYSTEM_WINDOWS_CUI
  image.writeUInt16LE(0x8140, opt + 70); // NX compatible, dynamic base, terminal-server aware
  if (spec.pe32plus) {
    image.writeBigUInt64LE(0x10_0000n, opt + 72);
    image.writeBigUInt64LE(0x1000n, opt + 80);
    image.writeBigUInt64LE(0x10_0000n, opt + 88);
    image.writeBigUInt64LE(0x1000n, opt + 96);
  } else {
    image.writeUInt32LE(0x10_0000, opt + 72);
    image.writeUInt32LE(0x1000, opt + 76);
    image.writeUInt32LE(0x10_0000, opt + 80);
    image.writeUInt32LE(0x1000, opt + 84);
  }
  image.writeUInt32LE(16, PE_OFFSETS.numberOfRvaAndSizes(spec.pe32plus));
  // The one section header, right after the optional header.
  const section = opt + optionalSize;
  image.write('.text', section, 'latin1');
  image.writeUInt32LE(Math.max(spec.code.length, 1), section + 8); // VirtualSize
  image.writeUInt32LE(SECTION_ALIGNMENT, section + 12);
  image.writeUInt32LE(rawSize, section + 16);
  image.writeUInt32LE(headersSize, section + 20);
  image.writeUInt32LE(0x6000_0020, section + 36); // code, execute, read
  spec.code.copy(image, headersSize);
  return Buffer.concat([image, spec.overlay ?? Buffer.alloc(0)]);
}

/** Runs osslsigncode with `args`; resolves with its exit status and output, never rejecting on a non-zero exit. */
export function osslsigncode(args: readonly string[], cwd: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile('osslsigncode', args, { cwd, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error('osslsigncode could not be run', { cause: error }));
        return;
      }
      resolve({ status: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}
