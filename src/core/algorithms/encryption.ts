// Encrypt and decrypt: AES_256_GCM as XAES-256-GCM (nonce ‖ ciphertext ‖ tag, caller's associated
// data), RSAES_OAEP_* with one hash for OAEP and MGF1. Every decryption failure is CRYPTO_DECRYPT_FAILED.
import { XAES_OVERHEAD } from '../crypto/xaes-256-gcm.ts';
import { HASH_BYTES } from '../crypto/hash-names.ts';
import { oaepDecrypt, oaepDecryptAsync, oaepEncrypt } from '../crypto/rsa-oaep.ts';
import { CofferError, decryptFailed } from '../errors.ts';
import { ENCRYPTION_HASH } from './algorithm-parameters.ts';
import { requireAlgorithm } from './check-operation.ts';
import { MAX_AES_PLAINTEXT } from './limits.ts';
import type { EncryptionAlgorithm } from './names.ts';
import { partsOf, privateKeyOf, type KeyParts, type PreparedKey } from './prepared-key.ts';
import { specInfo } from './spec-table.ts';

function checked(key: PreparedKey, algorithm: EncryptionAlgorithm, aad: Uint8Array | undefined): KeyParts {
  const parts = partsOf(key);
  requireAlgorithm(specInfo(key.spec).encryptionAlgorithms, algorithm, key.spec);
  // RSA-OAEP has no associated data; refusing it beats silently dropping what the caller meant to bind.
  if (parts.family === 'RSA' && aad !== undefined) throw new CofferError('INVALID_ARGUMENT', 'RSA-OAEP takes no associated data');
  return parts;
}

/** RFC 8017 §7.1.1 step 1b: mLen ≤ k − 2·hLen − 2. */
export function oaepPlaintextLimit(modulusBytes: number, algorithm: EncryptionAlgorithm): number {
  const hash = ENCRYPTION_HASH[algorithm];
  return hash === undefined ? 0 : modulusBytes - 2 * HASH_BYTES[hash] - 2;
}

export function encrypt(key: PreparedKey, algorithm: EncryptionAlgorithm, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  const parts = checked(key, algorithm, aad);
  const hash = ENCRYPTION_HASH[algorithm];
  if (parts.family === 'AES' && hash === undefined) {
    if (plaintext.length > MAX_AES_PLAINTEXT) throw new CofferError('INPUT_TOO_LARGE', `AES_256_GCM plaintexts are limited to ${MAX_AES_PLAINTEXT} bytes`);
    return parts.xaes.seal(plaintext, aad);
  }
  if (parts.family === 'RSA' && hash !== undefined) {
    const limit = oaepPlaintextLimit(parts.modulusBytes, algorithm);
    if (plaintext.length > limit) throw new CofferError('INPUT_TOO_LARGE', `${algorithm} under a ${key.spec} key encrypts at most ${limit} bytes`);
    return oaepEncrypt(parts.publicKey, hash, plaintext);
  }
  throw new CofferError('INCOMPATIBLE_ALGORITHM', `the algorithm does not fit a ${key.spec} key`);
}

export function decrypt(key: PreparedKey, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array, aad?: Uint8Array): Buffer {
  const parts = checked(key, algorithm, aad);
  const hash = ENCRYPTION_HASH[algorithm];
  if (parts.family === 'AES' && hash === undefined) {
    if (ciphertext.length > MAX_AES_PLAINTEXT + XAES_OVERHEAD) throw decryptFailed();
    const plaintext = parts.xaes.open(ciphertext, aad);
    if (plaintext === undefined) throw decryptFailed();
    return plaintext;
  }
  if (parts.family === 'RSA' && hash !== undefined) {
    const privateKey = privateKeyOf(parts);
    if (ciphertext.length !== parts.modulusBytes) throw decryptFailed();
    const plaintext = oaepDecrypt(privateKey, hash, ciphertext);
    if (plaintext === undefined) throw decryptFailed();
    return plaintext;
  }
  throw new CofferError('INCOMPATIBLE_ALGORITHM', `the algorithm does not fit a ${key.spec} key`);
}

/**
 * Like decrypt, but an RSA-OAEP decryption runs on libuv's thread pool (~300 µs for RSA-2048 that
 * the event loop keeps). AES stays inline: a pool round trip costs more than a 1 KiB XAES open.
 * Every error rejects: argument errors as in decrypt, every decryption failure CRYPTO_DECRYPT_FAILED.
 */
export async function decryptAsync(key: PreparedKey, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Buffer> {
  const parts = checked(key, algorithm, aad);
  const hash = ENCRYPTION_HASH[algorithm];
  if (parts.family === 'RSA' && hash !== undefined) {
    const privateKey = privateKeyOf(parts);
    if (ciphertext.length !== parts.modulusBytes) throw decryptFailed();
    const plaintext = await oaepDecryptAsync(privateKey, hash, ciphertext);
    if (plaintext === undefined) throw decryptFailed();
    return plaintext;
  }
  return decrypt(key, algorithm, ciphertext, aad);
}
