// PKCS#11 CKM_RSA_AES_KEY_WRAP (PKCS#11 v2.40 §2.1.21): a fresh AES-256 key encrypted with RSA-OAEP,
// followed by the target wrapped under it with AES-KWP (RFC 5649). The form AWS KMS and CloudHSM import.
import { randomBytes, type KeyObject } from 'node:crypto';
import { kwpUnwrap, kwpWrap } from './aes-kwp.ts';
import type { HashName } from './hash-names.ts';
import { oaepDecrypt, oaepEncrypt } from './rsa-oaep.ts';

const EPHEMERAL_KEY_BYTES = 32;

/** RSA-OAEP(ephemeral AES-256 key) ‖ AES-KWP(material); the first part is k bytes long. */
export function rsaAesKeyWrap(publicKey: KeyObject, hash: HashName, material: Uint8Array): Buffer {
  const ephemeral = randomBytes(EPHEMERAL_KEY_BYTES);
  try {
    return Buffer.concat([oaepEncrypt(publicKey, hash, ephemeral), kwpWrap(ephemeral, material)]);
  } finally {
    ephemeral.fill(0);
  }
}

/** Returns the material, or undefined when either layer fails; `modulusBytes` is k. */
export function rsaAesKeyUnwrap(privateKey: KeyObject, hash: HashName, modulusBytes: number, wrapped: Uint8Array): Buffer | undefined {
  if (wrapped.length < modulusBytes + 16) return undefined;
  const ephemeral = oaepDecrypt(privateKey, hash, wrapped.subarray(0, modulusBytes));
  if (ephemeral === undefined) return undefined;
  try {
    // Only AES-256 ephemeral keys are accepted, the size this module itself produces.
    if (ephemeral.length !== EPHEMERAL_KEY_BYTES) return undefined;
    return kwpUnwrap(ephemeral, wrapped.subarray(modulusBytes));
  } finally {
    ephemeral.fill(0);
  }
}
