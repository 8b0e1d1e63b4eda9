// ASCII armour (RFC 4880 §6.2): base64 in 64-column lines between BEGIN/END lines, with the CRC-24
// checksum line that gpg 2.2 and older expect (RFC 9580 §6.1 makes it optional; we always write it).

export type ArmorKind = 'PGP SIGNATURE' | 'PGP PUBLIC KEY BLOCK';

const CRC24_INIT = 0xb704ce;
const CRC24_POLY = 0x1864cfb;

/** CRC-24 over `data` (RFC 4880 §6.1). */
export function crc24(data: Uint8Array): number {
  let crc = CRC24_INIT;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let bit = 0; bit < 8; bit += 1) {
      crc <<= 1;
      if ((crc & 0x1000000) !== 0) crc ^= CRC24_POLY;
    }
  }
  return crc & 0xffffff;
}

/** The armoured text: no armour headers, LF line endings, ending with a newline. */
export function armor(kind: ArmorKind, data: Buffer): string {
  const lines = data.toString('base64').match(/.{1,64}/g) ?? [];
  const checksum = Buffer.alloc(3);
  checksum.writeUIntBE(crc24(data), 0, 3);
  const crc = checksum.toString('base64');
  return [`-----BEGIN ${kind}-----`, '', ...lines, `=${crc}`, `-----END ${kind}-----`, ''].join('\n');
}
