// Names that go into certificates: client common names and the server's subject alternative names.
import { isIP } from 'node:net';
import { CofferError } from '../core/errors.ts';

/** Plain characters only, so a name never needs DN escaping and reads the same in every tool. */
const COMMON_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** RFC 1123 §2.1 host label. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A bound on extra hostnames; a development server has a handful. */
export const MAX_EXTRA_HOSTNAMES = 32;

export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** The names the development server always answers to. */
export const LOCALHOST_NAMES: SubjectAltNames = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] };

export function validateCommonName(value: unknown): string {
  if (typeof value !== 'string' || !COMMON_NAME.test(value)) {
    throw new CofferError('INVALID_ARGUMENT', 'commonName must be 1 to 64 characters of A-Z a-z 0-9 . _ -');
  }
  return value;
}

/** The localhost names plus `extra` (DNS names or IP literals), validated, normalised and deduplicated. */
export function serverAltNames(extra: unknown): SubjectAltNames {
  if (!Array.isArray(extra) || extra.length > MAX_EXTRA_HOSTNAMES) {
    throw new CofferError('INVALID_ARGUMENT', `hostnames must be an array of at most ${MAX_EXTRA_HOSTNAMES} names`);
  }
  const dnsNames = new Set(LOCALHOST_NAMES.dnsNames);
  const ipAddresses = new Set(LOCALHOST_NAMES.ipAddresses);
  for (const name of extra as unknown[]) {
    if (typeof name !== 'string') throw new CofferError('INVALID_ARGUMENT', 'hostnames must be strings');
    const ip = canonicalIp(name);
    if (ip !== undefined) ipAddresses.add(ip);
    else dnsNames.add(canonicalDnsName(name));
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

export function canonicalIp(name: string): string | undefined {
  const version = isIP(name);
  if (version === 4) return name;
  // Zone ids (fe80::1%eth0) cannot be put in a certificate (RFC 5280 §4.2.1.6: 16 octets).
  if (version === 6 && !name.includes('%')) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return undefined;
}

export function canonicalDnsName(name: string): string {
  const lower = name.toLowerCase();
  const labels = lower.split('.');
  // An all-numeric last label is how "127.1" or "10.1" would sneak in: an address, not a name.
  if (lower.length > 253 || !labels.every((label) => DNS_LABEL.test(label)) || /^[0-9]+$/.test(labels.at(-1) ?? '')) {
    throw new CofferError('INVALID_ARGUMENT', 'each hostname must be a DNS name (RFC 1123) or an IP address');
  }
  return lower;
}
