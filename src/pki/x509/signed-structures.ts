// The three structures a CA signs (RFC 5280 certificates and CRLs, RFC 2986 requests), each built
// to-be-signed first, signed by a PkiSigner inside Coffer, then packaged: prepare → sign → package.
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, CertificationRequestInfo, Attributes } from '@peculiar/asn1-csr';
import type { Extension, Name} from '@peculiar/asn1-x509';
import {
  Attribute, Certificate, CertificateList, Extensions, RevokedCertificate, SubjectPublicKeyInfo, TBSCertList,
  TBSCertificate, Time, Validity, Version,
} from '@peculiar/asn1-x509';
import type { PkiSigner } from '../pki-signer.ts';
import { pkiSignatureAlgorithm, signatureAlgorithmIdentifier } from '../pki-signer.ts';

/** PKCS#9 extensionRequest (RFC 2985 §5.4.2): the extensions a CSR asks for. */
export const EXTENSION_REQUEST_OID = '1.2.840.113549.1.9.14';

export interface CertificateTemplate {
  /** The INTEGER's content octets: positive, at most 20 octets (RFC 5280 §4.1.2.2). */
  readonly serialNumber: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKeyDer: Uint8Array;
  readonly extensions: readonly Extension[];
}

function buffer(der: ArrayBuffer): Buffer {
  return Buffer.from(der);
}

/** A v3 certificate for `template`, signed by the issuer's key inside Coffer. */
export async function signCertificate(issuer: PkiSigner, template: CertificateTemplate): Promise<Buffer> {
  const algorithm = pkiSignatureAlgorithm(issuer.spec);
  const identifier = signatureAlgorithmIdentifier(algorithm);
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(template.serialNumber).buffer,
    signature: identifier,
    issuer: template.issuer,
    validity: new Validity({ notBefore: template.notBefore, notAfter: template.notAfter }),
    subject: template.subject,
    subjectPublicKeyInfo: AsnConvert.parse(template.publicKeyDer, SubjectPublicKeyInfo),
    extensions: new Extensions([...template.extensions]),
  });
  const tbs = AsnConvert.serialize(tbsCertificate);
  const signature = await issuer.sign(new Uint8Array(tbs), algorithm.algorithm);
  return buffer(AsnConvert.serialize(new Certificate({ tbsCertificate, signatureAlgorithm: identifier, signatureValue: new Uint8Array(signature).buffer })));
}

/** A PKCS#10 request for the signer's own key (proof of possession by its signature). */
export async function signCertificationRequest(signer: PkiSigner, subject: Name, extensions: readonly Extension[]): Promise<Buffer> {
  const algorithm = pkiSignatureAlgorithm(signer.spec);
  const identifier = signatureAlgorithmIdentifier(algorithm);
  const attributes = extensions.length === 0
    ? new Attributes()
    : new Attributes([new Attribute({ type: EXTENSION_REQUEST_OID, values: [AsnConvert.serialize(new Extensions([...extensions]))] })]);
  const info = new CertificationRequestInfo({
    version: 0,
    subject,
    subjectPKInfo: AsnConvert.parse(signer.publicKeyDer, SubjectPublicKeyInfo),
    attributes,
  });
  const signature = await signer.sign(new Uint8Array(AsnConvert.serialize(info)), algorithm.algorithm);
  return buffer(AsnConvert.serialize(new CertificationRequest({ certificationRequestInfo: info, signatureAlgorithm: identifier, signature: new Uint8Array(signature).buffer })));
}

export interface RevokedEntry {
  readonly serialNumber: Uint8Array;
  readonly revokedAt: Date;
  readonly extensions: readonly Extension[];
}

export interface CrlTemplate {
  readonly issuer: Name;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked: readonly RevokedEntry[];
  readonly extensions: readonly Extension[];
}

/** A v2 CRL (RFC 5280 §5) signed by the CA's key. */
export async function signCrl(issuer: PkiSigner, template: CrlTemplate): Promise<Buffer> {
  const algorithm = pkiSignatureAlgorithm(issuer.spec);
  const identifier = signatureAlgorithmIdentifier(algorithm);
  const tbsCertList = new TBSCertList({
    version: Version.v2,
    signature: identifier,
    issuer: template.issuer,
    thisUpdate: new Time(template.thisUpdate),
    nextUpdate: new Time(template.nextUpdate),
    ...(template.revoked.length === 0 ? {} : {
      revokedCertificates: template.revoked.map((entry) => new RevokedCertificate({
        userCertificate: new Uint8Array(entry.serialNumber).buffer,
        revocationDate: new Time(entry.revokedAt),
        ...(entry.extensions.length === 0 ? {} : { crlEntryExtensions: [...entry.extensions] }),
      })),
    }),
    crlExtensions: [...template.extensions],
  });
  const signature = await issuer.sign(new Uint8Array(AsnConvert.serialize(tbsCertList)), algorithm.algorithm);
  return buffer(AsnConvert.serialize(new CertificateList({ tbsCertList, signatureAlgorithm: identifier, signature: new Uint8Array(signature).buffer })));
}
