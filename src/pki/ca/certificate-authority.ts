// The certificates a CA makes: its own (self-signed root, or signed by a parent CA), end-entity
// certificates from CSRs held to its profile, and CRLs. Pure: signers in, DER out; the service
// around it checks rights, stores and audits.
import { randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Extension, type Name } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import type { PkiSigner } from '../pki-signer.ts';
import type { ParsedCsr } from '../x509/csr.ts';
import {
  authorityKeyIdentifierExtension, basicConstraintsExtension, checkAltNames, crlDistributionPointsExtension, crlNumberExtension,
  crlReasonExtension, extendedKeyUsageExtension, extendedKeyUsageName, extendedKeyUsageOids, EXTENDED_KEY_USAGES, hasAltNames,
  keyIdentifierOf, keyUsageExtension, keyUsageNames, nameConstraintsExtension, subjectAltNameExtension, subjectKeyIdentifierExtension,
  type AltNames, type CrlReasonName, type KeyUsageName,
} from '../x509/extensions.ts';
import { signCertificate, signCrl } from '../x509/signed-structures.ts';
import type { CaProfile } from './ca-profile.ts';
import { checkNameConstraints } from './ca-profile.ts';

const DAY_MS = 86_400_000;
/** Backdating absorbs clock skew between Coffer and relying parties (as the development PKI does). */
const BACKDATE_MS = 5 * 60_000;
export const MAX_CA_DAYS = 30 * 365;

/**
 * 16 random bytes as a positive INTEGER (RFC 5280 §4.1.2.2): top bit clear so no sign byte is
 * needed, next bit set so no leading zero is dropped; 126 random bits, unique without coordination.
 */
export function newSerialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

export interface CaCertificateInput {
  readonly subject: Name;
  readonly publicKeyDer: Uint8Array;
  readonly validityDays: number;
  readonly pathLength?: number;
  readonly profile: CaProfile;
  readonly now: Date;
}

/** What an issuing CA contributes to a certificate: its name, key identifier, end of validity. */
export interface Issuer {
  readonly signer: PkiSigner;
  readonly name: Name;
  readonly keyIdentifier: Buffer;
  readonly notAfter: Date;
  readonly profile?: CaProfile;
}

export interface Issued {
  readonly der: Buffer;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyIdentifier: string;
}

function validity(now: Date, validityDays: number, issuerNotAfter: Date | undefined): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const wanted = new Date(now.getTime() + validityDays * DAY_MS);
  // A certificate never outlives its issuer (RFC 5280 §6 would reject it at the issuer's end anyway).
  const notAfter = issuerNotAfter !== undefined && issuerNotAfter < wanted ? issuerNotAfter : wanted;
  if (notAfter.getTime() <= now.getTime()) throw new CofferError('CA_POLICY_VIOLATION', 'the issuing CA has expired');
  return { notBefore, notAfter };
}

function caExtensions(input: CaCertificateInput, keyIdentifier: Buffer, authorityKeyIdentifier: Buffer): Extension[] {
  const constraints = nameConstraintsExtension(input.profile);
  return [
    basicConstraintsExtension(true, input.pathLength),
    keyUsageExtension(['digitalSignature', 'keyCertSign', 'cRLSign']),
    subjectKeyIdentifierExtension(keyIdentifier),
    authorityKeyIdentifierExtension(authorityKeyIdentifier),
    ...(constraints === undefined ? [] : [constraints]),
  ];
}

/** A self-signed root: the signer certifies its own key. */
export async function signRootCertificate(signer: PkiSigner, input: CaCertificateInput): Promise<Issued> {
  const keyIdentifier = keyIdentifierOf(signer.publicKeyDer);
  const serial = newSerialNumber();
  const { notBefore, notAfter } = validity(input.now, input.validityDays, undefined);
  const der = await signCertificate(signer, {
    serialNumber: serial, issuer: input.subject, subject: input.subject, notBefore, notAfter, publicKeyDer: signer.publicKeyDer,
    extensions: caExtensions(input, keyIdentifier, keyIdentifier),
  });
  return { der, serialNumber: serial.toString('hex'), notBefore, notAfter, keyIdentifier: keyIdentifier.toString('hex') };
}

/** An intermediate CA certificate for `input.publicKeyDer`, signed by `issuer`. */
export async function signIntermediateCertificate(issuer: Issuer, input: CaCertificateInput): Promise<Issued> {
  const keyIdentifier = keyIdentifierOf(input.publicKeyDer);
  const serial = newSerialNumber();
  const { notBefore, notAfter } = validity(input.now, input.validityDays, issuer.notAfter);
  const der = await signCertificate(issuer.signer, {
    serialNumber: serial, issuer: issuer.name, subject: input.subject, notBefore, notAfter, publicKeyDer: input.publicKeyDer,
    extensions: caExtensions(input, keyIdentifier, issuer.keyIdentifier),
  });
  return { der, serialNumber: serial.toString('hex'), notBefore, notAfter, keyIdentifier: keyIdentifier.toString('hex') };
}

export interface LeafOptions {
  readonly validityDays?: number;
  /** Overrides what the CSR asks for; each must be allowed by the profile. */
  readonly keyUsage?: readonly string[];
  readonly extendedKeyUsage?: readonly string[];
  readonly altNames?: AltNames;
}

export interface LeafPlan {
  readonly keyUsage: readonly KeyUsageName[];
  readonly extendedKeyUsage: readonly string[];
  readonly altNames: Required<AltNames>;
  readonly validityDays: number;
}

/**
 * What the leaf will hold, decided before anything is signed: the options, else what the CSR asks
 * for, else the defaults (digitalSignature); CA_POLICY_VIOLATION for anything the profile (or an
 * ancestor's name constraints) does not allow.
 */
export function planLeaf(csr: ParsedCsr, options: LeafOptions, profile: CaProfile, caName: string, ancestors: readonly CaProfile[]): LeafPlan {
  const keyUsage = options.keyUsage !== undefined ? keyUsageNames(options.keyUsage) : [...(csr.keyUsage ?? ['digitalSignature'])];
  const extendedKeyUsage = options.extendedKeyUsage !== undefined ? extendedKeyUsageOids(options.extendedKeyUsage) : [...(csr.extendedKeyUsage ?? [])];
  const altNames = options.altNames !== undefined ? checkAltNames(options.altNames) : (csr.altNames ?? checkAltNames(undefined));
  // RFC 5280 §4.1.2.6: a certificate with an empty subject must name its subject in a (critical) SAN.
  if (csr.subject.length === 0 && !hasAltNames(altNames)) throw new CofferError('CSR_INVALID', 'the request names no subject and no alternative name');
  const validityDays = options.validityDays ?? profile.defaultValidityDays;
  if (!Number.isInteger(validityDays) || validityDays < 1) throw new CofferError('INVALID_ARGUMENT', 'validityDays must be a positive whole number');
  if (validityDays > profile.maxValidityDays) throw new CofferError('CA_POLICY_VIOLATION', `CA ${caName} issues for at most ${profile.maxValidityDays} days`);
  if (keyUsage.length === 0) throw new CofferError('INVALID_ARGUMENT', 'a certificate needs at least one key usage');
  for (const usage of keyUsage) {
    if (!profile.keyUsage.includes(usage)) throw new CofferError('CA_POLICY_VIOLATION', `CA ${caName} does not issue the key usage ${usage}`);
  }
  for (const purpose of extendedKeyUsage) {
    if (!profile.extendedKeyUsage.includes(purpose)) throw new CofferError('CA_POLICY_VIOLATION', `CA ${caName} does not issue for ${extendedKeyUsageName(purpose)}`);
  }
  // RFC 3161 §2.3: a time-stamping certificate has timeStamping as its only purpose.
  if (extendedKeyUsage.includes(EXTENDED_KEY_USAGES.timeStamping) && extendedKeyUsage.length > 1) {
    throw new CofferError('CA_POLICY_VIOLATION', 'a time-stamping certificate may have no other extended key usage');
  }
  for (const constraints of [profile, ...ancestors]) checkNameConstraints(constraints, altNames, caName);
  return { keyUsage, extendedKeyUsage, altNames, validityDays };
}

/** An end-entity certificate for the CSR's key and subject, as planned. */
export async function signLeafCertificate(issuer: Issuer, csr: ParsedCsr, plan: LeafPlan, now: Date): Promise<Issued> {
  const keyIdentifier = keyIdentifierOf(csr.publicKeyDer);
  const serial = newSerialNumber();
  const { notBefore, notAfter } = validity(now, plan.validityDays, issuer.notAfter);
  const timeStamping = plan.extendedKeyUsage.length === 1 && plan.extendedKeyUsage[0] === EXTENDED_KEY_USAGES.timeStamping;
  const extensions: Extension[] = [
    basicConstraintsExtension(false),
    keyUsageExtension(plan.keyUsage),
    ...(plan.extendedKeyUsage.length === 0 ? [] : [extendedKeyUsageExtension(plan.extendedKeyUsage, timeStamping)]),
    ...(hasAltNames(plan.altNames) ? [subjectAltNameExtension(plan.altNames, csr.subject.length === 0)] : []),
    subjectKeyIdentifierExtension(keyIdentifier),
    authorityKeyIdentifierExtension(issuer.keyIdentifier),
    ...(issuer.profile?.crlDistributionUrl === undefined ? [] : [crlDistributionPointsExtension(issuer.profile.crlDistributionUrl)]),
  ];
  const der = await signCertificate(issuer.signer, {
    serialNumber: serial, issuer: issuer.name, subject: csr.subject, notBefore, notAfter, publicKeyDer: csr.publicKeyDer, extensions,
  });
  return { der, serialNumber: serial.toString('hex'), notBefore, notAfter, keyIdentifier: keyIdentifier.toString('hex') };
}

export interface Revocation {
  readonly serialNumber: string;
  readonly revokedAt: Date;
  readonly reason: CrlReasonName;
}

/** A CRL listing `revoked`, numbered `crlNumber`, standing `hours` from now. */
export async function signCaCrl(issuer: Issuer, revoked: readonly Revocation[], crlNumber: number, now: Date, hours: number): Promise<{ der: Buffer; thisUpdate: Date; nextUpdate: Date }> {
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + hours * 3_600_000);
  const der = await signCrl(issuer.signer, {
    issuer: issuer.name, thisUpdate, nextUpdate,
    revoked: revoked.map((entry) => ({
      serialNumber: Buffer.from(entry.serialNumber, 'hex'),
      revokedAt: entry.revokedAt,
      // RFC 5280 §5.3.1: reasonCode is omitted rather than given as unspecified.
      extensions: entry.reason === 'unspecified' ? [] : [crlReasonExtension(entry.reason)],
    })),
    extensions: [authorityKeyIdentifierExtension(issuer.keyIdentifier), crlNumberExtension(crlNumber)],
  });
  return { der, thisUpdate, nextUpdate };
}

/** The subject Name of a stored CA certificate, to be the issuer of what it signs. */
export function subjectNameOf(certificateDer: Uint8Array): Name {
  return AsnConvert.parse(certificateDer, Certificate).tbsCertificate.subject;
}
