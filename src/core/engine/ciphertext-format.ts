// Self-describing ciphertexts (format v1): magic ‖ version ‖ algorithm ‖ key id ‖ key version ‖
// payload, so decrypt needs no key name and a ciphertext can never be tried under another key.
import { CofferError, decryptFailed } from '../errors.ts';
import type { EncryptionAlgorithm } from '../algorithms/names.ts';

const MAGIC = 0xcf;
const FORMAT_V1 = 0x01;
export const HEADER_BYTES = 23; // 1 + 1 + 1 + 16 + 4

const ALGORITHM_CODES: Readonly<Record<EncryptionAlgorithm, number>> = {
  AES_256_GCM: 1,
  RSAES_OAEP_SHA_256: 2,
  RSAES_OAEP_SHA_384: 3,
  RSAES_OAEP_SHA_512: 4,
};
const CODE_ALGORITHMS = new Map<number, EncryptionAlgorithm>(
  Object.entries(ALGORITHM_CODES).map(([name, code]) => [code, name as EncryptionAlgorithm]),
);

export interface CiphertextHeader {
  readonly algorithm: EncryptionAlgorithm;
  readonly keyId: string;
  readonly keyVersion: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeHeader(header: CiphertextHeader): Buffer {
  if (!UUID.test(header.keyId)) throw new CofferError('INTERNAL_ERROR', 'key id is not a uuid');
  const out = Buffer.alloc(HEADER_BYTES);
  out[0] = MAGIC;
  out[1] = FORMAT_V1;
  out[2] = ALGORITHM_CODES[header.algorithm];
  out.write(header.keyId.replaceAll('-', ''), 3, 16, 'hex');
  out.writeUInt32BE(header.keyVersion, 19);
  return out;
}

/** Parses the header; anything malformed is reported as the one vague decryption failure. */
export function decodeHeader(ciphertext: Uint8Array): { header: CiphertextHeader; headerBytes: Buffer; payload: Buffer } {
  const bytes = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
  if (bytes.length <= HEADER_BYTES || bytes[0] !== MAGIC || bytes[1] !== FORMAT_V1) throw decryptFailed();
  const algorithm = CODE_ALGORITHMS.get(bytes[2] ?? 0);
  if (algorithm === undefined) throw decryptFailed();
  const hex = bytes.toString('hex', 3, 19);
  const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const keyVersion = bytes.readUInt32BE(19);
  if (keyVersion === 0) throw decryptFailed();
  return { header: { algorithm, keyId, keyVersion }, headerBytes: bytes.subarray(0, HEADER_BYTES), payload: bytes.subarray(HEADER_BYTES) };
}
