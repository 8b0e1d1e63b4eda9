// The Authenticode PE image hash ("Windows Authenticode Portable Executable Signature Format",
// §"Calculating the PE Image Hash"), as osslsigncode and signtool compute it: every byte of the image
// in file order except the CheckSum field, the Certificate Table entry and the certificate table,
// then zeros up to the 8-byte boundary where the table goes. Fed in chunks: never a whole-file buffer.
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { CofferError } from '../../../core/errors.ts';
import { nodeHashName } from '../../../pki/cms/signed-attributes.ts';
import type { PkiHash } from '../../../pki/pki-signer.ts';
import { PE_HEADER_WINDOW, parsePeLayout, type PeLayout } from './pe-image.ts';

const READ_BYTES = 1024 * 1024;

/** Where the signature will begin: the image padded to 8 bytes (WIN_CERTIFICATE entries are quadword aligned). */
export function alignedImageEnd(layout: PeLayout): number {
  return Math.ceil(layout.imageEnd / 8) * 8;
}

/**
 * Hashes the image as it is fed, in order from offset 0, skipping the excluded fields; bytes fed past
 * imageEnd (an old signature) are ignored. digest() adds the zero padding and requires the whole image.
 */
export class AuthenticodeImageHasher {
  readonly #hash: Hash;
  readonly #layout: PeLayout;
  /** [start, end) ranges left out, in file order. */
  readonly #skipped: readonly (readonly [number, number])[];
  #position = 0;

  constructor(layout: PeLayout, hash: PkiHash) {
    this.#layout = layout;
    this.#hash = createHash(nodeHashName(hash));
    this.#skipped = [[layout.checksumOffset, layout.checksumOffset + 4], [layout.certificateEntryOffset, layout.certificateEntryOffset + 8]];
  }

  update(chunk: Uint8Array): void {
    const start = this.#position;
    const end = Math.min(start + chunk.length, this.#layout.imageEnd);
    this.#position += chunk.length;
    let from = start;
    for (const [skipStart, skipEnd] of this.#skipped) {
      if (skipEnd <= from || skipStart >= end) continue;
      if (skipStart > from) this.#hash.update(chunk.subarray(from - start, skipStart - start));
      from = Math.max(from, skipEnd);
    }
    if (from < end) this.#hash.update(chunk.subarray(from - start, end - start));
  }

  digest(): Buffer {
    if (this.#position < this.#layout.imageEnd) throw new CofferError('INVALID_ARGUMENT', 'the PE file ended early: it changed while it was read');
    // osslsigncode pe_digest_calc_bio and signtool: an unaligned image is hashed with its zero padding.
    this.#hash.update(Buffer.alloc(alignedImageEnd(this.#layout) - this.#layout.imageEnd));
    return this.#hash.digest();
  }
}

/** Reads the first PE_HEADER_WINDOW bytes of an open file (`head`, as read) and parses its layout. */
export async function readPeLayout(file: FileHandle, fileSize: number): Promise<{ layout: PeLayout; head: Buffer }> {
  const head = Buffer.alloc(Math.min(fileSize, PE_HEADER_WINDOW));
  let filled = 0;
  while (filled < head.length) {
    const { bytesRead } = await file.read(head, filled, head.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  const read = head.subarray(0, filled);
  return { layout: parsePeLayout(read, fileSize), head: read };
}

/**
 * The Authenticode image hash of the PE file at `path`, streamed: the digest signtool and osslsigncode
 * put in SpcIndirectDataContent, whether the file is signed already or not.
 */
export async function hashPeImage(path: string, hash: PkiHash): Promise<{ layout: PeLayout; digest: Buffer }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const { layout } = await readPeLayout(file, size);
    const hasher = new AuthenticodeImageHasher(layout, hash);
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (let position = 0; position < layout.imageEnd;) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(READ_BYTES, layout.imageEnd - position), position);
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    return { layout, digest: hasher.digest() };
  } finally {
    await file.close();
  }
}
