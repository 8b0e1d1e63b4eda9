// What every format decides the same way: which of the key's algorithms signs (its default, or the
// one the profile names), the hash that algorithm implies, and whether a digest was made under it.
import { requireAlgorithm } from '../../core/algorithms/check-operation.ts';
import { HASH_BYTES, SIGNING_PARAMETERS, resolveSigningAlgorithm, specInfo, type HashName, type SigningAlgorithm } from '../../core/algorithms/index.ts';
import { CofferError } from '../../core/errors.ts';
import { pkiSignatureAlgorithm, type PkiHash, type PkiSignatureAlgorithm } from '../../pki/pki-signer.ts';
import type { ArtifactDigest, FormatOptions, KeySigner } from './format-signer.ts';

const PKI_HASH: Readonly<Record<HashName, PkiHash>> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
const NODE_HASH: Readonly<Record<PkiHash, HashName>> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/**
 * The algorithm that signs for `signer` under `options`: the spec's default from the PKI table (the
 * hash matched to the key's strength) unless options.algorithm names another of the key's
 * algorithms. KEY_USAGE_NOT_ALLOWED for a key that cannot sign at all, UNSUPPORTED_ALGORITHM for an
 * unknown or weak name, INCOMPATIBLE_ALGORITHM for a name the key's spec does not list.
 */
export function chooseSigningAlgorithm(signer: KeySigner, options?: FormatOptions): SigningAlgorithm {
  const fallback = pkiSignatureAlgorithm(signer.spec).algorithm;
  if (options?.algorithm === undefined) return fallback;
  const chosen = resolveSigningAlgorithm(options.algorithm);
  requireAlgorithm(specInfo(signer.spec).signingAlgorithms, chosen, signer.spec);
  return chosen;
}

/**
 * The PKI table's one algorithm for the key, for formats that write no other (CMS, JAR: RSASSA-PSS
 * would need RFC 4056 parameters they do not write). options.algorithm may name it, not another of
 * the key's algorithms: INCOMPATIBLE_ALGORITHM naming `format`.
 */
export function pkiAlgorithmOnly(signer: KeySigner, options: FormatOptions | undefined, format: string): PkiSignatureAlgorithm {
  const algorithm = pkiSignatureAlgorithm(signer.spec);
  if (chooseSigningAlgorithm(signer, options) !== algorithm.algorithm) {
    throw new CofferError('INCOMPATIBLE_ALGORITHM', `the ${format} format signs ${signer.spec} keys with ${algorithm.algorithm} only`);
  }
  return algorithm;
}

/** The hash a precomputed digest must come from for `algorithm`; undefined for Ed25519 and ML-DSA, which sign messages. */
export function digestHashOf(algorithm: SigningAlgorithm): PkiHash | undefined {
  const { hash } = SIGNING_PARAMETERS[algorithm];
  return hash === undefined ? undefined : PKI_HASH[hash];
}

/**
 * INVALID_DIGEST unless the artifact was hashed with `hash` and its digest has that hash's length:
 * a digest from another plan would be signed as if it were this one's.
 */
export function checkArtifactDigest(artifact: ArtifactDigest, hash: PkiHash): void {
  // Both checked at run time: the artifact often comes straight from a request.
  if (artifact.hash !== hash) throw new CofferError('INVALID_DIGEST', `the artifact must be hashed with ${hash}`);
  if (!Buffer.isBuffer(artifact.digest) || artifact.digest.length !== HASH_BYTES[NODE_HASH[hash]]) {
    throw new CofferError('INVALID_DIGEST', `a ${hash} digest is ${HASH_BYTES[NODE_HASH[hash]]} bytes`);
  }
}
