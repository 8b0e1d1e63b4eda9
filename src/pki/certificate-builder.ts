// Builds and signs certificates (CA and leaves) and their EC P-256 key pairs with @peculiar/x509.
import { KeyObject, randomBytes, type webcrypto } from 'node:crypto';
import { ECDSA_P256, type CertificateIssuer } from './certificate-issuer.ts';
import type { SubjectAltNames } from './subject-names.ts';
import type { ValidityWindow } from './validity-window.ts';
import { x509 } from './x509-runtime.ts';

const ECDSA_SHA256: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export type LeafPurpose = 'serverAuth' | 'clientAuth';

export interface LeafRequest extends ValidityWindow {
  /** SubjectPublicKeyInfo DER of the key being certified. */
  readonly subjectPublicKey: Uint8Array;
  readonly commonName: string;
  readonly purpose: LeafPurpose;
  readonly altNames?: SubjectAltNames;
}

export interface GeneratedKeyPair {
  readonly keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM of the private key, for the file it is written to. */
  readonly privateKeyPem: string;
  /** SubjectPublicKeyInfo DER. */
  readonly publicKeyDer: Buffer;
}

export async function generateP256KeyPair(): Promise<GeneratedKeyPair> {
  // Extractable only because the key is written to disk right after; nothing else exports it.
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const privateKeyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyDer = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
  return { keys, privateKeyPem, publicKeyDer };
}

/**
 * 16 random bytes as a positive INTEGER (RFC 5280 §4.1.2.2: positive, at most 20 octets). The top
 * bit is cleared so DER needs no sign byte, and the next set so no leading zero byte is dropped:
 * always exactly 16 octets, 126 random bits.
 */
export function randomSerialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial.toString('hex');
}

/** A self-signed CA: basicConstraints CA (pathlen 0: it only ever signs leaves), keyCertSign + cRLSign. */
export async function buildCaCertificate(keys: webcrypto.CryptoKeyPair, commonName: string, validity: ValidityWindow): Promise<string> {
  const keyId = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const name = [{ CN: [commonName] }];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: name,
    issuer: name,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      keyId,
      new x509.AuthorityKeyIdentifierExtension(keyId.keyId),
    ],
  });
  return withNewline(certificate.toString('pem'));
}

/** A leaf signed by `issuer` for one TLS purpose: not a CA, digitalSignature only, one EKU. */
export async function buildLeafCertificate(issuer: CertificateIssuer, request: LeafRequest): Promise<string> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[request.purpose]]),
    await x509.SubjectKeyIdentifierExtension.create(request.subjectPublicKey),
    new x509.AuthorityKeyIdentifierExtension(issuer.keyIdentifier),
  ];
  if (request.altNames !== undefined) {
    extensions.push(new x509.SubjectAlternativeNameExtension([
      ...request.altNames.dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...request.altNames.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ]));
  }
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ CN: [request.commonName] }],
    issuer: issuer.certificate.fields.subjectName,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: request.subjectPublicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  });
  return withNewline(certificate.toString('pem'));
}

/** @peculiar/x509 ends PEM without a newline; files and concatenation want one. */
function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
