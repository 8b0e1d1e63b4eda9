// A CA certificate and its private key, checked to belong together and to be allowed to issue.
import { createPrivateKey, type KeyObject, type webcrypto } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { parseCertificate, type ParsedCertificate } from './certificate-parsing.ts';
import { MAX_PEM_LENGTH } from './pem-blocks.ts';
import { x509 } from './x509-runtime.ts';

/** The only key type the PKI signs with: ECDSA on P-256 with SHA-256. */
export const ECDSA_P256: webcrypto.EcKeyImportParams & webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

export interface CertificateAuthorityPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateIssuer {
  readonly certificate: ParsedCertificate;
  readonly signingKey: webcrypto.CryptoKey;
  /** Hex key identifier that leaves carry as authorityKeyIdentifier (RFC 5280 §4.2.1.1). */
  readonly keyIdentifier: string;
  readonly notAfter: Date;
}

/**
 * Checks that `ca` is a CA certificate (basicConstraints CA, keyCertSign if keyUsage is present)
 * with its matching unencrypted EC P-256 private key, else INVALID_ARGUMENT. The key is imported
 * non-extractable for signing only.
 */
export async function loadIssuer(ca: Partial<CertificateAuthorityPem> | undefined): Promise<CertificateIssuer> {
  // Callers from plain JS (or JSON) may pass anything; the fields are checked one by one below.
  const { certPem, keyPem } = ca ?? {};
  const certificate = parseCertificate(certPem, 'CA certificate');
  if (!certificate.openssl.ca) throw new CofferError('INVALID_ARGUMENT', 'the CA certificate is not a CA (basicConstraints)');
  const keyUsage = certificate.fields.getExtension(x509.KeyUsagesExtension);
  if (keyUsage !== null && (keyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new CofferError('INVALID_ARGUMENT', 'the CA certificate may not sign certificates (keyUsage)');
  }
  const privateKey = parsePrivateKey(keyPem, 'CA key');
  const details = privateKey.asymmetricKeyDetails;
  if (privateKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    throw new CofferError('INVALID_ARGUMENT', 'the CA key must be an EC P-256 key');
  }
  if (!certificate.openssl.checkPrivateKey(privateKey)) {
    throw new CofferError('INVALID_ARGUMENT', 'the CA key does not match the CA certificate');
  }
  const signingKey = privateKey.toCryptoKey(ECDSA_P256, false, ['sign']);
  const subjectKeyId = certificate.fields.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyIdentifier = subjectKeyId?.keyId
    ?? Buffer.from(await certificate.fields.publicKey.getKeyIdentifier()).toString('hex');
  return { certificate, signingKey, keyIdentifier, notAfter: certificate.openssl.validToDate };
}

/** An unencrypted private key in PEM (PKCS#8 or SEC1), else INVALID_ARGUMENT naming `what`. */
export function parsePrivateKey(pem: unknown, what: string): KeyObject {
  if (typeof pem !== 'string' || pem.length > MAX_PEM_LENGTH || !pem.includes('PRIVATE KEY-----')) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be a PEM private key`);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', `${what} is not a readable unencrypted private key`, { cause });
  }
}
