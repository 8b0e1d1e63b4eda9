// The raw format: a detached signature over the artifact's digest, nothing around it (the bytes
// `openssl dgst -verify` and `openssl pkeyutl -verify` read).
import { checkArtifactDigest, chooseSigningAlgorithm, digestHashOf } from '../algorithm-choice.ts';
import type { ArtifactDigest, FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput } from '../format-signer.ts';
import type { SigningAlgorithm } from '../../../core/algorithms/names.ts';
import type { PkiHash } from '../../../pki/pki-signer.ts';

/**
 * Ed25519 and ML-DSA cannot sign a precomputed digest (pure EdDSA, RFC 8032 §5.1.6, hashes the
 * message twice with the nonce; pure ML-DSA, FIPS 204 §5.2, hashes it with the public key), and the
 * artifact may be 20 GB: they sign SHA-512(artifact), the 64 bytes, as their message. SHA-512 is
 * Ed25519's own hash (RFC 8032 §5.1) and at least as strong as any ML-DSA parameter set.
 */
const MESSAGE_SIGNER_HASH: PkiHash = 'SHA-512';

interface RawPlan {
  readonly algorithm: SigningAlgorithm;
  readonly hash: PkiHash;
  /** True when the module signs the digest as a digest (RSA, ECDSA); false when it signs it as a message. */
  readonly asDigest: boolean;
}

function planFor(signer: KeySigner, options?: FormatOptions): RawPlan {
  const algorithm = chooseSigningAlgorithm(signer, options);
  const digestHash = digestHashOf(algorithm);
  return { algorithm, hash: digestHash ?? MESSAGE_SIGNER_HASH, asDigest: digestHash !== undefined };
}

export const rawSigner: FormatSigner = {
  format: 'raw',

  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan {
    return { hash: planFor(signer, options).hash };
  },

  async sign(artifact: ArtifactDigest, signer: KeySigner, options?: FormatOptions): Promise<SignedOutput> {
    const { algorithm, hash, asDigest } = planFor(signer, options);
    checkArtifactDigest(artifact, hash);
    // RSA and ECDSA sign the digest as a digest: the signature is the one over the artifact itself.
    const bytes = await signer.sign(algorithm, asDigest ? { digest: artifact.digest } : { message: artifact.digest });
    return { bytes, mediaType: 'application/octet-stream', suffix: '.sig', algorithm };
  },
};
