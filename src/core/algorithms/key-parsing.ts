// Parses key material and checks it is exactly what the spec says: key type, RSA modulus size
// and exponent, EC curve, ML-DSA parameter set, symmetric key length. Failures: INVALID_KEY_MATERIAL.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CofferError } from '../errors.ts';
import type { KeySpec } from '../key-record.ts';
import { keyShape, type KeyShape } from './spec-table.ts';

type AsymmetricShape = Exclude<KeyShape, { kind: 'AES' | 'HMAC' }>;

/** FIPS 186-5 §A.1.1: 2^16 < e < 2^256 (e must also be odd; an even e fails the pairwise test on import). */
const MIN_EXPONENT = 65537n;
const MAX_EXPONENT = 1n << 256n;

function invalid(message: string): CofferError {
  return new CofferError('INVALID_KEY_MATERIAL', message);
}

export function asymmetricShape(spec: KeySpec): AsymmetricShape {
  const shape = keyShape(spec);
  if (shape.kind === 'AES' || shape.kind === 'HMAC') throw new CofferError('INCOMPATIBLE_ALGORITHM', `a ${spec} key is symmetric`);
  return shape;
}

function checkAsymmetric(spec: KeySpec, shape: AsymmetricShape, key: KeyObject): void {
  const details = key.asymmetricKeyDetails ?? {};
  switch (shape.kind) {
    case 'RSA': {
      // 'rsa-pss' keys (restricted to PSS by their OID) are refused: a spec's key serves every RSA algorithm.
      if (key.asymmetricKeyType !== 'rsa') throw invalid(`${spec} material must be an RSA key`);
      if (details.modulusLength !== shape.modulusBits) throw invalid(`${spec} material must have a ${shape.modulusBits}-bit modulus`);
      const e = details.publicExponent ?? 0n;
      if (e < MIN_EXPONENT || e >= MAX_EXPONENT) throw invalid('the RSA public exponent must be between 65537 and 2^256');
      return;
    }
    case 'EC':
      if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== shape.curve) throw invalid(`${spec} material must be an EC key on ${shape.curve}`);
      return;
    case 'ED25519':
      if (key.asymmetricKeyType !== 'ed25519') throw invalid(`${spec} material must be an Ed25519 key`);
      return;
    case 'ML_DSA':
      if (key.asymmetricKeyType !== shape.parameterSet) throw invalid(`${spec} material must be an ${shape.parameterSet.toUpperCase()} key`);
      return;
  }
}

/** A PKCS#8 DER private key (unencrypted PrivateKeyInfo / OneAsymmetricKey) checked against the spec. */
export function parsePrivateKey(spec: KeySpec, der: Uint8Array): KeyObject {
  const shape = asymmetricShape(spec);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.byteLength), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new CofferError('INVALID_KEY_MATERIAL', `${spec} material must be an unencrypted PKCS#8 DER private key`, { cause: error });
  }
  checkAsymmetric(spec, shape, key);
  return key;
}

/** An SPKI DER public key checked against the spec. */
export function parsePublicKey(spec: KeySpec, spki: Uint8Array): KeyObject {
  const shape = asymmetricShape(spec);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' });
  } catch (error) {
    throw new CofferError('INVALID_KEY_MATERIAL', `${spec} public key must be SPKI DER`, { cause: error });
  }
  checkAsymmetric(spec, shape, key);
  return key;
}

/**
 * Symmetric material length. Imports follow the table's ranges; stored material (`stored`) is
 * trusted to have passed import, so any HMAC key of 1 to maxBytes bytes is accepted there.
 */
export function checkSecretLength(spec: KeySpec, material: Uint8Array, stored: boolean): void {
  const shape = keyShape(spec);
  if (shape.kind === 'AES') {
    if (material.length !== shape.bytes) throw invalid(`${spec} material must be ${shape.bytes} bytes`);
    return;
  }
  if (shape.kind !== 'HMAC') throw new CofferError('INCOMPATIBLE_ALGORITHM', `a ${spec} key is asymmetric`);
  const min = stored ? 1 : shape.minBytes;
  if (material.length < min || material.length > shape.maxBytes) {
    throw invalid(`${spec} material must be ${shape.minBytes} to ${shape.maxBytes} bytes`);
  }
}
