// What each algorithm name means: its scheme and hash. The one place a name becomes parameters.
import { HASH_BYTES, type HashName } from '../crypto/hash-names.ts';
import type { EncryptionAlgorithm, MacAlgorithm, SigningAlgorithm, WrappingAlgorithm } from './names.ts';

export type SignatureScheme = 'RSASSA_PSS' | 'RSASSA_PKCS1_V1_5' | 'ECDSA' | 'ED25519' | 'ML_DSA';

export interface SigningParameters {
  readonly scheme: SignatureScheme;
  /** The hash a precomputed digest must come from; absent for schemes that sign whole messages. */
  readonly hash?: HashName;
}

export const SIGNING_PARAMETERS: Readonly<Record<SigningAlgorithm, SigningParameters>> = {
  RSASSA_PSS_SHA_256: { scheme: 'RSASSA_PSS', hash: 'sha256' },
  RSASSA_PSS_SHA_384: { scheme: 'RSASSA_PSS', hash: 'sha384' },
  RSASSA_PSS_SHA_512: { scheme: 'RSASSA_PSS', hash: 'sha512' },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'RSASSA_PKCS1_V1_5', hash: 'sha256' },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'RSASSA_PKCS1_V1_5', hash: 'sha384' },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'RSASSA_PKCS1_V1_5', hash: 'sha512' },
  ECDSA_SHA_256: { scheme: 'ECDSA', hash: 'sha256' },
  ECDSA_SHA_384: { scheme: 'ECDSA', hash: 'sha384' },
  ECDSA_SHA_512: { scheme: 'ECDSA', hash: 'sha512' },
  ED25519: { scheme: 'ED25519' },
  ML_DSA: { scheme: 'ML_DSA' },
};

/** AES_256_GCM carries no hash; RSA-OAEP uses the same hash for OAEP and MGF1 (RFC 8017 §7.1). */
export const ENCRYPTION_HASH: Readonly<Record<EncryptionAlgorithm, HashName | undefined>> = {
  AES_256_GCM: undefined,
  RSAES_OAEP_SHA_256: 'sha256',
  RSAES_OAEP_SHA_384: 'sha384',
  RSAES_OAEP_SHA_512: 'sha512',
};

export const MAC_HASH: Readonly<Record<MacAlgorithm, HashName>> = {
  HMAC_SHA_256: 'sha256',
  HMAC_SHA_384: 'sha384',
  HMAC_SHA_512: 'sha512',
};

/** The OAEP hash of each RSA wrapping algorithm; AES_KWP uses none. */
export const WRAPPING_HASH: Readonly<Record<WrappingAlgorithm, HashName | undefined>> = {
  AES_KWP: undefined,
  RSA_AES_KEY_WRAP_SHA_256: 'sha256',
  RSAES_OAEP_SHA_256: 'sha256',
};

/** Length in bytes of a precomputed digest for `algorithm`, or undefined if it signs messages only. */
export function signingDigestLength(algorithm: SigningAlgorithm): number | undefined {
  const { hash } = SIGNING_PARAMETERS[algorithm];
  return hash === undefined ? undefined : HASH_BYTES[hash];
}
