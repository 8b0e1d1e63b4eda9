// ECDSA over a caller-supplied digest with @noble/curves (node:crypto always hashes its input),
// and the signature re-encodings (DER ↔ fixed-width r‖s, low-S) that both signing paths share.
import type { ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';

/** Curves by their OpenSSL names, as node:crypto reports them in asymmetricKeyDetails.namedCurve. */
export type EcCurveName = 'prime256v1' | 'secp384r1' | 'secp521r1' | 'secp256k1';

export type EcdsaEncoding = 'der' | 'raw';

const CURVES: Readonly<Record<EcCurveName, ECDSA>> = { prime256v1: p256, secp384r1: p384, secp521r1: p521, secp256k1 };

/**
 * secp256k1 signatures are normalised to low S (s ≤ n/2, as Bitcoin's BIP 62 and Ethereum's
 * EIP-2 require); OpenSSL accepts either half, so this costs verifiers nothing. NIST curves keep
 * whatever S signing produced, as OpenSSL does.
 */
export function wantsLowS(curve: EcCurveName): boolean {
  return curve === 'secp256k1';
}

/** Bytes of one scalar: r and s are each this wide in the raw r‖s form (IEEE P1363). */
export function scalarBytes(curve: EcCurveName): number {
  return CURVES[curve].Point.Fn.BYTES;
}

/**
 * Signs `digest` with the secret scalar; hedged (RFC 6979 nonce mixed with fresh randomness) so
 * a fault or a bad RNG alone cannot leak the key. A digest longer than the order is truncated
 * as FIPS 186-5 §6.4.1 prescribes.
 */
export function ecdsaSignDigest(curve: EcCurveName, scalar: Uint8Array, digest: Uint8Array, encoding: EcdsaEncoding): Buffer {
  const signature = CURVES[curve].sign(digest, scalar, {
    prehash: false, lowS: wantsLowS(curve), extraEntropy: true, format: encoding === 'der' ? 'der' : 'compact',
  });
  return Buffer.from(signature);
}

/** Verifies like OpenSSL: either S half, strict DER or exact-width r‖s; malformed input is false. */
export function ecdsaVerifyDigest(curve: EcCurveName, publicPoint: Uint8Array, digest: Uint8Array, signature: Uint8Array, encoding: EcdsaEncoding): boolean {
  if (encoding === 'raw' && signature.length !== 2 * scalarBytes(curve)) return false;
  try {
    return CURVES[curve].verify(signature, digest, publicPoint, { prehash: false, lowS: false, format: encoding === 'der' ? 'der' : 'compact' });
  } catch {
    return false;
  }
}

/** Takes a raw r‖s signature to low S if wanted, then to the requested encoding. */
export function encodeRawSignature(curve: EcCurveName, raw: Uint8Array, encoding: EcdsaEncoding, lowS: boolean): Buffer {
  if (!lowS && encoding === 'raw') return Buffer.from(raw);
  const { Signature, Point } = CURVES[curve];
  let signature = Signature.fromBytes(raw, 'compact');
  if (lowS && signature.hasHighS()) signature = new Signature(signature.r, Point.Fn.ORDER - signature.s);
  return Buffer.from(signature.toBytes(encoding === 'der' ? 'der' : 'compact'));
}
