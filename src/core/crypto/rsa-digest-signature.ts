// RSA signatures over a caller-supplied digest through raw RSA operations: PKCS#1 v1.5
// (RFC 8017 §8.2, EMSA-PKCS1-v1_5 §9.2) and PSS (§8.1, EMSA-PSS §9.1). Both produce signatures
// identical in form to node:crypto's sign() over the message, so either side verifies the other.
import { constants, privateEncrypt, publicDecrypt, timingSafeEqual, type KeyObject } from 'node:crypto';
import { emsaPssEncode, emsaPssVerify } from './emsa-pss.ts';
import { HASH_BYTES, type HashName } from './hash-names.ts';

/** DER of DigestInfo up to the digest itself (RFC 8017 §9.2, note 1). */
const DIGEST_INFO_PREFIX: Readonly<Record<HashName, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function requireDigest(hash: HashName, digest: Uint8Array): void {
  if (digest.length !== HASH_BYTES[hash]) throw new RangeError('digest length does not match the hash');
}

/** §8.2.1: privateEncrypt with PKCS#1 padding is exactly RSASP1 over 0x00 01 FF… 00 ‖ DigestInfo. */
export function pkcs1v15SignDigest(privateKey: KeyObject, hash: HashName, digest: Uint8Array): Buffer {
  requireDigest(hash, digest);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]));
}

/** §8.2.2; `modulusBytes` is k, the only signature length accepted (step 1). */
export function pkcs1v15VerifyDigest(publicKey: KeyObject, hash: HashName, digest: Uint8Array, signature: Uint8Array, modulusBytes: number): boolean {
  if (digest.length !== HASH_BYTES[hash] || signature.length !== modulusBytes) return false;
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  const expected = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  return recovered.length === expected.length && timingSafeEqual(recovered, expected);
}

/** §8.1.1 with sLen = hLen; EM is left-padded to k bytes when modBits − 1 is a multiple of 8. */
export function pssSignDigest(privateKey: KeyObject, hash: HashName, digest: Uint8Array, modulusBits: number): Buffer {
  requireDigest(hash, digest);
  const em = emsaPssEncode(hash, digest, modulusBits - 1);
  const k = Math.ceil(modulusBits / 8);
  const block = Buffer.alloc(k);
  em.copy(block, k - em.length);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block);
}

/** §8.1.2 with sLen = hLen. */
export function pssVerifyDigest(publicKey: KeyObject, hash: HashName, digest: Uint8Array, signature: Uint8Array, modulusBits: number): boolean {
  const k = Math.ceil(modulusBits / 8);
  if (digest.length !== HASH_BYTES[hash] || signature.length !== k) return false;
  let block: Buffer;
  try {
    // RSAVP1 (§5.2.2); OpenSSL refuses a representative not below n.
    block = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false;
  }
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (block.length !== k) return false;
  // I2OSP(m, emLen) (step 2c): any byte beyond emLen must be zero.
  for (let i = 0; i < k - emLen; i++) if (block[i] !== 0) return false;
  return emsaPssVerify(hash, digest, block.subarray(k - emLen), emBits, HASH_BYTES[hash]);
}
