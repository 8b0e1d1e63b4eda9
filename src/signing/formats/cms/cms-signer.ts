// The CMS format: a detached CMS/PKCS#7 SignedData (RFC 5652) over the artifact's digest, with the
// key's certificate and chain, as a DER .p7s that `openssl cms -verify -binary -content` checks.
import { id_data } from '@peculiar/asn1-cms';
import { CofferError } from '../../../core/errors.ts';
import { buildSignedData, signedDataContentInfo, timeStampTokenAttribute } from '../../../pki/cms/index.ts';
import { type PkiSignatureAlgorithm, pkiSignatureAlgorithm } from '../../../pki/pki-signer.ts';
import { checkArtifactDigest, chooseSigningAlgorithm } from '../algorithm-choice.ts';
import type { ArtifactDigest, FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput } from '../format-signer.ts';
import { certificatesOf, checkedCertificates } from '../signer-certificates.ts';

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
    const { leaf, certificates } = checkedCertificates(signer, now, FORMAT);
    const { timeStamp } = options ?? {};
    const { signedData } = await buildSignedData({
      // RFC 5652 §5.2: a detached signature over arbitrary octets is id-data with eContent omitted.
      contentType: id_data,
      content: { detachedDigest: artifact.digest },
      algorithm,
      signingTime: now,
      signer: leaf,
      certificates,
      // The signed attributes are a few hundred bytes: signed as a message, so Ed25519 and ML-DSA
      // sign them purely (RFC 8419 §3) and RSA/ECDSA hash them in the module.
      sign: (attributesDer) => signer.sign(algorithm.algorithm, { message: attributesDer }),
      ...(timeStamp === undefined ? {} : { unsignedAttributes: async (signature: Buffer) => [timeStampTokenAttribute(await timeStamp(signature), signature)] }),
    });
    return { bytes: signedDataContentInfo(signedData), mediaType: 'application/pkcs7-signature', suffix: '.p7s', algorithm: algorithm.algorithm };
  },
} satisfies FormatSigner;
