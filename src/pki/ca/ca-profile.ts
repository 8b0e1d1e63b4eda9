// A CA's profile: what it may issue (validity, key usages, purposes), the names its subtree is
// confined to, and how long its CRLs stand. Checked once at creation; every issuance is held to it.
import { CofferError } from '../../core/errors.ts';
import { canonicalDnsName } from '../subject-names.ts';
import { extendedKeyUsageOids, keyUsageNames, type AltNames, type KeyUsageName } from '../x509/extensions.ts';

export interface CaProfile {
  readonly defaultValidityDays: number;
  readonly maxValidityDays: number;
  /** Key usages end-entity certificates may carry (never keyCertSign or cRLSign: CAs come from createCa). */
  readonly keyUsage: readonly KeyUsageName[];
  /** Purposes (OIDs) end-entity certificates may carry. */
  readonly extendedKeyUsage: readonly string[];
  readonly permittedDnsDomains: readonly string[];
  readonly excludedDnsDomains: readonly string[];
  readonly permittedEmailDomains: readonly string[];
  readonly excludedEmailDomains: readonly string[];
  readonly crlValidityHours: number;
  /** Where relying parties fetch this CA's CRL; put in every certificate it issues when set. */
  readonly crlDistributionUrl?: string;
}

export interface CaProfileInput {
  readonly defaultValidityDays?: number;
  readonly maxValidityDays?: number;
  readonly keyUsage?: readonly string[];
  readonly extendedKeyUsage?: readonly string[];
  readonly permittedDnsDomains?: readonly string[];
  readonly excludedDnsDomains?: readonly string[];
  readonly permittedEmailDomains?: readonly string[];
  readonly excludedEmailDomains?: readonly string[];
  readonly crlValidityHours?: number;
  readonly crlDistributionUrl?: string;
}

/** 398 days: the CA/Browser Forum's ceiling for TLS leaves, a sane default for any leaf. */
export const DEFAULT_LEAF_DAYS = 365;
export const MAX_LEAF_DAYS = 3650;
export const DEFAULT_CRL_HOURS = 168;
const LEAF_KEY_USAGES: readonly KeyUsageName[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement'];
const DEFAULT_PURPOSES = ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping'];

function days(value: number | undefined, fallback: number, what: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new CofferError('INVALID_ARGUMENT', `${what} must be a whole number from 1 to ${max}`);
  return value;
}

function domains(value: readonly string[] | undefined, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 50) throw new CofferError('INVALID_ARGUMENT', `${what} must be an array of at most 50 domains`);
  // RFC 5280 §4.2.1.10: a DNS constraint is a name; "example.com" covers it and every subdomain.
  return [...new Set(value.map((domain) => {
    if (typeof domain !== 'string') throw new CofferError('INVALID_ARGUMENT', `${what} must hold strings`);
    return canonicalDnsName(domain.startsWith('.') ? domain.slice(1) : domain);
  }))];
}

export function checkCaProfile(input: CaProfileInput | undefined): CaProfile {
  const maxValidityDays = days(input?.maxValidityDays, MAX_LEAF_DAYS, 'profile.maxValidityDays', MAX_LEAF_DAYS);
  const defaultValidityDays = days(input?.defaultValidityDays, Math.min(DEFAULT_LEAF_DAYS, maxValidityDays), 'profile.defaultValidityDays', maxValidityDays);
  const keyUsage = input?.keyUsage === undefined ? [...LEAF_KEY_USAGES] : keyUsageNames(input.keyUsage, 'profile.keyUsage');
  const forbidden = keyUsage.find((name) => name === 'keyCertSign' || name === 'cRLSign');
  if (forbidden !== undefined) throw new CofferError('INVALID_ARGUMENT', `profile.keyUsage: ${forbidden} is for CAs, which are made with "ca create"`);
  const crlDistributionUrl = input?.crlDistributionUrl;
  if (crlDistributionUrl !== undefined && (typeof crlDistributionUrl !== 'string' || crlDistributionUrl.length > 2048 || !/^https?:\/\/[\x21-\x7e]+$/.test(crlDistributionUrl) || !URL.canParse(crlDistributionUrl))) {
    throw new CofferError('INVALID_ARGUMENT', 'profile.crlDistributionUrl must be an http(s) URL');
  }
  return {
    defaultValidityDays,
    maxValidityDays,
    keyUsage,
    extendedKeyUsage: extendedKeyUsageOids(input?.extendedKeyUsage ?? DEFAULT_PURPOSES, 'profile.extendedKeyUsage'),
    permittedDnsDomains: domains(input?.permittedDnsDomains, 'profile.permittedDnsDomains'),
    excludedDnsDomains: domains(input?.excludedDnsDomains, 'profile.excludedDnsDomains'),
    permittedEmailDomains: domains(input?.permittedEmailDomains, 'profile.permittedEmailDomains'),
    excludedEmailDomains: domains(input?.excludedEmailDomains, 'profile.excludedEmailDomains'),
    crlValidityHours: days(input?.crlValidityHours, DEFAULT_CRL_HOURS, 'profile.crlValidityHours', 24 * 366),
    ...(crlDistributionUrl === undefined ? {} : { crlDistributionUrl }),
  };
}

function within(name: string, domain: string): boolean {
  const lower = name.toLowerCase().replace(/^\*\./, '');
  return lower === domain || lower.endsWith(`.${domain}`);
}

/**
 * CA_POLICY_VIOLATION unless every DNS name and email domain is inside the profile's permitted
 * subtrees (when it has any) and outside its excluded ones, as RFC 5280 §4.2.1.10 has verifiers check.
 */
export function checkNameConstraints(profile: CaProfile, names: Required<AltNames>, caName: string): void {
  for (const dns of names.dnsNames) {
    if (profile.permittedDnsDomains.length > 0 && !profile.permittedDnsDomains.some((domain) => within(dns, domain))) {
      throw new CofferError('CA_POLICY_VIOLATION', `CA ${caName} may issue only for ${profile.permittedDnsDomains.join(', ')}, not ${dns}`);
    }
    if (profile.excludedDnsDomains.some((domain) => within(dns, domain))) throw new CofferError('CA_POLICY_VIOLATION', `CA ${caName} may not issue for ${dns}`);
  }
  for (const email of names.emails) {
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (profile.permittedEmailDomains.length > 0 && !profile.permittedEmailDomains.some((allowed) => within(domain, allowed))) {
      throw new CofferError('CA_POLICY_VIOLATION', `CA ${caName} may issue only for addresses at ${profile.permittedEmailDomains.join(', ')}`);
    }
    if (profile.excludedEmailDomains.some((excluded) => within(domain, excluded))) throw new CofferError('CA_POLICY_VIOLATION', `CA ${caName} may not issue for ${email}`);
  }
}
