// Whether a certificate may sign time-stamp tokens for a key: RFC 3161 §2.3, checked as OpenSSL's
// "timestampsign" purpose checks it, so a token Coffer issues is one that verifiers accept.
import { createHash, createPublicKey } from 'node:crypto';
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
 * Certificates already checked for a key, by SHA-256 of certificate and public key: a TSA stamps
 * with the same certificate thousands of times, and parsing and checking it is most of a stamp's
 * cost. Only successes are kept; the validity window is checked again at every call. Bounded.
 */
const CHECKED = new Map<string, TsaCertificate & { readonly notBefore: Date; readonly notAfter: Date }>();
const MAX_CHECKED = 64;

/**
 * Checks the TSA certificate against the key that will sign: the same public key (else
 * CERTIFICATE_KEY_MISMATCH), a critical extendedKeyUsage of timeStamping alone and, if keyUsage is
 * present, signing usages only (else TSA_NOT_CONFIGURED), and valid at `now` when given (else
 * CERTIFICATE_INVALID, as for an unreadable certificate).
 */
export function checkTsaCertificate(certificateDer: Uint8Array, publicKeyDer: Uint8Array, now?: Date): TsaCertificate {
  const id = createHash('sha256').update(certificateDer).update(createHash('sha256').update(publicKeyDer).digest()).digest('hex');
  let checked = CHECKED.get(id);
  if (checked === undefined) {
    checked = checkOnce(certificateDer, publicKeyDer);
    if (CHECKED.size >= MAX_CHECKED) CHECKED.delete(CHECKED.keys().next().value ?? '');
    CHECKED.set(id, checked);
  }
  if (now !== undefined && (now < checked.notBefore || now > checked.notAfter)) {
    throw new CofferError('CERTIFICATE_INVALID', 'the TSA certificate is not valid at the time of the stamp');
  }
  return { der: checked.der, certificate: checked.certificate };
}

function checkOnce(certificateDer: Uint8Array, publicKeyDer: Uint8Array): TsaCertificate & { readonly notBefore: Date; readonly notAfter: Date } {
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
  return { der: parsed.der, certificate, notBefore: parsed.fields.notBefore, notAfter: parsed.fields.notAfter };
}
