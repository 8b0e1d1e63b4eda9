// Issues client (clientAuth) certificates from a CA, for a given public key or a fresh P-256 pair.
import { createPublicKey } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { buildLeafCertificate, generateP256KeyPair } from './certificate-builder.ts';
import { loadIssuer, type CertificateAuthorityPem } from './certificate-issuer.ts';
import { fingerprintOf, parseCertificate } from './certificate-parsing.ts';
import { decodeSinglePemBlock } from './pem-blocks.ts';
import { validateCommonName } from './subject-names.ts';
import { checkedDays, checkedNow, leafValidity } from './validity-window.ts';

export interface IssueClientCertificateOptions {
  /** 1–64 of [A-Za-z0-9._-]. */
  readonly commonName: string;
  /** SPKI PEM ("PUBLIC KEY") of the holder's key; when absent a P-256 pair is generated. */
  readonly publicKeyPem?: string;
  /** Validity in days, 1–3650, default 365; never past the CA's own notAfter. */
  readonly days?: number;
  /** Issue as of this time instead of the clock (tests, back-dated issuance). */
  readonly now?: Date;
}

export interface IssuedClientCertificate {
  readonly certPem: string;
  /** PKCS#8 PEM, only when the key pair was generated here. */
  readonly keyPem?: string;
  /** Lowercase hex SHA-256 of the certificate DER. */
  readonly fingerprint: string;
}

/** EC curves by OpenSSL name; RSA below 2048 bits and everything else are refused. */
const ACCEPTED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MIN_RSA_BITS = 2048;

export async function issueClientCertificate(
  ca: CertificateAuthorityPem,
  options: IssueClientCertificateOptions,
): Promise<IssuedClientCertificate> {
  const { commonName, publicKeyPem, days, now } = (options as Partial<IssueClientCertificateOptions> | undefined) ?? {};
  const name = validateCommonName(commonName);
  const lifetime = checkedDays(days);
  const at = checkedNow(now);
  const givenKey = publicKeyPem === undefined ? undefined : subjectPublicKeyDer(publicKeyPem);
  const issuer = await loadIssuer(ca);
  const validity = leafValidity(issuer.notAfter, at, lifetime);
  const subject: { readonly publicKeyDer: Uint8Array; readonly privateKeyPem?: string } =
    givenKey === undefined ? await generateP256KeyPair() : { publicKeyDer: givenKey };
  const certPem = await buildLeafCertificate(issuer, {
    subjectPublicKey: subject.publicKeyDer,
    commonName: name,
    purpose: 'clientAuth',
    ...validity,
  });
  const fingerprint = fingerprintOf(parseCertificate(certPem).der);
  return subject.privateKeyPem === undefined ? { certPem, fingerprint } : { certPem, keyPem: subject.privateKeyPem, fingerprint };
}

/**
 * The SPKI DER of a "PUBLIC KEY" PEM, else INVALID_ARGUMENT. Only that label is read: Node would
 * happily derive a public key from a private one, and a private key has no business here.
 */
function subjectPublicKeyDer(pem: unknown): Buffer {
  const der = decodeSinglePemBlock(pem, 'PUBLIC KEY', 'publicKeyPem');
  let key;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', 'publicKeyPem is not a valid public key', { cause });
  }
  const details = key.asymmetricKeyDetails;
  const accepted = (key.asymmetricKeyType === 'ec' && ACCEPTED_CURVES.has(details?.namedCurve ?? ''))
    || (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS)
    || key.asymmetricKeyType === 'ed25519';
  if (!accepted) {
    throw new CofferError('INVALID_ARGUMENT', 'publicKeyPem must be EC P-256/P-384/P-521, RSA of 2048 bits or more, or Ed25519');
  }
  return key.export({ type: 'spki', format: 'der' });
}
