// The JWS format: a detached JWS with an unencoded payload (RFC 7515, RFC 7797), the artifact being
// the payload, in the Compact Serialization with the payload part left empty (RFC 7515 Appendix F).
import type { SigningAlgorithm } from '../../../core/algorithms/names.ts';
import { CofferError } from '../../../core/errors.ts';
import type { KeySpec } from '../../../core/key-record.ts';
import type { PkiHash } from '../../../pki/pki-signer.ts';
import { checkArtifactDigest, chooseSigningAlgorithm, digestHashOf } from '../algorithm-choice.ts';
import type { ArtifactDigest, FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput } from '../format-signer.ts';
import { ecdsaDerToRaw } from './ecdsa-der-to-raw.ts';

/** RSA "alg" values by Coffer algorithm (RFC 7518 §3.3 RS*, §3.5 PS* with salt = hash length as the module uses). */
const RSA_JWS_ALG: Partial<Readonly<Record<SigningAlgorithm, string>>> = {
  RSASSA_PKCS1_V1_5_SHA_256: 'RS256', RSASSA_PKCS1_V1_5_SHA_384: 'RS384', RSASSA_PKCS1_V1_5_SHA_512: 'RS512',
  RSASSA_PSS_SHA_256: 'PS256', RSASSA_PSS_SHA_384: 'PS384', RSASSA_PSS_SHA_512: 'PS512',
};

/**
 * ES* names a curve as well as a hash (RFC 7518 §3.4), so ECDSA is looked up by spec; each spec's
 * one ECDSA algorithm already carries the matching hash. secp256k1 (ES256K, RFC 8812 §3.2) is left
 * out: jose, the verifier this format is held to, does not implement it.
 */
const EC_JWS_ALG: Partial<Readonly<Record<KeySpec, { readonly alg: string; readonly scalarBytes: number }>>> = {
  EC_P256: { alg: 'ES256', scalarBytes: 32 },
  EC_P384: { alg: 'ES384', scalarBytes: 48 },
  EC_P521: { alg: 'ES512', scalarBytes: 66 },
};

interface JwsPlan {
  readonly algorithm: SigningAlgorithm;
  readonly hash: PkiHash;
  /** r‖s width for ECDSA; undefined for RSA, whose signature JWS takes as is. */
  readonly ecdsaScalarBytes: number | undefined;
  /** BASE64URL(UTF8(protected header)). */
  readonly encodedHeader: string;
}

/** String metadata under a private "coffer" member, keys sorted so the same metadata always gives the same header. */
function cofferClaims(metadata: FormatOptions['metadata']): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  const names = Object.keys(metadata).sort();
  if (names.length === 0) return undefined;
  const entries = names.map((name) => {
    const value: unknown = metadata[name];
    // Checked at run time: profiles and requests are JSON, and a number would change the header's shape.
    if (typeof value !== 'string') throw new CofferError('INVALID_ARGUMENT', 'JWS metadata values must be strings');
    return [name, value] as const;
  });
  return Object.fromEntries(entries);
}

/**
 * The one place the protected header is made. Its encoding is hashed ahead of the artifact (the
 * JWS Signing Input, RFC 7797 §3), so it must be the same in hashPlan and sign: it depends only on
 * the key and the options, never on the time or on chance.
 */
function planFor(signer: KeySigner, options?: FormatOptions): JwsPlan {
  const algorithm = chooseSigningAlgorithm(signer, options);
  const hash = digestHashOf(algorithm);
  const ec = EC_JWS_ALG[signer.spec];
  const alg = ec?.alg ?? RSA_JWS_ALG[algorithm];
  // Ed25519 (EdDSA, RFC 8037) and ML-DSA sign the whole signing input, which holds the whole
  // artifact: the module only ever receives a digest, so they cannot make a JWS here.
  if (alg === undefined || hash === undefined) {
    throw new CofferError('INCOMPATIBLE_ALGORITHM', `a ${signer.spec} key cannot sign a detached JWS (RS*, PS* and ES256/384/512 only)`);
  }
  const coffer = cofferClaims(options?.metadata);
  // crit lists b64 because a verifier that ignored it would read the payload as base64url (RFC 7797 §6).
  const header = { alg, b64: false, crit: ['b64'], kid: signer.keyId, ...(coffer === undefined ? {} : { coffer }) };
  return { algorithm, hash, ecdsaScalarBytes: ec?.scalarBytes, encodedHeader: Buffer.from(JSON.stringify(header), 'utf8').toString('base64url') };
}

export const jwsSigner: FormatSigner = {
  format: 'jws',

  /** The signing input is ASCII(BASE64URL(header)) ‖ '.' ‖ artifact (RFC 7797 §3): the caller hashes this prefix first. */
  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan {
    const { hash, encodedHeader } = planFor(signer, options);
    return { hash, prefix: Buffer.from(`${encodedHeader}.`, 'ascii') };
  },

  async sign(artifact: ArtifactDigest, signer: KeySigner, options?: FormatOptions): Promise<SignedOutput> {
    const { algorithm, hash, ecdsaScalarBytes, encodedHeader } = planFor(signer, options);
    checkArtifactDigest(artifact, hash);
    const signature = await signer.sign(algorithm, { digest: artifact.digest });
    const jwsSignature = ecdsaScalarBytes === undefined ? signature : ecdsaDerToRaw(signature, ecdsaScalarBytes);
    // Compact Serialization with the detached payload left empty (RFC 7515 Appendix F, RFC 7797 §5.2).
    const compact = `${encodedHeader}..${jwsSignature.toString('base64url')}`;
    return { bytes: Buffer.from(compact, 'ascii'), mediaType: 'application/jose', suffix: '.jws', algorithm };
  },
};
