// A detached CMS SignedData (RFC 5652 §5.2: id-data, eContent omitted) over a digest, with the key's
// checked certificate chain and an optional RFC 3161 token: the cms format's signature, and the
// signature block a JAR carries over its .SF file.
import { id_data } from '@peculiar/asn1-cms';
import { buildSignedData, signedDataContentInfo, timeStampTokenAttribute } from '../../pki/cms/index.ts';
import type { PkiSignatureAlgorithm } from '../../pki/pki-signer.ts';
import type { KeySigner } from './format-signer.ts';
import type { SignerCertificates } from './signer-certificates.ts';

export interface DetachedSignedDataInput {
  readonly signer: KeySigner;
  readonly algorithm: PkiSignatureAlgorithm;
  /** The content's digest under algorithm.digest. */
  readonly detachedDigest: Buffer;
  readonly signingTime: Date;
  readonly chain: SignerCertificates;
  /** Asks a TSA for a token over the signature value (CmsOptions.timeStamp). */
  readonly timeStamp?: ((signature: Buffer) => Promise<Buffer>) | undefined;
}

/** The ContentInfo DER. The module signs the signed attributes (a few hundred bytes), whatever the content's size. */
export async function detachedSignedData(input: DetachedSignedDataInput): Promise<Buffer> {
  const { signer, algorithm, timeStamp } = input;
  const { signedData } = await buildSignedData({
    contentType: id_data,
    content: { detachedDigest: input.detachedDigest },
    algorithm,
    signingTime: input.signingTime,
    signer: input.chain.leaf,
    certificates: input.chain.certificates,
    // Signed as a message, so Ed25519 and ML-DSA sign them purely (RFC 8419 §3) and RSA/ECDSA hash them in the module.
    sign: (attributesDer) => signer.sign(algorithm.algorithm, { message: attributesDer }),
    ...(timeStamp === undefined ? {} : { unsignedAttributes: async (signature: Buffer) => [timeStampTokenAttribute(await timeStamp(signature), signature)] }),
  });
  return signedDataContentInfo(signedData);
}
