// Certificate input at the edge (PEM or DER), its SHA-256 fingerprint, and its subject common name.
import { createHash, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { decodeSinglePemBlock, looksLikePem } from './pem-blocks.ts';
import { x509 } from './x509-runtime.ts';

/** Certificates past this size are refused before parsing; real ones are a few KiB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

/** A certificate parsed once, seen through OpenSSL (Node) for checks and @peculiar/x509 for fields. */
export interface ParsedCertificate {
  readonly der: Buffer;
  readonly openssl: NodeX509Certificate;
  readonly fields: x509.X509Certificate;
}

/**
 * Parses a certificate given as PEM text, PEM bytes (a .pem file read as a Buffer) or DER, else
 * INVALID_ARGUMENT. DER must be exactly one certificate: OpenSSL stops at its end and would
 * silently ignore trailing bytes, which would make the fingerprint depend on how it was passed.
 */
export function parseCertificate(cert: unknown, what = 'certificate'): ParsedCertificate {
  let der: Buffer;
  if (typeof cert === 'string') {
    der = decodeSinglePemBlock(cert, 'CERTIFICATE', what);
  } else if (cert instanceof Uint8Array) {
    const bytes = Buffer.from(cert.buffer, cert.byteOffset, cert.byteLength);
    der = looksLikePem(bytes.subarray(0, 4096).toString('latin1'))
      ? decodeSinglePemBlock(bytes.toString('utf8'), 'CERTIFICATE', what)
      : Buffer.from(bytes);
  } else {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be PEM text or DER bytes`);
  }
  if (der.length === 0 || der.length > MAX_CERTIFICATE_BYTES) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be 1 to ${MAX_CERTIFICATE_BYTES} bytes of DER`);
  }
  try {
    const openssl = new NodeX509Certificate(der);
    if (!openssl.raw.equals(der)) throw new Error('trailing or non-canonical bytes');
    return { der, openssl, fields: new x509.X509Certificate(der) };
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', `${what} is not a valid X.509 certificate`, { cause });
  }
}

/**
 * Lowercase hex SHA-256 of the certificate's DER: what principals are bound by. Equals Node's
 * `getPeerCertificate().raw` hashed, and `fingerprint256` without colons, lower-cased.
 */
export function certificateFingerprint(cert: string | Uint8Array): string {
  return fingerprintOf(parseCertificate(cert).der);
}

export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * The subject's common name, or undefined when it has none. With several CNs, the last one, the
 * most specific in X.500 order, as OpenSSL's hostname matching picks it.
 */
export function certificateSubjectCommonName(cert: string | Uint8Array): string | undefined {
  return commonNameOf(parseCertificate(cert));
}

export function commonNameOf(parsed: ParsedCertificate): string | undefined {
  return parsed.fields.subjectName.getField('CN').at(-1);
}
