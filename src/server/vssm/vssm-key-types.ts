// VSSM's key types (SYMMETRIC, ASYMMETRIC, MAC with a spec and a size) mapped to Coffer key specs
// and usages, both ways: for generatekey and injectkey, and for listkeys' three lists.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';
import type { KeySpec, KeyUsage } from '../../core/key-record.ts';
import { WEAK_MESSAGE } from './vssm-algorithms.ts';

export const VSSM_KEY_TYPES = ['SYMMETRIC', 'ASYMMETRIC', 'MAC'] as const;
export type VssmKeyType = (typeof VSSM_KEY_TYPES)[number];

export interface CofferKeyKind {
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
}

/** What listkeys reports for a key: its VSSM list, spec family and nominal length. */
export interface VssmKeyView {
  readonly type: VssmKeyType;
  /** ASYMMETRIC only: "RSA", "EC" or (a Coffer extension) "ED25519". */
  readonly keySpec?: string;
  /** SYMMETRIC and MAC: bytes. A MAC key's is its hash length (imported keys may be longer). */
  readonly keyLength?: number;
}

/** RSA moduli and EC curves, by VSSM key size in bits. VSSM's P-224 ("226") is refused as weak. */
const RSA_SPECS: Readonly<Record<number, KeySpec>> = { 2048: 'RSA_2048', 3072: 'RSA_3072', 4096: 'RSA_4096' };
const EC_SPECS: Readonly<Record<number, KeySpec>> = { 256: 'EC_P256', 384: 'EC_P384', 521: 'EC_P521' };
const EC_CURVES: Readonly<Record<string, KeySpec>> = { prime256v1: 'EC_P256', secp384r1: 'EC_P384', secp521r1: 'EC_P521', secp256k1: 'EC_SECP256K1' };
/** HMAC specs by hash length in bytes: a Coffer MAC key is bound to one hash. */
const MAC_SPECS: readonly (readonly [number, KeySpec])[] = [[64, 'HMAC_512'], [48, 'HMAC_384'], [32, 'HMAC_256']];
/** RFC 2104 §3: a key shorter than the hash output weakens the MAC; below 256 bits is refused. */
const MIN_MAC_BYTES = 32;
/** Longest HMAC key accepted: the SHA-384/512 block size (longer keys are hashed first anyway). */
const MAX_MAC_BYTES = 128;
const AES_KEY_BYTES = 32;

function unsupported(message: string): CofferError {
  return new CofferError('UNSUPPORTED_ALGORITHM', message);
}

export function parseKeyType(value: string): VssmKeyType {
  const found = VSSM_KEY_TYPES.find((t) => t === value);
  if (found === undefined) throw new CofferError('INVALID_ARGUMENT', `keyType must be one of ${VSSM_KEY_TYPES.join(', ')}`);
  return found;
}

function aesFor(bytes: number): CofferKeyKind {
  if (bytes === AES_KEY_BYTES) return { spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' };
  if (bytes < 16) throw unsupported(WEAK_MESSAGE);
  throw unsupported('only 256-bit AES keys are supported (keySize 32 bytes)');
}

/** generatekey: keySize 0 (absent) means the smallest strong size of the type. */
export function generatedKeyKind(type: VssmKeyType, keySpec: string, keySize: number): CofferKeyKind {
  if (type !== 'ASYMMETRIC' && keySpec !== '') throw new CofferError('INVALID_ARGUMENT', 'keySpec applies to ASYMMETRIC keys only');
  switch (type) {
    case 'SYMMETRIC':
      return aesFor(keySize === 0 ? AES_KEY_BYTES : keySize);
    case 'MAC': {
      // Generated MAC keys are as long as their hash (the engine's rule), so the size picks the hash.
      const size = keySize === 0 ? MIN_MAC_BYTES : keySize;
      const spec = MAC_SPECS.find(([bytes]) => bytes === size)?.[1];
      if (spec !== undefined) return { spec, usage: 'GENERATE_VERIFY_MAC' };
      throw unsupported(size < MIN_MAC_BYTES ? WEAK_MESSAGE : 'MAC keySize must be 32, 48 or 64 bytes (HMAC-SHA-256, -384 or -512)');
    }
    case 'ASYMMETRIC':
      return { spec: asymmetricSpec(keySpec, keySize), usage: 'SIGN_VERIFY' };
  }
}

function asymmetricSpec(keySpec: string, keySize: number): KeySpec {
  switch (keySpec) {
    case 'RSA': {
      const spec = RSA_SPECS[keySize === 0 ? 2048 : keySize];
      if (spec !== undefined) return spec;
      throw unsupported(keySize < 2048 ? WEAK_MESSAGE : 'RSA keySize must be 2048, 3072 or 4096 bits');
    }
    case 'EC': {
      const spec = EC_SPECS[keySize === 0 ? 256 : keySize];
      if (spec !== undefined) return spec;
      throw unsupported(keySize < 256 ? WEAK_MESSAGE : 'EC keySize must be 256, 384 or 521 bits');
    }
    case 'ED25519':
      if (keySize !== 0 && keySize !== 256) throw unsupported('an ED25519 key has keySize 256 (or none)');
      return 'ED25519';
    default:
      throw new CofferError('INVALID_ARGUMENT', 'keySpec must be RSA, EC or ED25519 for an ASYMMETRIC key');
  }
}

/** injectkey: the spec follows from the material (its length, or the PKCS#8 key it holds). */
export function injectedKeyKind(type: VssmKeyType, material: Uint8Array): CofferKeyKind {
  switch (type) {
    case 'SYMMETRIC':
      return aesFor(material.length);
    case 'MAC': {
      if (material.length < MIN_MAC_BYTES) throw unsupported(WEAK_MESSAGE);
      if (material.length > MAX_MAC_BYTES) throw unsupported(`MAC keys are at most ${MAX_MAC_BYTES} bytes`);
      // The longest hash not longer than the key: every HMAC spec accepts keys from its hash length up.
      const spec = MAC_SPECS.find(([bytes]) => material.length >= bytes)?.[1] ?? 'HMAC_256';
      return { spec, usage: 'GENERATE_VERIFY_MAC' };
    }
    case 'ASYMMETRIC':
      return { spec: pkcs8Spec(material), usage: 'SIGN_VERIFY' };
  }
}

function pkcs8Spec(der: Uint8Array): KeySpec {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new CofferError('INVALID_KEY_MATERIAL', 'key must be a PKCS#8 DER private key', { cause: error });
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      const spec = RSA_SPECS[bits];
      if (spec !== undefined) return spec;
      throw unsupported(bits < 2048 ? WEAK_MESSAGE : 'RSA keys must be 2048, 3072 or 4096 bits');
    }
    case 'ec': {
      const spec = EC_CURVES[details.namedCurve ?? ''];
      if (spec !== undefined) return spec;
      throw unsupported('EC keys must be on P-256, P-384, P-521 or secp256k1');
    }
    case 'ed25519':
      return 'ED25519';
    default:
      throw unsupported('ASYMMETRIC keys must be RSA, EC or Ed25519');
  }
}

/** How listkeys shows a key; undefined for keys VSSM has no type for (wrapping, ML-DSA, derive). */
export function vssmViewOf(spec: KeySpec, usage: KeyUsage): VssmKeyView | undefined {
  if (spec === 'AES_256' && usage === 'ENCRYPT_DECRYPT') return { type: 'SYMMETRIC', keyLength: AES_KEY_BYTES };
  if (usage === 'GENERATE_VERIFY_MAC') {
    const length = MAC_SPECS.find(([, s]) => s === spec)?.[0];
    return length === undefined ? undefined : { type: 'MAC', keyLength: length };
  }
  if (usage !== 'SIGN_VERIFY' && usage !== 'ENCRYPT_DECRYPT') return undefined;
  if (spec.startsWith('RSA_')) return { type: 'ASYMMETRIC', keySpec: 'RSA' };
  if (spec.startsWith('EC_')) return { type: 'ASYMMETRIC', keySpec: 'EC' };
  if (spec === 'ED25519') return { type: 'ASYMMETRIC', keySpec: 'ED25519' };
  return undefined;
}

/** RSA ciphertext length k (RFC 8017 §7.1.1): the modulus in bytes; undefined for other specs. */
export function rsaModulusBytes(spec: KeySpec): number | undefined {
  const bits = Object.entries(RSA_SPECS).find(([, s]) => s === spec)?.[0];
  return bits === undefined ? undefined : Number(bits) / 8;
}
