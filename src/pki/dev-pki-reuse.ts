// When the development PKI may reuse a file on disk: the checks a CA or a leaf must pass, via OpenSSL.
import type { KeyObject } from 'node:crypto';
import { isCofferError } from '../core/errors.ts';
import type { LeafPurpose } from './certificate-builder.ts';
import { loadIssuer, parsePrivateKey, type CertificateIssuer } from './certificate-issuer.ts';
import { commonNameOf, parseCertificate, type ParsedCertificate } from './certificate-parsing.ts';
import { readOptionalFile, tightenMode } from './pki-files.ts';
import type { SubjectAltNames } from './subject-names.ts';
import { isFreshAt, RENEW_BEFORE_MS } from './validity-window.ts';
import { x509 } from './x509-runtime.ts';

/** One leaf of the development PKI: its files and what an existing certificate must carry. */
export interface LeafProfile {
  readonly certFile: string;
  readonly keyFile: string;
  readonly commonName: string;
  readonly purpose: LeafPurpose;
  readonly altNames?: SubjectAltNames;
}

/**
 * The CA in `certFile`/`keyFile` when both exist, parse, belong together, form a self-signed CA
 * and stay valid for more than RENEW_BEFORE_MS; otherwise undefined (the caller recreates it).
 */
export async function reusableCa(dir: string, certFile: string, keyFile: string, now: Date): Promise<CertificateIssuer | undefined> {
  const certPem = await readOptionalFile(dir, certFile);
  const keyPem = await readOptionalFile(dir, keyFile);
  if (certPem === undefined || keyPem === undefined) return undefined;
  const issuer = await unlessInvalid(() => loadIssuer({ certPem, keyPem }));
  if (issuer === undefined) return undefined;
  const ca = issuer.certificate.openssl;
  const selfSigned = ca.checkIssued(ca) && ca.verify(ca.publicKey);
  if (!selfSigned || ca.validToDate.getTime() - now.getTime() <= RENEW_BEFORE_MS) return undefined;
  await tightenMode(dir, keyFile);
  await tightenMode(dir, certFile);
  return issuer;
}

/** The DER of the leaf described by `profile` when it may be kept as is; otherwise undefined. */
export async function reusableLeaf(dir: string, profile: LeafProfile, issuer: CertificateIssuer, now: Date): Promise<Buffer | undefined> {
  const certPem = await readOptionalFile(dir, profile.certFile);
  const keyPem = await readOptionalFile(dir, profile.keyFile);
  if (certPem === undefined || keyPem === undefined) return undefined;
  const parsed = await unlessInvalid(() => parseCertificate(certPem, profile.certFile));
  const key = await unlessInvalid(() => parsePrivateKey(keyPem, profile.keyFile));
  if (parsed === undefined || key === undefined || !isAcceptableLeaf(parsed, key, profile, issuer, now)) return undefined;
  await tightenMode(dir, profile.keyFile);
  await tightenMode(dir, profile.certFile);
  return parsed.der;
}

function isAcceptableLeaf(parsed: ParsedCertificate, key: KeyObject, profile: LeafProfile, issuer: CertificateIssuer, now: Date): boolean {
  const leaf = parsed.openssl;
  const ca = issuer.certificate.openssl;
  // checkIssued compares names, key identifiers and the CA's keyUsage; verify checks the signature.
  return keyMatches(leaf, key)
    && leaf.checkIssued(ca) && leaf.verify(ca.publicKey)
    && !leaf.ca
    && isFreshAt({ notBefore: leaf.validFromDate, notAfter: leaf.validToDate }, now)
    && commonNameOf(parsed) === profile.commonName
    && hasPurpose(parsed, profile.purpose)
    && coversAltNames(parsed, profile.altNames);
}

function keyMatches(leaf: ParsedCertificate['openssl'], key: KeyObject): boolean {
  try {
    return leaf.checkPrivateKey(key);
  } catch {
    return false; // a key of another type entirely
  }
}

function hasPurpose(parsed: ParsedCertificate, purpose: LeafPurpose): boolean {
  const usages = parsed.fields.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  return usages.includes(x509.ExtendedKeyUsage[purpose]);
}

/** Every requested name is present as a SAN (never matched through the subject CN or a wildcard). */
function coversAltNames(parsed: ParsedCertificate, altNames: SubjectAltNames | undefined): boolean {
  if (altNames === undefined) return true;
  const leaf = parsed.openssl;
  return altNames.dnsNames.every((name) => leaf.checkHost(name, { subject: 'never', wildcards: false }) !== undefined)
    && altNames.ipAddresses.every((ip) => leaf.checkIP(ip) !== undefined);
}

/** Runs `load`; INVALID_ARGUMENT (an unreadable or unusable file) becomes undefined, anything else propagates. */
async function unlessInvalid<T>(load: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (isCofferError(error, 'INVALID_ARGUMENT')) return undefined;
    throw error;
  }
}
