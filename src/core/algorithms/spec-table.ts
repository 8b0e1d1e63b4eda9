// The algorithm table: for each key spec, its family, the usages it may be created with, the
// algorithms each usage allows, and the shape its key material must have.
import { CofferError } from '../errors.ts';
import type { KeySpec, KeyUsage } from '../key-record.ts';
import type { EcCurveName } from '../crypto/ecdsa-digest.ts';
import type { EncryptionAlgorithm, MacAlgorithm, SigningAlgorithm, WrappingAlgorithm } from './names.ts';

export type KeyFamily = 'AES' | 'HMAC' | 'RSA' | 'EC' | 'ED25519' | 'ML_DSA';

export interface SpecInfo {
  readonly spec: KeySpec;
  readonly family: KeyFamily;
  readonly symmetric: boolean;
  /** Usages this spec may be created with. */
  readonly usages: readonly KeyUsage[];
  readonly signingAlgorithms: readonly SigningAlgorithm[];
  /** The first entry is the default when a caller names none. */
  readonly encryptionAlgorithms: readonly EncryptionAlgorithm[];
  readonly wrappingAlgorithms: readonly WrappingAlgorithm[];
  readonly macAlgorithm?: MacAlgorithm;
}

export type MlDsaParameterSet = 'ml-dsa-44' | 'ml-dsa-65' | 'ml-dsa-87';

/** What valid key material for a spec looks like; key-material.ts and prepared-key.ts check it. */
export type KeyShape =
  | { readonly kind: 'AES'; readonly bytes: number }
  /** HMAC: generated at the hash length; imports accepted from the hash length to the block size (AWS KMS's ranges). */
  | { readonly kind: 'HMAC'; readonly generateBytes: number; readonly minBytes: number; readonly maxBytes: number }
  | { readonly kind: 'RSA'; readonly modulusBits: number }
  | { readonly kind: 'EC'; readonly curve: EcCurveName }
  | { readonly kind: 'ED25519' }
  | { readonly kind: 'ML_DSA'; readonly parameterSet: MlDsaParameterSet };

const RSA_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'WRAP_UNWRAP'] as const;
const RSA_SIGNING = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
] as const;
const RSA_ENCRYPTION = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_384', 'RSAES_OAEP_SHA_512'] as const;
const RSA_WRAPPING = ['RSA_AES_KEY_WRAP_SHA_256', 'RSAES_OAEP_SHA_256'] as const;
const NONE = [] as const;

interface TableRow {
  readonly info: SpecInfo;
  readonly shape: KeyShape;
}

function row(spec: KeySpec, family: KeyFamily, usages: readonly KeyUsage[], shape: KeyShape, algorithms: {
  signing?: readonly SigningAlgorithm[];
  encryption?: readonly EncryptionAlgorithm[];
  wrapping?: readonly WrappingAlgorithm[];
  mac?: MacAlgorithm;
}): TableRow {
  const info: SpecInfo = {
    spec,
    family,
    symmetric: family === 'AES' || family === 'HMAC',
    usages: Object.freeze([...usages]),
    signingAlgorithms: Object.freeze([...(algorithms.signing ?? NONE)]),
    encryptionAlgorithms: Object.freeze([...(algorithms.encryption ?? NONE)]),
    wrappingAlgorithms: Object.freeze([...(algorithms.wrapping ?? NONE)]),
    ...(algorithms.mac === undefined ? {} : { macAlgorithm: algorithms.mac }),
  };
  return Object.freeze({ info: Object.freeze(info), shape: Object.freeze(shape) });
}

function hmac(spec: KeySpec, mac: MacAlgorithm, hashBytes: number, blockBytes: number): TableRow {
  return row(spec, 'HMAC', ['GENERATE_VERIFY_MAC', 'DERIVE'],
    { kind: 'HMAC', generateBytes: hashBytes, minBytes: hashBytes, maxBytes: blockBytes }, { mac });
}

function rsa(spec: KeySpec, modulusBits: number): TableRow {
  return row(spec, 'RSA', RSA_USAGES, { kind: 'RSA', modulusBits },
    { signing: RSA_SIGNING, encryption: RSA_ENCRYPTION, wrapping: RSA_WRAPPING });
}

/**
 * ECDSA hashes are fixed per curve as in AWS KMS (hash strength matches curve strength): P-256 and
 * secp256k1 sign with SHA-256, P-384 with SHA-384, P-521 with SHA-512. ECDH (DERIVE) is for NIST curves.
 */
function ec(spec: KeySpec, curve: EcCurveName, algorithm: SigningAlgorithm, derive: boolean): TableRow {
  return row(spec, 'EC', derive ? ['SIGN_VERIFY', 'DERIVE'] : ['SIGN_VERIFY'], { kind: 'EC', curve }, { signing: [algorithm] });
}

function mlDsa(spec: KeySpec, parameterSet: MlDsaParameterSet): TableRow {
  return row(spec, 'ML_DSA', ['SIGN_VERIFY'], { kind: 'ML_DSA', parameterSet }, { signing: ['ML_DSA'] });
}

const TABLE: Readonly<Record<KeySpec, TableRow>> = Object.freeze({
  AES_256: row('AES_256', 'AES', ['ENCRYPT_DECRYPT', 'WRAP_UNWRAP'], { kind: 'AES', bytes: 32 },
    { encryption: ['AES_256_GCM'], wrapping: ['AES_KWP'] }),
  // Block sizes: 64 bytes for SHA-256, 128 for SHA-384 and SHA-512 (FIPS 180-4 §1).
  HMAC_256: hmac('HMAC_256', 'HMAC_SHA_256', 32, 64),
  HMAC_384: hmac('HMAC_384', 'HMAC_SHA_384', 48, 128),
  HMAC_512: hmac('HMAC_512', 'HMAC_SHA_512', 64, 128),
  RSA_2048: rsa('RSA_2048', 2048),
  RSA_3072: rsa('RSA_3072', 3072),
  RSA_4096: rsa('RSA_4096', 4096),
  EC_P256: ec('EC_P256', 'prime256v1', 'ECDSA_SHA_256', true),
  EC_P384: ec('EC_P384', 'secp384r1', 'ECDSA_SHA_384', true),
  EC_P521: ec('EC_P521', 'secp521r1', 'ECDSA_SHA_512', true),
  EC_SECP256K1: ec('EC_SECP256K1', 'secp256k1', 'ECDSA_SHA_256', false),
  ED25519: row('ED25519', 'ED25519', ['SIGN_VERIFY'], { kind: 'ED25519' }, { signing: ['ED25519'] }),
  ML_DSA_44: mlDsa('ML_DSA_44', 'ml-dsa-44'),
  ML_DSA_65: mlDsa('ML_DSA_65', 'ml-dsa-65'),
  ML_DSA_87: mlDsa('ML_DSA_87', 'ml-dsa-87'),
});

function rowOf(spec: KeySpec): TableRow {
  // Object.hasOwn guards against a spec that reached here unresolved (e.g. '__proto__').
  if (!Object.hasOwn(TABLE, spec)) throw new CofferError('UNSUPPORTED_ALGORITHM', 'unsupported key spec');
  return TABLE[spec];
}

export function specInfo(spec: KeySpec): SpecInfo {
  return rowOf(spec).info;
}

export function keyShape(spec: KeySpec): KeyShape {
  return rowOf(spec).shape;
}

/** Refuses a usage the spec cannot be created with (e.g. an HMAC key for ENCRYPT_DECRYPT). */
export function checkSpecUsage(spec: KeySpec, usage: KeyUsage): void {
  if (!specInfo(spec).usages.includes(usage)) {
    throw new CofferError('KEY_USAGE_NOT_ALLOWED', `a ${spec} key cannot have usage ${usage}`);
  }
}
