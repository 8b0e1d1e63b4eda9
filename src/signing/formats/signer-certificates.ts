// The certificates a CMS-based format (cms, authenticode, jar) embeds: the key's attached chain,
// checked as a verifier would before anything is signed.
import { createPublicKey, type X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import { chainPem, parseCertificateChain } from '../../pki/certificate-chain.ts';
import type { KeySigner } from './format-signer.ts';

export interface SignerCertificates {
  readonly leaf: { readonly der: Buffer; readonly certificate: Certificate; readonly x509: X509Certificate };
  /** Leaf first, as attached. */
  readonly certificates: Certificate[];
}

/** The key's attached chain; INVALID_ARGUMENT naming `format` when none is attached (checked before any hashing). */
export function certificatesOf(signer: KeySigner, format: string): readonly Buffer[] {
  if (signer.certificates === undefined || signer.certificates.length === 0) {
    throw new CofferError('INVALID_ARGUMENT', `the ${format} format needs a certificate attached to the key: the signature names and carries it`);
  }
  return signer.certificates;
}

/**
 * The leaf and chain, checked as a verifier would: each certificate issued by the next and the leaf
 * valid `now` (CERTIFICATE_INVALID), and the leaf for the signer's public key (CERTIFICATE_KEY_MISMATCH).
 */
export function checkedCertificates(signer: KeySigner, now: Date, format: string): SignerCertificates {
  const { leaf, ders } = parseCertificateChain(chainPem(certificatesOf(signer, format)), now);
  if (!leaf.publicKey.equals(createPublicKey({ key: signer.publicKeyDer, format: 'der', type: 'spki' }))) {
    throw new CofferError('CERTIFICATE_KEY_MISMATCH', "the attached certificate's public key is not the signing key's");
  }
  const certificates = ders.map((der) => AsnConvert.parse(der, Certificate));
  const [leafDer] = ders;
  const [leafCertificate] = certificates;
  if (leafDer === undefined || leafCertificate === undefined) throw new CofferError('CERTIFICATE_INVALID', 'no certificate given');
  return { leaf: { der: leafDer, certificate: leafCertificate, x509: leaf }, certificates };
}
