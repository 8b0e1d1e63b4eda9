// X.509 v3 extensions (RFC 5280 §4.2) built from names a caller can type: key usages, extended key
// usages, subject alternative names, basic and name constraints, key identifiers, CRL fields.
import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier, BasicConstraints, CRLDistributionPoints, CRLNumber, DistributionPoint, DistributionPointName, CRLReason, type CRLReasons, ExtendedKeyUsage, Extension, GeneralName, GeneralSubtree,
  GeneralSubtrees, KeyIdentifier, KeyUsage, NameConstraints, SubjectAlternativeName, SubjectKeyIdentifier, SubjectPublicKeyInfo,
  id_ce_authorityKeyIdentifier, id_ce_basicConstraints, id_ce_cRLDistributionPoints, id_ce_cRLNumber, id_ce_cRLReasons, id_ce_extKeyUsage, id_ce_keyUsage,
  id_ce_nameConstraints, id_ce_subjectAltName, id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import { canonicalDnsName, canonicalIp } from '../subject-names.ts';

/** RFC 5280 §4.2.1.3 bit names, in the spelling openssl prints. */
export const KEY_USAGE_BITS = {
  digitalSignature: 1, nonRepudiation: 2, keyEncipherment: 4, dataEncipherment: 8, keyAgreement: 16, keyCertSign: 32, cRLSign: 64,
} as const;
export type KeyUsageName = keyof typeof KEY_USAGE_BITS;

/** RFC 5280 §4.2.1.12 key purposes by name; other purposes may be given as dotted OIDs. */
export const EXTENDED_KEY_USAGES = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
} as const;
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGES;

export const CRL_REASONS = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5,
  certificateHold: 6, privilegeWithdrawn: 9,
} as const;
export type CrlReasonName = keyof typeof CRL_REASONS;

const OID = /^[0-2](?:\.(?:0|[1-9][0-9]{0,8})){1,20}$/;
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}$/;
export const MAX_ALT_NAMES = 100;

export interface AltNames {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly emails?: readonly string[];
  readonly uris?: readonly string[];
}

function list(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_ALT_NAMES || !value.every((item) => typeof item === 'string')) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be an array of at most ${MAX_ALT_NAMES} strings`);
  }
  return value;
}

/** Key usage names, checked and deduplicated (INVALID_ARGUMENT for an unknown name). */
export function keyUsageNames(value: unknown, what = 'keyUsage'): KeyUsageName[] {
  const names = list(value, what);
  for (const name of names) {
    if (!Object.hasOwn(KEY_USAGE_BITS, name)) throw new CofferError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(name.slice(0, 40))} is not one of ${Object.keys(KEY_USAGE_BITS).join(', ')}`);
  }
  return [...new Set(names)] as KeyUsageName[];
}

/** Extended key usages as OIDs: names from EXTENDED_KEY_USAGES or dotted OIDs, deduplicated. */
export function extendedKeyUsageOids(value: unknown, what = 'extendedKeyUsage'): string[] {
  const oids = list(value, what).map((name) => {
    if (Object.hasOwn(EXTENDED_KEY_USAGES, name)) return EXTENDED_KEY_USAGES[name as ExtendedKeyUsageName];
    if (OID.test(name)) return name;
    throw new CofferError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(name.slice(0, 40))} is not one of ${Object.keys(EXTENDED_KEY_USAGES).join(', ')} or a dotted OID`);
  });
  return [...new Set(oids)];
}

/** The name of a purpose OID when it has one (codeSigning…), else the OID. */
export function extendedKeyUsageName(oid: string): string {
  for (const [name, known] of Object.entries(EXTENDED_KEY_USAGES)) if (known === oid) return name;
  return oid;
}

/** Subject alternative names checked and canonicalised: RFC 1123 DNS names (a leading "*." allowed), IP literals, addr-spec emails, absolute URIs. */
export function checkAltNames(value: AltNames | undefined): Required<AltNames> {
  const dnsNames = list(value?.dnsNames, 'dnsNames').map((name) => {
    const wildcard = name.startsWith('*.');
    const canonical = canonicalDnsName(wildcard ? name.slice(2) : name);
    return wildcard ? `*.${canonical}` : canonical;
  });
  const ipAddresses = list(value?.ipAddresses, 'ipAddresses').map((ip) => {
    const canonical = canonicalIp(ip);
    if (canonical === undefined) throw new CofferError('INVALID_ARGUMENT', 'ipAddresses must be IPv4 or IPv6 literals');
    return canonical;
  });
  const emails = list(value?.emails, 'emails').map((email) => {
    if (email.length > 254 || !EMAIL.test(email)) throw new CofferError('INVALID_ARGUMENT', 'emails must be addresses such as builder@example.com');
    return email;
  });
  const uris = list(value?.uris, 'uris').map((uri) => {
    if (uri.length > 2048 || !/^[\x21-\x7e]+$/.test(uri) || !URL.canParse(uri)) throw new CofferError('INVALID_ARGUMENT', 'uris must be absolute ASCII URIs such as spiffe://example.org/builder');
    return uri;
  });
  if (dnsNames.length + ipAddresses.length + emails.length + uris.length > MAX_ALT_NAMES) {
    throw new CofferError('INVALID_ARGUMENT', `at most ${MAX_ALT_NAMES} alternative names in all`);
  }
  return { dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)], emails: [...new Set(emails)], uris: [...new Set(uris)] };
}

export function hasAltNames(names: Required<AltNames>): boolean {
  return names.dnsNames.length + names.ipAddresses.length + names.emails.length + names.uris.length > 0;
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

export function generalNames(names: Required<AltNames>): GeneralName[] {
  return [
    ...names.dnsNames.map((dNSName) => new GeneralName({ dNSName })),
    ...names.ipAddresses.map((iPAddress) => new GeneralName({ iPAddress })),
    ...names.emails.map((rfc822Name) => new GeneralName({ rfc822Name })),
    ...names.uris.map((uniformResourceIdentifier) => new GeneralName({ uniformResourceIdentifier })),
  ];
}

/** RFC 5280 §4.2.1.6: critical exactly when the subject is empty (the names are then all there is). */
export function subjectAltNameExtension(names: Required<AltNames>, emptySubject = false): Extension {
  return extension(id_ce_subjectAltName, emptySubject, new SubjectAlternativeName(generalNames(names)));
}

/** RFC 5280 §4.2.1.3: conforming CAs mark keyUsage critical. */
export function keyUsageExtension(names: readonly KeyUsageName[]): Extension {
  const flags = names.reduce((bits, name) => bits | KEY_USAGE_BITS[name], 0);
  return extension(id_ce_keyUsage, true, new KeyUsage(flags));
}

/** RFC 3161 §2.3: a TSA's extendedKeyUsage is critical and holds timeStamping only; critical otherwise on request. */
export function extendedKeyUsageExtension(oids: readonly string[], critical: boolean): Extension {
  return extension(id_ce_extKeyUsage, critical, new ExtendedKeyUsage([...oids]));
}

/** Always critical (RFC 5280 §4.2.1.9 for CAs; harmless and explicit for end entities). */
export function basicConstraintsExtension(ca: boolean, pathLength?: number): Extension {
  return extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: ca, ...(ca && pathLength !== undefined ? { pathLenConstraint: pathLength } : {}) }));
}

/** RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey BIT STRING's value. */
export function keyIdentifierOf(publicKeyDer: Uint8Array): Buffer {
  const spki = AsnConvert.parse(publicKeyDer, SubjectPublicKeyInfo);
  return createHash('sha256').update(new Uint8Array(spki.subjectPublicKey)).digest().subarray(0, 20);
}

export function subjectKeyIdentifierExtension(keyId: Uint8Array): Extension {
  return extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(keyId)));
}

export function authorityKeyIdentifierExtension(keyId: Uint8Array): Extension {
  return extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(keyId)) }));
}

export interface NameConstraintSet {
  readonly permittedDnsDomains?: readonly string[];
  readonly excludedDnsDomains?: readonly string[];
  readonly permittedEmailDomains?: readonly string[];
  readonly excludedEmailDomains?: readonly string[];
}

/** RFC 5280 §4.2.1.10, critical as it MUST be; undefined when nothing is constrained. */
export function nameConstraintsExtension(constraints: NameConstraintSet): Extension | undefined {
  const subtrees = (dns: readonly string[] | undefined, email: readonly string[] | undefined): GeneralSubtrees | undefined => {
    const items = [
      ...(dns ?? []).map((dNSName) => new GeneralSubtree({ base: new GeneralName({ dNSName }) })),
      ...(email ?? []).map((rfc822Name) => new GeneralSubtree({ base: new GeneralName({ rfc822Name }) })),
    ];
    return items.length === 0 ? undefined : new GeneralSubtrees(items);
  };
  const permittedSubtrees = subtrees(constraints.permittedDnsDomains, constraints.permittedEmailDomains);
  const excludedSubtrees = subtrees(constraints.excludedDnsDomains, constraints.excludedEmailDomains);
  if (permittedSubtrees === undefined && excludedSubtrees === undefined) return undefined;
  return extension(id_ce_nameConstraints, true, new NameConstraints({
    ...(permittedSubtrees === undefined ? {} : { permittedSubtrees }),
    ...(excludedSubtrees === undefined ? {} : { excludedSubtrees }),
  }));
}

/** RFC 5280 §4.2.1.13: where the issuer's CRL is fetched. */
export function crlDistributionPointsExtension(url: string): Extension {
  const point = new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [new GeneralName({ uniformResourceIdentifier: url })] }) });
  return extension(id_ce_cRLDistributionPoints, false, new CRLDistributionPoints([point]));
}

export function crlNumberExtension(value: number): Extension {
  return extension(id_ce_cRLNumber, false, new CRLNumber(value));
}

export function crlReasonExtension(reason: CrlReasonName): Extension {
  // CRLReason is ENUMERATED (RFC 5280 §5.3.1); the library's enum holds the same numbers.
  const value = CRL_REASONS[reason] as unknown as CRLReasons;
  return extension(id_ce_cRLReasons, false, new CRLReason(value));
}

/** An extension's parsed value, or undefined when `extensions` lacks it. */
export function findExtension<T>(extensions: readonly Extension[] | undefined, oid: string, type: new () => T): { value: T; critical: boolean } | undefined {
  const found = extensions?.find((item) => item.extnID === oid);
  if (found === undefined) return undefined;
  return { value: AsnConvert.parse(found.extnValue, type), critical: found.critical };
}
