// RSAES-OAEP (RFC 8017 §7.1) with one hash for OAEP and MGF1 and an empty label, the parameters
// AWS KMS, PKCS#11 (CKM_RSA_PKCS_OAEP with matching CKG_MGF1) and openssl pkeyutl agree on.
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import type { HashName } from './hash-names.ts';

/** RSA-OAEP with the same hash for OAEP and MGF1 and an empty label (RFC 8017 §7.1). */
export function oaepEncrypt(publicKey: KeyObject, hash: HashName, plaintext: Uint8Array): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/** Returns undefined on any failure (RFC 8017 §7.1.2 asks for one indistinguishable error). */
export function oaepDecrypt(privateKey: KeyObject, hash: HashName, ciphertext: Uint8Array): Buffer | undefined {
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    return undefined;
  }
}
