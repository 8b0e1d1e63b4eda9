// Key wrapping: AES_KWP (RFC 5649), RSA_AES_KEY_WRAP_SHA_256 (PKCS#11 CKM_RSA_AES_KEY_WRAP) and
// direct RSAES_OAEP_SHA_256. Every unwrap failure is CRYPTO_DECRYPT_FAILED.
import { kwpUnwrap, kwpWrap, kwpWrappedLength } from '../crypto/aes-kwp.ts';
import { HASH_BYTES } from '../crypto/hash-names.ts';
import { rsaAesKeyUnwrap, rsaAesKeyWrap } from '../crypto/rsa-aes-key-wrap.ts';
import { oaepDecrypt, oaepEncrypt } from '../crypto/rsa-oaep.ts';
import { CofferError, decryptFailed } from '../errors.ts';
import { WRAPPING_HASH } from './algorithm-parameters.ts';
import { requireAlgorithm } from './check-operation.ts';
import { MAX_WRAP_MATERIAL } from './limits.ts';
import type { WrappingAlgorithm } from './names.ts';
import { partsOf, privateKeyOf, type KeyParts, type PreparedKey } from './prepared-key.ts';
import { specInfo } from './spec-table.ts';

function checked(key: PreparedKey, algorithm: WrappingAlgorithm): KeyParts {
  const parts = partsOf(key);
  requireAlgorithm(specInfo(key.spec).wrappingAlgorithms, algorithm, key.spec);
  return parts;
}

function incompatible(key: PreparedKey): CofferError {
  return new CofferError('INCOMPATIBLE_ALGORITHM', `the algorithm does not fit a ${key.spec} key`);
}

/** Wraps key material (raw symmetric bytes or PKCS#8 DER) under the wrapping key. */
export function wrap(key: PreparedKey, algorithm: WrappingAlgorithm, material: Uint8Array): Buffer {
  const parts = checked(key, algorithm);
  if (material.length === 0) throw new CofferError('INVALID_ARGUMENT', 'there is no key material to wrap');
  if (material.length > MAX_WRAP_MATERIAL) throw new CofferError('INPUT_TOO_LARGE', `wrapped material is limited to ${MAX_WRAP_MATERIAL} bytes`);
  const hash = WRAPPING_HASH[algorithm];
  if (algorithm === 'AES_KWP' && parts.family === 'AES') return kwpWrap(parts.secret, material);
  if (parts.family !== 'RSA' || hash === undefined) throw incompatible(key);
  if (algorithm === 'RSA_AES_KEY_WRAP_SHA_256') return rsaAesKeyWrap(parts.publicKey, hash, material);
  // RFC 8017 §7.1.1: k − 2·hLen − 2 bytes fit; private keys never do, so they need RSA_AES_KEY_WRAP_SHA_256.
  const limit = parts.modulusBytes - 2 * HASH_BYTES[hash] - 2;
  if (material.length > limit) {
    throw new CofferError('INPUT_TOO_LARGE', `${algorithm} under a ${key.spec} key wraps at most ${limit} bytes; use RSA_AES_KEY_WRAP_SHA_256`);
  }
  return oaepEncrypt(parts.publicKey, hash, material);
}

/** Recovers wrapped material; any failure, whatever its cause, is CRYPTO_DECRYPT_FAILED. */
export function unwrap(key: PreparedKey, algorithm: WrappingAlgorithm, wrapped: Uint8Array): Buffer {
  const parts = checked(key, algorithm);
  const hash = WRAPPING_HASH[algorithm];
  let material: Buffer | undefined;
  if (algorithm === 'AES_KWP' && parts.family === 'AES') {
    // Exact: a wrapping no longer than that of MAX_WRAP_MATERIAL bytes holds at most that many.
    if (wrapped.length > kwpWrappedLength(MAX_WRAP_MATERIAL)) throw decryptFailed();
    material = kwpUnwrap(parts.secret, wrapped);
  } else if (parts.family === 'RSA' && hash !== undefined) {
    const privateKey = privateKeyOf(parts);
    if (algorithm === 'RSA_AES_KEY_WRAP_SHA_256') {
      if (wrapped.length > parts.modulusBytes + kwpWrappedLength(MAX_WRAP_MATERIAL)) throw decryptFailed();
      material = rsaAesKeyUnwrap(privateKey, hash, parts.modulusBytes, wrapped);
    } else {
      material = wrapped.length === parts.modulusBytes ? oaepDecrypt(privateKey, hash, wrapped) : undefined;
    }
  } else {
    throw incompatible(key);
  }
  if (material === undefined || material.length === 0) throw decryptFailed();
  return material;
}
