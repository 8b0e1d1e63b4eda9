// The PE image CheckSum (the algorithm of imagehlp's CheckSumMappedFile, as osslsigncode computes it):
// a 16-bit one's-complement-style sum of the file's little-endian words with the CheckSum field read as
// zero, folded to 16 bits, plus the file's length. Drivers and boot images must carry the right value.

/** The CheckSum of `image` whose CheckSum field is at `checksumOffset`; an odd last byte counts as a word. */
export function peChecksum(image: Uint8Array, checksumOffset: number): number {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const byteAt = (offset: number): number => (offset >= checksumOffset && offset < checksumOffset + 4 ? 0 : view.getUint8(offset));
  let sum = 0;
  for (let offset = 0; offset + 1 < image.byteLength; offset += 2) {
    // The CheckSum field reads as zero; it is word-aligned in every real image, but e_lfanew is untrusted.
    const inField = offset + 1 >= checksumOffset && offset < checksumOffset + 4;
    sum += inField ? byteAt(offset) | (byteAt(offset + 1) << 8) : view.getUint16(offset, true);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if ((image.byteLength & 1) === 1) {
    sum += byteAt(image.byteLength - 1);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + image.byteLength) >>> 0;
}
