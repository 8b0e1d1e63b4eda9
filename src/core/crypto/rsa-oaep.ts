// RSAES-OAEP (RFC 8017 §7.1) with one hash for OAEP and MGF1 and an empty label, the parameters
// AWS KMS, PKCS#11 (CKM_RSA_PKCS_OAEP with matching CKG_MGF1) and openssl pkeyutl agree on.
import { constants, privateDecrypt, publicEncrypt, webcrypto, type KeyObject } from 'node:crypto';
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

const WEBCRYPTO_HASH: Readonly<Record<HashName, string>> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
// One CryptoKey per private key and hash, made on first use: toCryptoKey costs about 50 µs, a
// 2048-bit decryption about 300. Weak, so a dropped key version takes its CryptoKeys with it.
const cryptoKeys = new WeakMap<KeyObject, Map<HashName, webcrypto.CryptoKey>>();

function decryptionKey(privateKey: KeyObject, hash: HashName): webcrypto.CryptoKey {
  let byHash = cryptoKeys.get(privateKey);
  if (byHash === undefined) {
    byHash = new Map();
    cryptoKeys.set(privateKey, byHash);
  }
  let key = byHash.get(hash);
  if (key === undefined) {
    // Web Crypto's RSA-OAEP uses the one hash for OAEP and MGF1, with an empty label: the same scheme.
    key = privateKey.toCryptoKey({ name: 'RSA-OAEP', hash: WEBCRYPTO_HASH[hash] }, false, ['decrypt']);
    byHash.set(hash, key);
  }
  return key;
}

/**
 * oaepDecrypt on libuv's thread pool (node:crypto has no callback form of privateDecrypt; Web
 * Crypto's decrypt runs there), so a decryption does not hold the event loop. Same result, and
 * undefined on any failure.
 */
export async function oaepDecryptAsync(privateKey: KeyObject, hash: HashName, ciphertext: Uint8Array): Promise<Buffer | undefined> {
  try {
    return Buffer.from(await webcrypto.subtle.decrypt({ name: 'RSA-OAEP' }, decryptionKey(privateKey, hash), ciphertext));
  } catch {
    return undefined;
  }
}
