// Algorithm names as they appear at every boundary. Resolve a caller's string once with the
// resolve* functions in the algorithm table; nothing else enumerates names.

export const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512',
  'ED25519',
  'ML_DSA',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** AES_256_GCM is Coffer's symmetric default (XAES-256-GCM: AES-256-GCM with per-message keys). */
export const ENCRYPTION_ALGORITHMS = ['AES_256_GCM', 'RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_384', 'RSAES_OAEP_SHA_512'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];

export const MAC_ALGORITHMS = ['HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;
export type MacAlgorithm = (typeof MAC_ALGORITHMS)[number];

/**
 * AES_KWP: RFC 5649 under an AES_256 wrapping key. RSA_AES_KEY_WRAP_SHA_256: an ephemeral AES-256
 * key wrapped with RSA-OAEP (SHA-256), then the target wrapped under it with AES-KWP (PKCS#11
 * CKM_RSA_AES_KEY_WRAP, the form AWS KMS and CloudHSM import). RSAES_OAEP_SHA_256: RSA-OAEP
 * directly, for material small enough to fit.
 */
export const WRAPPING_ALGORITHMS = ['AES_KWP', 'RSA_AES_KEY_WRAP_SHA_256', 'RSAES_OAEP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

export type SignatureFormat = 'DER' | 'RAW';

/** What is signed: the whole message, or a digest the caller computed with the algorithm's hash. */
export type SignInput =
  | { readonly type: 'MESSAGE'; readonly message: Uint8Array }
  | { readonly type: 'DIGEST'; readonly digest: Uint8Array };
