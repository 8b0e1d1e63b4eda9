// A key version parsed once into the crypto objects every operation reuses (KeyObjects, the
// XAES key, the ECDSA scalar). Callers see only the spec; the parts stay inside this folder.
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { scalarBytes, type EcCurveName } from '../crypto/ecdsa-digest.ts';
import { XaesKey } from '../crypto/xaes-256-gcm.ts';
import { CofferError } from '../errors.ts';
import type { KeySpec } from '../key-record.ts';
import { asymmetricShape, checkSecretLength, parsePrivateKey, parsePublicKey } from './key-parsing.ts';
import { keyShape } from './spec-table.ts';

/** Opaque: build with prepareKey or preparePublicKey, cache per key version, pass to the operations. */
export interface PreparedKey {
  readonly spec: KeySpec;
}

interface PublicParts {
  readonly publicKey: KeyObject;
  /** SPKI DER, exported once. */
  readonly spki: Buffer;
  /** Absent for keys prepared from a public key only. */
  readonly privateKey?: KeyObject;
}

export type KeyParts =
  | { readonly family: 'AES'; readonly xaes: XaesKey; readonly secret: KeyObject }
  | { readonly family: 'HMAC'; readonly secret: KeyObject }
  | (PublicParts & { readonly family: 'RSA'; readonly modulusBits: number; readonly modulusBytes: number })
  | (PublicParts & {
    readonly family: 'EC';
    readonly curve: EcCurveName;
    /** Uncompressed point 04 ‖ x ‖ y, for digest verification. */
    readonly point: Uint8Array;
    /** The secret scalar, fixed-width big-endian, for digest signing. */
    readonly scalar?: Uint8Array;
  })
  | (PublicParts & { readonly family: 'ED25519' | 'ML_DSA' });

export type AsymmetricParts = Extract<KeyParts, PublicParts>;

/** Parts by handle: a WeakMap keeps them unreachable from outside and lets a dropped key be collected. */
const PARTS = new WeakMap<PreparedKey, KeyParts>();

function handle(spec: KeySpec, parts: KeyParts): PreparedKey {
  const key: PreparedKey = Object.freeze({ spec });
  PARTS.set(key, parts);
  return key;
}

export function partsOf(key: PreparedKey): KeyParts {
  const parts = PARTS.get(key);
  if (parts === undefined) throw new CofferError('INVALID_ARGUMENT', 'not a prepared key');
  return parts;
}

/** A JWK coordinate or scalar as fixed-width big-endian bytes (leading zeros restored if dropped). */
function jwkInteger(value: string | undefined, width: number): Buffer {
  if (value === undefined) throw new CofferError('INVALID_KEY_MATERIAL', 'EC key is missing a component');
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length > width) throw new CofferError('INVALID_KEY_MATERIAL', 'EC key component is too long');
  return Buffer.concat([Buffer.alloc(width - bytes.length), bytes]);
}

function asymmetricParts(spec: KeySpec, publicKey: KeyObject, privateKey: KeyObject | undefined): KeyParts {
  const shape = asymmetricShape(spec);
  const common = {
    publicKey,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    ...(privateKey === undefined ? {} : { privateKey }),
  };
  switch (shape.kind) {
    case 'RSA':
      return { ...common, family: 'RSA', modulusBits: shape.modulusBits, modulusBytes: shape.modulusBits / 8 };
    case 'EC': {
      // Field elements and scalars have the same width on every supported curve.
      const width = scalarBytes(shape.curve);
      const jwk = (privateKey ?? publicKey).export({ format: 'jwk' });
      const point = Buffer.concat([Buffer.from([0x04]), jwkInteger(jwk.x, width), jwkInteger(jwk.y, width)]);
      return { ...common, family: 'EC', curve: shape.curve, point, ...(privateKey === undefined ? {} : { scalar: jwkInteger(jwk.d, width) }) };
    }
    case 'ED25519':
      return { ...common, family: 'ED25519' };
    case 'ML_DSA':
      return { ...common, family: 'ML_DSA' };
  }
}

/**
 * Prepares stored material: raw bytes for AES and HMAC, PKCS#8 DER otherwise. Material that does
 * not fit the spec is INVALID_KEY_MATERIAL. Done once per key version; operations never re-parse.
 */
export function prepareKey(spec: KeySpec, material: Uint8Array): PreparedKey {
  const shape = keyShape(spec);
  if (shape.kind === 'AES' || shape.kind === 'HMAC') {
    checkSecretLength(spec, material, true);
    const secret = createSecretKey(Buffer.from(material));
    return handle(spec, shape.kind === 'AES' ? { family: 'AES', xaes: new XaesKey(material), secret } : { family: 'HMAC', secret });
  }
  const privateKey = parsePrivateKey(spec, material);
  return handle(spec, asymmetricParts(spec, createPublicKey(privateKey), privateKey));
}

/** A verify/encrypt-only key from SPKI DER; INCOMPATIBLE_ALGORITHM for symmetric specs. */
export function preparePublicKey(spec: KeySpec, spki: Uint8Array): PreparedKey {
  return handle(spec, asymmetricParts(spec, parsePublicKey(spec, spki), undefined));
}

/** SPKI DER of the public half; INCOMPATIBLE_ALGORITHM for symmetric keys. */
export function publicKeySpki(key: PreparedKey): Buffer {
  const parts = partsOf(key);
  if (parts.family === 'AES' || parts.family === 'HMAC') throw new CofferError('INCOMPATIBLE_ALGORITHM', 'a symmetric key has no public key');
  return Buffer.from(parts.spki);
}

export function asymmetricPartsOf(key: PreparedKey): AsymmetricParts {
  const parts = partsOf(key);
  if (parts.family === 'AES' || parts.family === 'HMAC') throw new CofferError('INCOMPATIBLE_ALGORITHM', `a ${key.spec} key is symmetric`);
  return parts;
}

/** The private key, or INVALID_ARGUMENT when only the public half was prepared. */
export function privateKeyOf(parts: AsymmetricParts): KeyObject {
  if (parts.privateKey === undefined) throw new CofferError('INVALID_ARGUMENT', 'this operation needs the private key; only the public key was prepared');
  return parts.privateKey;
}
