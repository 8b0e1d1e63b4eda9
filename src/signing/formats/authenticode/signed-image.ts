// The PE file as it is signed: read once into the buffer that becomes the signed file (hashed chunk by
// chunk as it arrives, so the hashed bytes are the bytes written), then the WIN_CERTIFICATE appended at
// the 8-byte boundary, the Certificate Table entry pointed at it and the CheckSum recomputed.
import { open } from 'node:fs/promises';
import { CofferError } from '../../../core/errors.ts';
import type { PkiHash } from '../../../pki/pki-signer.ts';
import { AuthenticodeImageHasher, alignedImageEnd, readPeLayout } from './image-hash.ts';
import { peChecksum } from './pe-checksum.ts';
import { MAX_PE_BYTES, WIN_CERTIFICATE_HEADER_BYTES, type PeLayout } from './pe-image.ts';

/** Room kept after the image for the signature (certificates and a time-stamp token are a few KiB), so it is written in place. */
export const SIGNATURE_RESERVE_BYTES = 64 * 1024;
const READ_BYTES = 1024 * 1024;
/** WIN_CERT_REVISION_2_0 and WIN_CERT_TYPE_PKCS_SIGNED_DATA (PE Format §"The Attribute Certificate Table"). */
const WIN_CERT_REVISION_2_0 = 0x0200;
const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;

export interface ImageToSign {
  readonly layout: PeLayout;
  /** The image (any old certificate table left out), zeros after it; at least alignedImageEnd + reserve long. */
  readonly buffer: Buffer;
  /** The Authenticode image hash of exactly those bytes. */
  readonly digest: Buffer;
}

/** Reads the PE file at `path` into memory and hashes it (INVALID_ARGUMENT for a malformed or changing file). */
export async function readImageToSign(path: string, hash: PkiHash): Promise<ImageToSign> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const { layout, head } = await readPeLayout(file, size);
    const buffer = Buffer.alloc(alignedImageEnd(layout) + SIGNATURE_RESERVE_BYTES);
    const hasher = new AuthenticodeImageHasher(layout, hash);
    // The headers were read already: they are the image's first bytes, not read again.
    const headBytes = head.copy(buffer, 0, 0, Math.min(head.length, layout.imageEnd));
    hasher.update(buffer.subarray(0, headBytes));
    for (let position = headBytes; position < layout.imageEnd;) {
      const { bytesRead } = await file.read(buffer, position, Math.min(READ_BYTES, layout.imageEnd - position), position);
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(position, position + bytesRead));
      position += bytesRead;
    }
    return { layout, buffer, digest: hasher.digest() };
  } finally {
    await file.close();
  }
}

/**
 * The signed file: the image, zeros to the 8-byte boundary, then WIN_CERTIFICATE { dwLength,
 * wRevision 2.0, PKCS_SIGNED_DATA, the ContentInfo } padded to 8 bytes (dwLength and the directory
 * size count the padding, as osslsigncode writes them); the CheckSum last, over the finished file.
 */
export function embedSignature(image: ImageToSign, contentInfo: Buffer): Buffer {
  const start = alignedImageEnd(image.layout);
  const entryLength = Math.ceil((WIN_CERTIFICATE_HEADER_BYTES + contentInfo.length) / 8) * 8;
  const total = start + entryLength;
  if (total > MAX_PE_BYTES) throw new CofferError('INPUT_TOO_LARGE', `a signed PE file is at most ${MAX_PE_BYTES} bytes`);
  let out = image.buffer;
  if (out.length < total) {
    // A signature larger than the reserve (a long chain): one copy, the zeros after the image kept.
    out = Buffer.alloc(total);
    image.buffer.copy(out, 0, 0, start);
  }
  out.writeUInt32LE(entryLength, start);
  out.writeUInt16LE(WIN_CERT_REVISION_2_0, start + 4);
  out.writeUInt16LE(WIN_CERT_TYPE_PKCS_SIGNED_DATA, start + 6);
  contentInfo.copy(out, start + WIN_CERTIFICATE_HEADER_BYTES);
  out.fill(0, start + WIN_CERTIFICATE_HEADER_BYTES + contentInfo.length, total);
  const { certificateEntryOffset, checksumOffset } = image.layout;
  out.writeUInt32LE(start, certificateEntryOffset);
  out.writeUInt32LE(entryLength, certificateEntryOffset + 4);
  const signed = out.subarray(0, total);
  signed.writeUInt32LE(peChecksum(signed, checksumOffset), checksumOffset);
  return signed;
}
