// The CMS format: a detached CMS/PKCS#7 SignedData (RFC 5652) over the artifact's digest, with the
// key's certificate and chain, as a DER .p7s that `openssl cms -verify -binary -content` checks.
import { CofferError } from '../../../core/errors.ts';
import { type PkiSignatureAlgorithm, pkiSignatureAlgorithm } from '../../../pki/pki-signer.ts';
import { checkArtifactDigest, chooseSigningAlgorithm } from '../algorithm-choice.ts';
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

/**
 * The one signature algorithm CMS uses for the key's spec, from the PKI table (the signature OID and
 * digest follow from it). options.algorithm may name it, but not another of the key's algorithms:
 * INCOMPATIBLE_ALGORITHM (RSASSA-PSS would need RFC 4056 parameters this format does not write).
 */
function algorithmFor(signer: KeySigner, options?: FormatOptions): PkiSignatureAlgorithm {
  const algorithm = pkiSignatureAlgorithm(signer.spec);
  if (chooseSigningAlgorithm(signer, options) !== algorithm.algorithm) {
    throw new CofferError('INCOMPATIBLE_ALGORITHM', `the CMS format signs ${signer.spec} keys with ${algorithm.algorithm} only`);
  }
  return algorithm;
}



export const cmsSigner = {
  format: 'cms',

  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan {
    const { digest } = algorithmFor(signer, options);
    // Fails before a 20 GB upload is hashed, not after: a key without a certificate cannot sign CMS.
    certificatesOf(signer, FORMAT);
    return { hash: digest };
  },

  async sign(artifact: ArtifactDigest, signer: KeySigner, options?: CmsOptions): Promise<SignedOutput> {
    const algorithm = algorithmFor(signer, options);
    checkArtifactDigest(artifact, algorithm.digest);
    const now = options?.signingTime ?? new Date();
    const bytes = await detachedSignedData({
      signer, algorithm, detachedDigest: artifact.digest, signingTime: now, chain: checkedCertificates(signer, now, FORMAT), timeStamp: options?.timeStamp,
    });
    return { bytes, mediaType: 'application/pkcs7-signature', suffix: '.p7s', algorithm: algorithm.algorithm };
  },
} satisfies FormatSigner;
