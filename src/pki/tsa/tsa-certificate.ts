// Whether a certificate may sign time-stamp tokens for a key: RFC 3161 §2.3, checked as OpenSSL's
// "timestampsign" purpose checks it, so a token Coffer issues is one that verifiers accept.
import { createPublicKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, ExtendedKeyUsage, KeyUsage, id_ce_extKeyUsage, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import { type ParsedCertificate, parseCertificate } from '../certificate-parsing.ts';
import { EXTENDED_KEY_USAGES, KEY_USAGE_BITS, findExtension } from '../x509/extensions.ts';

export interface TsaCertificate {
  readonly der: Buffer;
  readonly certificate: Certificate;
}

/** RFC 3161 §2.3 leaves keyUsage open; OpenSSL accepts only digitalSignature and/or nonRepudiation. */
const SIGNING_USAGES = KEY_USAGE_BITS.digitalSignature | KEY_USAGE_BITS.nonRepudiation;

/**
 * Checks the TSA certificate against the key that will sign: the same public key (else
 * CERTIFICATE_KEY_MISMATCH), a critical extendedKeyUsage of timeStamping alone and, if keyUsage is
 * present, signing usages only (else TSA_NOT_CONFIGURED), and valid at `now` when given (else
 * CERTIFICATE_INVALID, as for an unreadable certificate).
 */
export function checkTsaCertificate(certificateDer: Uint8Array, publicKeyDer: Uint8Array, now?: Date): TsaCertificate {
  let parsed: ParsedCertificate;
  let certificate: Certificate;
  try {
    parsed = parseCertificate(certificateDer, 'TSA certificate');
    certificate = AsnConvert.parse(parsed.der, Certificate);
  } catch (cause) {
    throw new CofferError('CERTIFICATE_INVALID', 'the TSA certificate is not a readable X.509 certificate', { cause });
  }
  let sameKey: boolean;
  try {
    sameKey = parsed.openssl.publicKey.equals(createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' }));
  } catch (cause) {
    throw new CofferError('CERTIFICATE_KEY_MISMATCH', "the TSA certificate's public key is not the signing key", { cause });
  }
  if (!sameKey) throw new CofferError('CERTIFICATE_KEY_MISMATCH', "the TSA certificate's public key is not the signing key");

  const extensions = certificate.tbsCertificate.extensions;
  const purposes = findExtension(extensions, id_ce_extKeyUsage, ExtendedKeyUsage);
  if (purposes === undefined || !purposes.critical || purposes.value.length !== 1 || purposes.value[0] !== EXTENDED_KEY_USAGES.timeStamping) {
    throw new CofferError('TSA_NOT_CONFIGURED', 'the TSA certificate needs a critical extendedKeyUsage of timeStamping only (RFC 3161 §2.3)');
  }
  const usage = findExtension(extensions, id_ce_keyUsage, KeyUsage);
  if (usage !== undefined) {
    const flags = usage.value.toNumber();
    if ((flags & SIGNING_USAGES) === 0 || (flags & ~SIGNING_USAGES) !== 0) {
      throw new CofferError('TSA_NOT_CONFIGURED', 'the TSA certificate key usage must be digitalSignature and/or nonRepudiation only');
    }
  }
  if (now !== undefined && (now < parsed.fields.notBefore || now > parsed.fields.notAfter)) {
    throw new CofferError('CERTIFICATE_INVALID', 'the TSA certificate is not valid at the time of the stamp');
  }
  return { der: parsed.der, certificate };
}
