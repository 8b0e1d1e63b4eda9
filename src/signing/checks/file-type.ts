// File types by magic bytes: one table, judged on at most the first 4 KiB of the artifact (plus a
// 4-byte read at a PE's e_lfanew), never the whole file, which may be 20 GB.
import { open, type FileHandle } from 'node:fs/promises';

/** Types that magic bytes can tell apart, in the order they are tried. */
export const DETECTED_FILE_TYPES = ['pe', 'elf', 'macho', 'zip', 'msi', 'pdf', 'gzip', 'tar', 'wasm', 'deb', 'rpm', 'text'] as const;
export type DetectedFileType = (typeof DETECTED_FILE_TYPES)[number];

/** JAR and APK are ZIP archives: their magic bytes are ZIP's, so allowing them allows ZIP-shaped files. */
const ALIASES = { jar: 'zip', apk: 'zip' } as const satisfies Record<string, DetectedFileType>;
export const FILE_TYPES = [...DETECTED_FILE_TYPES, ...(Object.keys(ALIASES) as (keyof typeof ALIASES)[])] as const;
export type FileType = DetectedFileType | keyof typeof ALIASES;

/** Every signature below lies in the first 4 KiB (tar's at 257 is the farthest). */
export const HEAD_BYTES = 4096;

function at(head: Buffer, offset: number, bytes: string | readonly number[]): boolean {
  const expected = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  return head.length >= offset + expected.length && head.subarray(offset, offset + expected.length).equals(expected);
}

/** Fat Mach-O shares 0xCAFEBABE with Java class files; a fat header's arch count is small, a class's version is ≥ 45. */
function isFatMachO(head: Buffer): boolean {
  return (at(head, 0, [0xca, 0xfe, 0xba, 0xbe]) || at(head, 0, [0xca, 0xfe, 0xba, 0xbf])) && head.length >= 8 && head.readUInt32BE(4) >= 1 && head.readUInt32BE(4) <= 30;
}

/** UTF-8 with no control bytes but tab, newlines, form feed and escape; only the head is judged. */
function isText(head: Buffer, whole: boolean): boolean {
  if (head.length === 0) return false;
  for (const byte of head) {
    if ((byte < 0x20 && ![0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b].includes(byte)) || byte === 0x7f) return false;
  }
  try {
    // stream: a multi-byte character cut by the 4 KiB boundary is incomplete, not invalid.
    // A fresh decoder each time: a streaming one would carry that incomplete tail into the next call.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !whole });
    return true;
  } catch {
    return false;
  }
}

const SIGNATURES: readonly { readonly type: Exclude<DetectedFileType, 'pe' | 'text'>; readonly matches: (head: Buffer) => boolean }[] = [
  { type: 'elf', matches: (h) => at(h, 0, [0x7f, 0x45, 0x4c, 0x46]) },
  {
    type: 'macho',
    matches: (h) => [[0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe]].some((m) => at(h, 0, m)) || isFatMachO(h),
  },
  { type: 'zip', matches: (h) => at(h, 0, 'PK\x03\x04') || at(h, 0, 'PK\x05\x06') || at(h, 0, 'PK\x07\x08') },
  { type: 'msi', matches: (h) => at(h, 0, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) },
  { type: 'pdf', matches: (h) => at(h, 0, '%PDF-') },
  { type: 'gzip', matches: (h) => at(h, 0, [0x1f, 0x8b]) },
  { type: 'tar', matches: (h) => at(h, 257, 'ustar') },
  { type: 'wasm', matches: (h) => at(h, 0, '\0asm') },
  { type: 'deb', matches: (h) => at(h, 0, '!<arch>\ndebian-binary') },
  { type: 'rpm', matches: (h) => at(h, 0, [0xed, 0xab, 0xee, 0xdb]) },
];

/** One pread: on a regular file it returns all asked for but at EOF, and a short read only fails closed. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** PE: 'MZ', then the 4-byte little-endian e_lfanew at 0x3c points at 'PE\0\0' (PE/COFF spec §3). */
async function isPe(handle: FileHandle, head: Buffer): Promise<boolean> {
  if (!at(head, 0, 'MZ') || head.length < 0x40) return false;
  const offset = head.readUInt32LE(0x3c);
  const signature = offset + 4 <= head.length ? head.subarray(offset, offset + 4) : await readAt(handle, offset, 4);
  return at(signature, 0, 'PE\0\0');
}

/** The artifact's type from its first bytes, or undefined when no signature fits. */
export async function detectFileType(path: string): Promise<DetectedFileType | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = await readAt(handle, 0, HEAD_BYTES);
    if (await isPe(handle, head)) return 'pe';
    const found = SIGNATURES.find((signature) => signature.matches(head));
    if (found !== undefined) return found.type;
    return isText(head, head.length < HEAD_BYTES) ? 'text' : undefined;
  } finally {
    await handle.close();
  }
}

/** Whether a detected type satisfies an allowed name, through the jar/apk aliases. */
export function fileTypeAllowed(detected: DetectedFileType, allowed: readonly FileType[]): boolean {
  return allowed.some((name) => (name in ALIASES ? ALIASES[name as keyof typeof ALIASES] : name) === detected);
}
