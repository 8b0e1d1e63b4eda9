// The command-line shapes of the PKI commands: names, usages, CA profiles and issuance sources,
// parsed from options into SDK requests. Pure (no I/O), so every rule is tested without a node.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { AltNamesInput, CaProfileInput, CreateCaRequest, CsrRequest, KeyRef, RevocationReason } from '../../client/index.ts';
import type { Args } from '../args.ts';
import { UsageError } from '../command.ts';

/** Repeatable alternative names and comma-separated usages, shared by csr, issue and ca create. */
export const NAME_OPTIONS = {
  dns: { type: 'string', multiple: true },
  ip: { type: 'string', multiple: true },
  email: { type: 'string', multiple: true },
  uri: { type: 'string', multiple: true },
  'key-usage': { type: 'string' },
  eku: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const REVOCATION_REASONS: readonly RevocationReason[] = [
  'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn',
];

/** `--name a,b` as ['a', 'b'] (blanks dropped); undefined when the option is absent. */
export function commaList(args: Args, name: string): string[] | undefined {
  const value = args.string(name);
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`);
  return items;
}

export function altNamesOf(args: Args): AltNamesInput {
  const dnsNames = args.strings('dns');
  const ipAddresses = args.strings('ip');
  const emails = args.strings('email');
  const uris = args.strings('uri');
  return {
    ...(dnsNames.length === 0 ? {} : { dnsNames }), ...(ipAddresses.length === 0 ? {} : { ipAddresses }),
    ...(emails.length === 0 ? {} : { emails }), ...(uris.length === 0 ? {} : { uris }),
  };
}

/** --key-usage and --eku, each only when given (so a CA's or CSR's own choice stands otherwise). */
export function usagesOf(args: Args): { keyUsage?: string[]; extendedKeyUsage?: string[] } {
  const keyUsage = commaList(args, 'key-usage');
  const extendedKeyUsage = commaList(args, 'eku');
  return { ...(keyUsage === undefined ? {} : { keyUsage }), ...(extendedKeyUsage === undefined ? {} : { extendedKeyUsage }) };
}

export function csrRequestOf(args: Args): CsrRequest {
  return { subject: args.required('subject'), ...altNamesOf(args), ...usagesOf(args) };
}

/** The name-related options given, for commands where they make no sense (issue --csr takes overrides only). */
function given(args: Args, names: readonly string[]): string[] {
  return names.filter((name) => args.flag(name) || args.strings(name).length > 0);
}

/** Refuses options that belong to another action of the same command. */
export function refuseOptions(args: Args, names: readonly string[], where: string): void {
  const extra = given(args, names);
  if (extra.length > 0) throw new UsageError(`${extra.map((name) => `--${name}`).join(', ')} ${extra.length === 1 ? 'does' : 'do'} not apply to ${where}`);
}

export const CA_CREATE_OPTIONS = {
  name: { type: 'string' },
  'signing-key': { type: 'string' },
  subject: { type: 'string' },
  parent: { type: 'string' },
  days: { type: 'string' },
  'path-length': { type: 'string' },
  'max-days': { type: 'string' },
  'default-days': { type: 'string' },
  'key-usage': { type: 'string' },
  eku: { type: 'string' },
  'permit-dns': { type: 'string', multiple: true },
  'exclude-dns': { type: 'string', multiple: true },
  'permit-email': { type: 'string', multiple: true },
  'exclude-email': { type: 'string', multiple: true },
  'crl-hours': { type: 'string' },
  'crl-url': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

/** Generous bounds: the node holds the real limits (its profile checks) and names them in its errors. */
const MAX_DAYS = 36_500;
const MAX_CRL_HOURS = 87_600;

/** The profile options given, or undefined for the node's defaults. */
export function caProfileOf(args: Args): CaProfileInput | undefined {
  const defaultValidityDays = args.integer('default-days', 1, MAX_DAYS);
  const maxValidityDays = args.integer('max-days', 1, MAX_DAYS);
  const crlValidityHours = args.integer('crl-hours', 1, MAX_CRL_HOURS);
  const crlDistributionUrl = args.string('crl-url');
  const domains = (name: string): string[] | undefined => (args.strings(name).length === 0 ? undefined : args.strings(name));
  const permittedDnsDomains = domains('permit-dns');
  const excludedDnsDomains = domains('exclude-dns');
  const permittedEmailDomains = domains('permit-email');
  const excludedEmailDomains = domains('exclude-email');
  const profile: CaProfileInput = {
    ...(defaultValidityDays === undefined ? {} : { defaultValidityDays }),
    ...(maxValidityDays === undefined ? {} : { maxValidityDays }),
    ...usagesOf(args),
    ...(permittedDnsDomains === undefined ? {} : { permittedDnsDomains }),
    ...(excludedDnsDomains === undefined ? {} : { excludedDnsDomains }),
    ...(permittedEmailDomains === undefined ? {} : { permittedEmailDomains }),
    ...(excludedEmailDomains === undefined ? {} : { excludedEmailDomains }),
    ...(crlValidityHours === undefined ? {} : { crlValidityHours }),
    ...(crlDistributionUrl === undefined ? {} : { crlDistributionUrl }),
  };
  return Object.keys(profile).length === 0 ? undefined : profile;
}

export function createCaRequestOf(args: Args): CreateCaRequest {
  const parent = args.string('parent');
  const validityDays = args.integer('days', 1, MAX_DAYS);
  const pathLength = args.integer('path-length', 0, 10);
  const profile = caProfileOf(args);
  return {
    name: args.required('name'), key: args.required('signing-key'), subject: args.required('subject'),
    ...(parent === undefined ? {} : { parent }),
    ...(validityDays === undefined ? {} : { validityDays }),
    ...(pathLength === undefined ? {} : { pathLength }),
    ...(profile === undefined ? {} : { profile }),
  };
}

/** Where the certified key is: a CSR file, a Coffer key, or a key pair to make here. */
export type IssueSource =
  | { readonly kind: 'csr'; readonly file: string }
  | { readonly kind: 'coffer-key'; readonly key: KeyRef }
  | { readonly kind: 'new-key'; readonly file: string };

export function issueSourceOf(args: Args): IssueSource {
  const csr = args.string('csr');
  const forKey = args.string('for-key');
  const newKey = args.string('new-key');
  const count = [csr, forKey, newKey].filter((value) => value !== undefined).length;
  if (count !== 1) throw new UsageError('give exactly one of --csr FILE, --for-key KEY and --new-key KEYFILE');
  if (csr !== undefined) {
    // The CSR names its subject; the node issues for that subject (alternative names and usages may be overridden).
    if (args.string('subject') !== undefined) throw new UsageError('--subject comes from the CSR: it does not apply with --csr');
    return { kind: 'csr', file: csr };
  }
  args.required('subject');
  return forKey !== undefined ? { kind: 'coffer-key', key: forKey } : { kind: 'new-key', file: newKey ?? '' };
}

export function revocationReasonOf(args: Args): RevocationReason | undefined {
  const reason = args.string('reason');
  if (reason === undefined) return undefined;
  const found = REVOCATION_REASONS.find((known) => known === reason);
  if (found === undefined) throw new UsageError(`--reason must be one of ${REVOCATION_REASONS.join(', ')}`);
  return found;
}

const SERIAL = /^(?:[0-9a-fA-F]{2}:)*[0-9a-fA-F]{1,40}$/;

/** A serial number in hex (colons allowed, as openssl prints them); the node normalises it. */
export function serialOf(args: Args): string {
  const serial = args.required('serial');
  if (!SERIAL.test(serial) || serial.replace(/:/g, '').length > 40) throw new UsageError('--serial is a hex serial number (up to 40 digits, colons allowed)');
  return serial;
}
