// The CMS format: a detached CMS/PKCS#7 SignedData (RFC 5652) over the artifact's digest, with the
// key's certificate and chain, as a DER .p7s that `openssl cms -verify -binary -content` checks.
import { checkArtifactDigest, pkiAlgorithmOnly } from '../algorithm-choice.ts';
import type { ArtifactDigest, FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput } from '../format-signer.ts';
import { certificatesOf, checkedCertificates } from '../signer-certificates.ts';
import { detachedSignedData } from '../detached-signed-data.ts';

/** How errors name this format. */
const FORMAT = 'CMS';

export interface CmsOptions extends FormatOptions {
  /**
   * Asks a TSA for a DER TimeStampToken (a ContentInfo) over `signature`, the SignerInfo's signature
   * value: its messageImprint must be a SHA-2 hash of those bytes (RFC 3161 Appendix A). The token is
   * added as the unsigned attribute id-aa-timeStampToken.
   */
  readonly timeStamp?: (signature: Buffer) => Promise<Buffer>;
}

export const cmsSigner = {
  format: 'cms',

  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan {
    const { digest } = pkiAlgorithmOnly(signer, options, FORMAT);
    // Fails before a 20 GB upload is hashed, not after: a key without a certificate cannot sign CMS.
    certificatesOf(signer, FORMAT);
    return { hash: digest };
  },

  async sign(artifact: ArtifactDigest, signer: KeySigner, options?: CmsOptions): Promise<SignedOutput> {
    const algorithm = pkiAlgorithmOnly(signer, options, FORMAT);
    checkArtifactDigest(artifact, algorithm.digest);
    const now = options?.signingTime ?? new Date();
    const bytes = await detachedSignedData({
      signer, algorithm, detachedDigest: artifact.digest, signingTime: now, chain: checkedCertificates(signer, now, FORMAT), timeStamp: options?.timeStamp,
    });
    return { bytes, mediaType: 'application/pkcs7-signature', suffix: '.p7s', algorithm: algorithm.algorithm };
  },
} satisfies FormatSigner;
