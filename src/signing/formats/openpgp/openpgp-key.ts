// A Coffer key as OpenPGP v4 sees it: the public key packet body made from the SPKI and a creation
// time (RFC 4880 §5.5.2; ECDSA RFC 6637 §9; legacy EdDSA RFC 9580 §5.5.5.5), its v4 fingerprint and
// key ID (RFC 4880 §12.2), and how the key signs: the hash, the Coffer algorithm, the MPIs.
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import type { SigningAlgorithm } from '../../../core/algorithms/names.ts';
import { CofferError } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import type { PkiHash } from '../../../pki/pki-signer.ts';
import { chooseSigningAlgorithm, digestHashOf } from '../algorithm-choice.ts';
import type { FormatOptions, KeySigner } from '../format-signer.ts';
import { ecdsaDerToRaw } from '../jws/ecdsa-der-to-raw.ts';
import { mpi, openpgpSeconds, uint16, uint32 } from './packet-encoding.ts';

/** Public-key algorithm IDs (RFC 4880 §9.1; ECDSA RFC 6637 §5; EdDSA legacy RFC 9580 §9.1). */
const PUBLIC_KEY_ALGORITHM = { rsa: 1, ecdsa: 19, eddsaLegacy: 22 } as const;

/** Hash algorithm IDs (RFC 4880 §9.4) and the names the cleartext "Hash:" header uses (§7). */
export const OPENPGP_HASH: Readonly<Record<PkiHash, { readonly id: number; readonly name: string; readonly node: string }>> = {
  'SHA-256': { id: 8, name: 'SHA256', node: 'sha256' },
  'SHA-384': { id: 9, name: 'SHA384', node: 'sha384' },
  'SHA-512': { id: 10, name: 'SHA512', node: 'sha512' },
};

/**
 * Legacy EdDSA signs the hash digest as its message (RFC 9580 §5.2.3.3): the module never sees the
 * artifact, and pure Ed25519 over the digest is exactly what gpg verifies. SHA-512 is Ed25519's own
 * hash and the one the raw format uses; gpg wants at least 256 bits for EdDSA.
 */
const EDDSA_HASH: PkiHash = 'SHA-512';

type KeyShape =
  | { readonly kind: 'rsa' }
  | { readonly kind: 'ecdsa'; readonly crv: string; readonly oid: Buffer; readonly scalarBytes: number }
  | { readonly kind: 'eddsa'; readonly crv: string; readonly oid: Buffer };

/** Curve OIDs as OpenPGP writes them: the DER contents without tag and length (RFC 6637 §11, RFC 9580 §9.2). */
const SHAPES: Partial<Readonly<Record<KeySpec, KeyShape>>> = {
  RSA_2048: { kind: 'rsa' },
  RSA_3072: { kind: 'rsa' },
  RSA_4096: { kind: 'rsa' },
  EC_P256: { kind: 'ecdsa', crv: 'P-256', oid: Buffer.from('2a8648ce3d030107', 'hex'), scalarBytes: 32 },
  EC_P384: { kind: 'ecdsa', crv: 'P-384', oid: Buffer.from('2b81040022', 'hex'), scalarBytes: 48 },
  EC_P521: { kind: 'ecdsa', crv: 'P-521', oid: Buffer.from('2b81040023', 'hex'), scalarBytes: 66 },
  EC_SECP256K1: { kind: 'ecdsa', crv: 'secp256k1', oid: Buffer.from('2b8104000a', 'hex'), scalarBytes: 32 },
  // 1.3.6.1.4.1.11591.15.1, Ed25519 in legacy EdDSA (RFC 9580 §9.2).
  ED25519: { kind: 'eddsa', crv: 'Ed25519', oid: Buffer.from('2b06010401da470f01', 'hex') },
};

/** The key's OpenPGP identity: what the public key packet holds and what signatures name as issuer. */
export interface OpenPgpKey {
  /** Public key packet body (RFC 4880 §5.5.2), version 4. */
  readonly body: Buffer;
  /** SHA-1(0x99 ‖ two-octet length ‖ body), 20 octets (RFC 4880 §12.2). */
  readonly fingerprint: Buffer;
  /** The fingerprint's low 64 bits. */
  readonly keyId: Buffer;
  /** The key's creation time, seconds since the epoch, as in the packet. */
  readonly createdSeconds: number;
  readonly publicKeyAlgorithm: number;
}

/** How the key signs in OpenPGP: the Coffer algorithm, the hash, and the signature as MPIs. */
export interface OpenPgpScheme {
  readonly algorithm: SigningAlgorithm;
  readonly hash: PkiHash;
  /** Has the module sign the digest (of the hashed data and trailer) and returns the signature MPIs (RFC 4880 §5.2.2). */
  signatureMpis(signer: KeySigner, digest: Buffer): Promise<Buffer>;
}

function incompatible(spec: KeySpec, why: string): CofferError {
  return new CofferError('INCOMPATIBLE_ALGORITHM', `a ${spec} key cannot make an OpenPGP v4 signature: ${why}`);
}

function shapeOf(spec: KeySpec): KeyShape {
  const shape = SHAPES[spec];
  if (shape === undefined) throw incompatible(spec, 'OpenPGP v4 has RSA, ECDSA (P-256/384/521, secp256k1) and Ed25519 only');
  return shape;
}

function malformed(): CofferError {
  // The signature or public key came from the module: a fault, vague like every crypto failure.
  return new CofferError('INTERNAL_ERROR', 'malformed signature or public key from the key signer');
}

/**
 * Which of the key's algorithms signs and with what hash: the spec's default (RSA by key size,
 * ECDSA by curve) or options.algorithm; RSA-PSS has no OpenPGP v4 encoding, ML-DSA no v4 algorithm.
 */
export function openpgpScheme(signer: KeySigner, options?: FormatOptions): OpenPgpScheme {
  const algorithm = chooseSigningAlgorithm(signer, options);
  const shape = shapeOf(signer.spec);
  if (shape.kind === 'eddsa') {
    return {
      algorithm, hash: EDDSA_HASH,
      async signatureMpis(keySigner, digest) {
        const signature = await keySigner.sign(algorithm, { message: digest });
        if (signature.length !== 64) throw malformed();
        // R and S, each 32 octets, as two MPIs (RFC 9580 §5.2.3.3).
        return Buffer.concat([mpi(signature.subarray(0, 32)), mpi(signature.subarray(32))]);
      },
    };
  }
  const hash = digestHashOf(algorithm);
  if (hash === undefined || algorithm.startsWith('RSASSA_PSS_')) throw incompatible(signer.spec, `${algorithm} has no OpenPGP v4 encoding (RSA PKCS#1 v1.5, ECDSA, EdDSA only)`);
  if (shape.kind === 'rsa') {
    return {
      algorithm, hash,
      // RSA signature value m^d mod n (RFC 4880 §5.2.2): the module's PKCS#1 v1.5 signature, as one MPI.
      async signatureMpis(keySigner, digest) {
        return mpi(await keySigner.sign(algorithm, { digest }));
      },
    };
  }
  return {
    algorithm, hash,
    // ECDSA r and s as two MPIs (RFC 6637 §7), from the module's DER Ecdsa-Sig-Value.
    async signatureMpis(keySigner, digest) {
      const raw = ecdsaDerToRaw(await keySigner.sign(algorithm, { digest }), shape.scalarBytes);
      return Buffer.concat([mpi(raw.subarray(0, shape.scalarBytes)), mpi(raw.subarray(shape.scalarBytes))]);
    },
  };
}

/** The hash of `parts` under `hash`, in one pass. */
export function digestOf(hash: PkiHash, parts: readonly Buffer[]): Buffer {
  const hasher = createHash(OPENPGP_HASH[hash].node);
  for (const part of parts) hasher.update(part);
  return hasher.digest();
}

function jwkBytes(value: string | undefined): Buffer {
  if (value === undefined || value.length === 0) throw malformed();
  return Buffer.from(value, 'base64url');
}

/** The algorithm-specific public key fields (RFC 4880 §5.5.2; RFC 6637 §9; RFC 9580 §5.5.5.5). */
function publicKeyFields(shape: KeyShape, jwk: JsonWebKey): { algorithm: number; fields: Buffer } {
  if (shape.kind === 'rsa') {
    if (jwk.kty !== 'RSA') throw malformed();
    return { algorithm: PUBLIC_KEY_ALGORITHM.rsa, fields: Buffer.concat([mpi(jwkBytes(jwk.n)), mpi(jwkBytes(jwk.e))]) };
  }
  const oid = Buffer.concat([Buffer.from([shape.oid.length]), shape.oid]);
  if (shape.kind === 'ecdsa') {
    if (jwk.kty !== 'EC' || jwk.crv !== shape.crv) throw malformed();
    const x = jwkBytes(jwk.x);
    const y = jwkBytes(jwk.y);
    if (x.length !== shape.scalarBytes || y.length !== shape.scalarBytes) throw malformed();
    // The uncompressed SEC1 point 0x04 ‖ x ‖ y as an MPI.
    return { algorithm: PUBLIC_KEY_ALGORITHM.ecdsa, fields: Buffer.concat([oid, mpi(Buffer.concat([Buffer.from([0x04]), x, y]))]) };
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== shape.crv) throw malformed();
  const x = jwkBytes(jwk.x);
  if (x.length !== 32) throw malformed();
  // The native point behind the 0x40 prefix octet, as an MPI of 263 bits (RFC 9580 §5.5.5.5).
  return { algorithm: PUBLIC_KEY_ALGORITHM.eddsaLegacy, fields: Buffer.concat([oid, mpi(Buffer.concat([Buffer.from([0x40]), x]))]) };
}

/**
 * The key's OpenPGP v4 public key and fingerprint. The creation time is part of the fingerprint, so
 * the same key version must always be given the same one (its createdAt).
 */
export function openpgpKey(signer: KeySigner, createdAt: Date): OpenPgpKey {
  const shape = shapeOf(signer.spec);
  const createdSeconds = openpgpSeconds(createdAt, 'the OpenPGP key creation time');
  let jwk: JsonWebKey;
  try {
    jwk = createPublicKey({ key: signer.publicKeyDer, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  } catch (error) {
    throw new CofferError('INTERNAL_ERROR', 'malformed signature or public key from the key signer', { cause: error });
  }
  const { algorithm, fields } = publicKeyFields(shape, jwk);
  const body = Buffer.concat([Buffer.from([4]), uint32(createdSeconds), Buffer.from([algorithm]), fields]);
  // v4 fingerprints are SHA-1 by definition (RFC 4880 §12.2): an identifier, not a signature hash.
  const fingerprint = createHash('sha1').update(Buffer.from([0x99])).update(uint16(body.length)).update(body).digest();
  return { body, fingerprint, keyId: fingerprint.subarray(12), createdSeconds, publicKeyAlgorithm: algorithm };
}

/** The key version's creation time, which its OpenPGP fingerprint depends on: INVALID_ARGUMENT when the signer has none. */
export function keyCreationTime(signer: KeySigner): Date {
  if (signer.createdAt === undefined) {
    throw new CofferError('INVALID_ARGUMENT', 'an OpenPGP key needs the key version\'s creation time (KeySigner.createdAt): it is part of the fingerprint');
  }
  return signer.createdAt;
}
