// One CMS SignedData builder (RFC 5652 §5) with a single signer, shared by the RFC 3161 TSA (TSTInfo
// encapsulated) and detached signatures (no eContent): signed attributes → the key signs → SignerInfo.
import { createHash } from 'node:crypto';
import {
  type Attribute, CertificateChoices, CertificateSet, CMSVersion, ContentInfo, DigestAlgorithmIdentifier, DigestAlgorithmIdentifiers,
  EncapsulatedContent, EncapsulatedContentInfo, IssuerAndSerialNumber, SignatureAlgorithmIdentifier, SignedData, SignerIdentifier,
  SignerInfo, SignerInfos, id_data, id_signedData,
} from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import type { Certificate } from '@peculiar/asn1-x509';
import { HASH_BYTES } from '../../core/crypto/hash-names.ts';
import { CofferError } from '../../core/errors.ts';
import { type PkiHash, type PkiSignatureAlgorithm, digestOid, signatureAlgorithmIdentifier } from '../pki-signer.ts';
import { derOrdered, nodeHashName, signedAttributes, signingCertificateV2 } from './signed-attributes.ts';

/**
 * What is signed: content carried inside (hashed here), the digest of a detached content kept
 * elsewhere, or PKCS #7 v1.5 content (RFC 2315 §7: `content [0] EXPLICIT ANY`): its DER placed as it
 * is, not inside an OCTET STRING, as Authenticode's SpcIndirectDataContent is, with the digest the
 * caller made by the content type's own rule (Authenticode hashes the value's contents octets).
 */
export type SignedContent =
  | { readonly eContent: Uint8Array }
  | { readonly detachedDigest: Uint8Array }
  | { readonly pkcs7Content: Uint8Array; readonly contentDigest: Uint8Array };

export interface SignedDataInput {
  /** eContentType (RFC 5652 §5.2), also the contentType signed attribute (§11.1). */
  readonly contentType: string;
  readonly content: SignedContent;
  /** From pkiSignatureAlgorithm(spec): the signature OID and the digest of digestAlgorithm and messageDigest. */
  readonly algorithm: PkiSignatureAlgorithm;
  readonly signingTime: Date;
  /** The signer's certificate: sid's issuerAndSerialNumber and ESS signingCertificateV2 name it. */
  readonly signer: { readonly der: Uint8Array; readonly certificate: Certificate };
  /** The CertificateSet, in order (the signer's certificate first, by habit); empty omits the field. */
  readonly certificates: readonly Certificate[];
  /** Signs the DER SET OF signed attributes (RFC 5652 §5.4) inside Coffer with `algorithm`. */
  readonly sign: (signedAttributesDer: Buffer) => Promise<Buffer>;
  /** Signed attributes beyond the four every signature has (Authenticode's SpcSpOpusInfo, say); sorted with them. */
  readonly signedAttributes?: readonly Attribute[];
  /** Unsigned attributes made over the signature value, e.g. an RFC 3161 Appendix A time-stamp token. */
  readonly unsignedAttributes?: (signature: Buffer) => Promise<readonly Attribute[]>;
}

export interface BuiltSignedData {
  readonly signedData: SignedData;
  /** The SignerInfo's signature value. */
  readonly signature: Buffer;
}

/** SHA-2 AlgorithmIdentifiers are sent with absent parameters (RFC 5754 §2). */
function digestAlgorithm(hash: PkiHash): DigestAlgorithmIdentifier {
  return new DigestAlgorithmIdentifier({ algorithm: digestOid(hash) });
}

/** The shared signature AlgorithmIdentifier, as the CMS schema's own class. */
function signatureAlgorithmOf(algorithm: PkiSignatureAlgorithm): SignatureAlgorithmIdentifier {
  const { parameters } = signatureAlgorithmIdentifier(algorithm);
  return new SignatureAlgorithmIdentifier({ algorithm: algorithm.oid, ...(parameters === undefined ? {} : { parameters }) });
}

/**
 * Builds a one-signer SignedData: the signed attributes (contentType, messageDigest, signingTime,
 * signingCertificateV2), their signature by `input.sign`, then the SignerInfo and SignedData.
 * INVALID_DIGEST when a detached digest is not of the algorithm's digest length.
 */
export async function buildSignedData(input: SignedDataInput): Promise<BuiltSignedData> {
  const hash = input.algorithm.digest;
  const { content } = input;
  const messageDigest = 'eContent' in content
    ? createHash(nodeHashName(hash)).update(content.eContent).digest()
    : Buffer.from('detachedDigest' in content ? content.detachedDigest : content.contentDigest);
  const digestBytes = HASH_BYTES[nodeHashName(hash)];
  if (messageDigest.length !== digestBytes) {
    throw new CofferError('INVALID_DIGEST', `the content digest must be ${digestBytes} bytes of ${hash}`);
  }
  const attributes = signedAttributes({
    contentType: input.contentType,
    messageDigest,
    signingTime: input.signingTime,
    // ESS (RFC 5035 §5.4) binds the signer's certificate into what is signed; RFC 3161 §2.4.1 requires it.
    signingCertificate: signingCertificateV2(input.signer.der, input.signer.certificate),
    ...(input.signedAttributes === undefined ? {} : { additional: input.signedAttributes }),
  });
  const signature = await input.sign(attributes.der);
  const unsigned = input.unsignedAttributes === undefined ? [] : derOrdered(await input.unsignedAttributes(signature));

  const { tbsCertificate } = input.signer.certificate;
  const signerInfo = new SignerInfo({
    // RFC 5652 §5.3: version 1 with issuerAndSerialNumber.
    version: CMSVersion.v1,
    sid: new SignerIdentifier({ issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: tbsCertificate.issuer, serialNumber: tbsCertificate.serialNumber }) }),
    digestAlgorithm: digestAlgorithm(hash),
    signedAttrs: attributes.attributes,
    // Ed25519 names id-Ed25519 here and digests with SHA-512 (RFC 8419 §3).
    signatureAlgorithm: signatureAlgorithmOf(input.algorithm),
    signature: new OctetString(signature),
    ...(unsigned.length === 0 ? {} : { unsignedAttrs: unsigned }),
  });
  const eContent = 'eContent' in content
    ? new EncapsulatedContent({ single: new OctetString(content.eContent) })
    : 'pkcs7Content' in content ? new EncapsulatedContent({ any: new Uint8Array(content.pkcs7Content).buffer }) : undefined;
  const signedData = new SignedData({
    // RFC 5652 §5.1: version 1 for id-data with only X.509 certificates and v1 SignerInfos, 3 otherwise;
    // PKCS #7 v1.5 content is version 1 whatever its type (RFC 2315 §9.1), as Authenticode requires.
    version: input.contentType === id_data || 'pkcs7Content' in content ? CMSVersion.v1 : CMSVersion.v3,
    digestAlgorithms: new DigestAlgorithmIdentifiers([digestAlgorithm(hash)]),
    // RFC 5652 §5.2: a detached signature omits eContent.
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: input.contentType, ...(eContent === undefined ? {} : { eContent }) }),
    ...(input.certificates.length === 0
      ? {}
      : { certificates: new CertificateSet(input.certificates.map((certificate) => new CertificateChoices({ certificate }))) }),
    signerInfos: new SignerInfos([signerInfo]),
  });
  return { signedData, signature };
}

/** ContentInfo { id-signedData, SignedData } (RFC 5652 §3), DER: a .p7s file, or a time-stamp token. */
export function signedDataContentInfo(signedData: SignedData): Buffer {
  return Buffer.from(AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) })));
}
