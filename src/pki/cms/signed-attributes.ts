// The CMS signed attributes Coffer signs (RFC 5652 §5.3, §11; RFC 5035 §5.4) and their DER SET OF, the
// bytes the key signs. Schema classes are declared with asn1-schema's decorators called as functions,
// since decorator syntax is not erasable TypeScript.
import { createHash } from 'node:crypto';
import { Attribute } from '@peculiar/asn1-cms';
import {
  AsnArray, AsnConvert, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString,
} from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, type Certificate, GeneralName, GeneralNames, Time } from '@peculiar/asn1-x509';
import type { HashName } from '../../core/crypto/hash-names.ts';
import { CofferError } from '../../core/errors.ts';
import type { PkiHash } from '../pki-signer.ts';

export const ID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const ID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const ID_SIGNING_TIME = '1.2.840.113549.1.9.5';
/** id-aa-signingCertificateV2 (RFC 5035 §3). */
export const ID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

/** A bare OBJECT IDENTIFIER, the value of the contentType attribute. */
class ObjectIdentifierValue {
  value = '';
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(ObjectIdentifierValue.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(ObjectIdentifierValue);

/** IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } (RFC 5035 §6). */
export class IssuerSerial {
  issuer = new GeneralNames();
  serialNumber = new ArrayBuffer(0);
}
AsnProp({ type: GeneralNames })(IssuerSerial.prototype, 'issuer');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(IssuerSerial.prototype, 'serialNumber');
AsnType({ type: AsnTypeTypes.Sequence })(IssuerSerial);

/** ESSCertIDv2 (RFC 5035 §4): hashAlgorithm DEFAULT id-sha256, so DER omits it for SHA-256. */
export class EssCertIdV2 {
  hashAlgorithm?: AlgorithmIdentifier;
  certHash = new OctetString();
  issuerSerial?: IssuerSerial;
}
AsnProp({ type: AlgorithmIdentifier, optional: true })(EssCertIdV2.prototype, 'hashAlgorithm');
AsnProp({ type: OctetString })(EssCertIdV2.prototype, 'certHash');
AsnProp({ type: IssuerSerial, optional: true })(EssCertIdV2.prototype, 'issuerSerial');
AsnType({ type: AsnTypeTypes.Sequence })(EssCertIdV2);

/** SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL } (RFC 5035 §5.4). */
export class SigningCertificateV2 {
  certs: EssCertIdV2[] = [];
}
AsnProp({ type: EssCertIdV2, repeated: 'sequence' })(SigningCertificateV2.prototype, 'certs');
AsnType({ type: AsnTypeTypes.Sequence })(SigningCertificateV2);

/** SignedAttributes ::= SET SIZE (1..MAX) OF Attribute (RFC 5652 §5.3). */
class AttributeSet extends AsnArray<Attribute> {}
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(AttributeSet);

/** Each PkiHash by its node:crypto name: the one table every caller hashing under a PkiHash uses. */
export const NODE_HASH_NAMES: Readonly<Record<PkiHash, HashName>> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export function nodeHashName(hash: PkiHash): HashName {
  return NODE_HASH_NAMES[hash];
}

/** signingCertificateV2 for the signer's certificate: SHA-256 of its DER and its issuer and serial. */
export function signingCertificateV2(certificateDer: Uint8Array, certificate: Certificate): SigningCertificateV2 {
  const id = new EssCertIdV2();
  id.certHash = new OctetString(createHash('sha256').update(certificateDer).digest());
  const issuerSerial = new IssuerSerial();
  issuerSerial.issuer = new GeneralNames([new GeneralName({ directoryName: certificate.tbsCertificate.issuer })]);
  issuerSerial.serialNumber = certificate.tbsCertificate.serialNumber;
  id.issuerSerial = issuerSerial;
  const value = new SigningCertificateV2();
  value.certs = [id];
  return value;
}

export interface SignedAttributesInput {
  readonly contentType: string;
  /** The eContent's digest under the signer's digest algorithm (RFC 5652 §11.2). */
  readonly messageDigest: Uint8Array;
  readonly signingTime: Date;
  readonly signingCertificate: SigningCertificateV2;
  /** Further signed attributes a format adds (Authenticode's SpcSpOpusInfo and SpcStatementType). */
  readonly additional?: readonly Attribute[];
}

export interface SignedAttributes {
  /** In DER order, for SignerInfo.signedAttrs. */
  readonly attributes: Attribute[];
  /** RFC 5652 §5.4: the signature covers the attributes' DER with an explicit SET OF tag (0x31). */
  readonly der: Buffer;
}

function attribute(attrType: string, value: unknown): Attribute {
  return new Attribute({ attrType, attrValues: [AsnConvert.serialize(value)] });
}

/**
 * X.690 §11.6: DER orders SET OF by the encodings; asn1-schema keeps the order it is given, and a
 * verifier that re-encodes (OpenSSL) would otherwise hash different bytes.
 */
export function derOrdered(attributes: readonly Attribute[]): Attribute[] {
  return attributes
    .map((item) => ({ item, der: Buffer.from(AsnConvert.serialize(item)) }))
    .sort((a, b) => Buffer.compare(a.der, b.der))
    .map(({ item }) => item);
}

export function signedAttributes(input: SignedAttributesInput): SignedAttributes {
  const contentType = new ObjectIdentifierValue();
  contentType.value = input.contentType;
  const unsorted = [
    attribute(ID_CONTENT_TYPE, contentType),
    attribute(ID_MESSAGE_DIGEST, new OctetString(input.messageDigest)),
    // RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime after, which Time chooses the same way.
    attribute(ID_SIGNING_TIME, new Time(input.signingTime)),
    attribute(ID_SIGNING_CERTIFICATE_V2, input.signingCertificate),
    ...(input.additional ?? []),
  ];
  // RFC 5652 §5.3: each attribute type once; an extra one may not shadow the four (or repeat).
  if (new Set(unsorted.map((item) => item.attrType)).size !== unsorted.length) {
    throw new CofferError('INVALID_ARGUMENT', 'a signed attribute type may appear only once');
  }
  const attributes = derOrdered(unsorted);
  return { attributes, der: Buffer.from(AsnConvert.serialize(new AttributeSet(attributes))) };
}
