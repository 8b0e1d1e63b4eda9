// A certificate and the chain above it, as given to attach to a key or to root a CA: every
// certificate parsed, each one issued and signed by the next, the leaf valid now.
import { X509Certificate } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { fingerprintOf, MAX_CERTIFICATE_BYTES } from './certificate-parsing.ts';
import { decodePemBlocks, encodePem } from './pem-blocks.ts';

/** Leaf, intermediates and perhaps the root: real chains are 2 to 4 long. */
export const MAX_CHAIN_LENGTH = 10;

export interface CertificateChain {
  readonly leaf: X509Certificate;
  /** DER of the leaf first, then each issuer in order. */
  readonly ders: readonly Buffer[];
}

function parseOne(der: Buffer, index: number): X509Certificate {
  if (der.length > MAX_CERTIFICATE_BYTES) throw new CofferError('CERTIFICATE_INVALID', `certificate ${index + 1} is larger than ${MAX_CERTIFICATE_BYTES} bytes`);
  try {
    const certificate = new X509Certificate(der);
    if (!certificate.raw.equals(der)) throw new Error('trailing or non-canonical bytes');
    return certificate;
  } catch (cause) {
    throw new CofferError('CERTIFICATE_INVALID', `certificate ${index + 1} is not a valid X.509 certificate`, { cause });
  }
}

/**
 * Reads PEM text holding the leaf first and then its issuers (as openssl and CAs ship bundles).
 * CERTIFICATE_INVALID when a block is malformed, a link is not issued and signed by the next
 * certificate, or the leaf is not valid at `now`.
 */
export function parseCertificateChain(pem: unknown, now: Date): CertificateChain {
  let ders: Buffer[];
  try {
    ders = decodePemBlocks(pem, 'CERTIFICATE', 'the certificate', MAX_CHAIN_LENGTH);
  } catch (error) {
    if (error instanceof CofferError && error.code === 'INVALID_ARGUMENT') throw new CofferError('CERTIFICATE_INVALID', error.message, { cause: error });
    throw error;
  }
  const certificates = ders.map((der, index) => parseOne(der, index));
  for (let i = 0; i + 1 < certificates.length; i++) {
    const child = certificates[i];
    const parent = certificates[i + 1];
    if (child === undefined || parent === undefined) continue;
    if (!child.checkIssued(parent) || !verifies(child, parent)) {
      throw new CofferError('CERTIFICATE_INVALID', `certificate ${i + 1} is not issued by certificate ${i + 2}: give the leaf first, then each issuer`);
    }
  }
  const leaf = certificates[0];
  if (leaf === undefined) throw new CofferError('CERTIFICATE_INVALID', 'no certificate given');
  if (leaf.validFromDate.getTime() > now.getTime() || leaf.validToDate.getTime() <= now.getTime()) {
    throw new CofferError('CERTIFICATE_INVALID', 'the certificate is not valid now (check notBefore and notAfter)');
  }
  return { leaf, ders };
}

function verifies(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** The chain as one PEM text, leaf first. */
export function chainPem(ders: readonly Uint8Array[]): string {
  return ders.map((der) => encodePem('CERTIFICATE', der)).join('');
}

/** SPKI DER of a certificate's public key. */
export function spkiOf(certificate: X509Certificate): Buffer {
  return certificate.publicKey.export({ type: 'spki', format: 'der' });
}

export { fingerprintOf };
