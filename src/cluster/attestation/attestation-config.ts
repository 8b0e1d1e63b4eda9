// The admitter's `cluster.join` configuration: which attestation provider verifies joiners and its
// policy. Checked once at start (unknown keys are errors, the certificates must read), frozen.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Barrier } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';
import type { AttestationProvider } from './attestation-provider.ts';
import { AWS_EC2_PROVIDER, AwsEc2Provider, DEFAULT_LAUNCH_WINDOW_MINUTES, publicKeysFromPem } from './aws-ec2/index.ts';
import { JOIN_TOKEN_PROVIDER, JoinTokenProvider } from './join-token/index.ts';

export type JoinConfig =
  | { readonly provider: typeof JOIN_TOKEN_PROVIDER }
  | {
    readonly provider: typeof AWS_EC2_PROVIDER;
    readonly certificatesFile: string;
    /** The file's PEM text, read at start. */
    readonly certificatesPem: string;
    readonly accountIds: readonly string[];
    readonly regions: readonly string[];
    readonly imageIds?: readonly string[];
    readonly roles?: readonly string[];
    readonly launchWindowMinutes: number;
  };

const MAX_LAUNCH_WINDOW_MINUTES = 24 * 60;

function bad(path: string, message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `config ${path}: ${message}`);
}

function strings(obj: Record<string, unknown>, key: string, path: string, pattern: RegExp, required: boolean): string[] | undefined {
  const value = obj[key];
  if (value === undefined) {
    if (required) throw bad(`${path}.${key}`, 'is required');
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > 256 || !value.every((v) => typeof v === 'string' && pattern.test(v))) {
    throw bad(`${path}.${key}`, `must be a non-empty list of strings matching ${String(pattern)}`);
  }
  return [...new Set(value as string[])];
}

/**
 * Parses `cluster.join` (pass the raw value and its dotted path; relative files resolve against
 * `baseDir`, the config file's directory). Any problem → INVALID_ARGUMENT naming the key.
 */
export function parseJoinConfig(raw: unknown, options: { readonly baseDir: string; readonly path?: string }): JoinConfig {
  const path = options.path ?? 'cluster.join';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(path, 'must be an object');
  const obj = raw as Record<string, unknown>;
  const provider = obj['provider'];
  if (provider === JOIN_TOKEN_PROVIDER) {
    for (const key of Object.keys(obj)) if (key !== 'provider') throw bad(`${path}.${key}`, 'unknown key');
    return Object.freeze({ provider });
  }
  if (provider !== AWS_EC2_PROVIDER) throw bad(`${path}.provider`, `must be one of ${JOIN_TOKEN_PROVIDER}, ${AWS_EC2_PROVIDER}`);
  const allowed = ['provider', 'certificatesFile', 'accountIds', 'regions', 'imageIds', 'roles', 'launchWindowMinutes'];
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) throw bad(`${path}.${key}`, 'unknown key');
  const file = obj['certificatesFile'];
  if (typeof file !== 'string' || file.length === 0 || file.length > 4096) throw bad(`${path}.certificatesFile`, 'must be a non-empty string');
  const certificatesFile = resolve(options.baseDir, file);
  let certificatesPem: string;
  try {
    certificatesPem = readFileSync(certificatesFile, 'utf8');
  } catch {
    throw bad(`${path}.certificatesFile`, `cannot read ${certificatesFile}`);
  }
  try {
    publicKeysFromPem(certificatesPem);
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', `config ${path}.certificatesFile: ${cause instanceof Error ? cause.message : 'unreadable'}`, { cause });
  }
  const window = obj['launchWindowMinutes'] ?? DEFAULT_LAUNCH_WINDOW_MINUTES;
  if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 1 || window > MAX_LAUNCH_WINDOW_MINUTES) {
    throw bad(`${path}.launchWindowMinutes`, `must be an integer from 1 to ${MAX_LAUNCH_WINDOW_MINUTES}`);
  }
  const imageIds = strings(obj, 'imageIds', path, /^ami-[0-9a-f]{8,17}$/, false);
  const roles = strings(obj, 'roles', path, /^[\w+=,.@-]{1,128}$/, false);
  return Object.freeze({
    provider,
    certificatesFile,
    certificatesPem,
    accountIds: Object.freeze(strings(obj, 'accountIds', path, /^[0-9]{12}$/, true) ?? []),
    regions: Object.freeze(strings(obj, 'regions', path, /^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$/, true) ?? []),
    ...(imageIds === undefined ? {} : { imageIds: Object.freeze(imageIds) }),
    ...(roles === undefined ? {} : { roles: Object.freeze(roles) }),
    launchWindowMinutes: window,
  });
}

/** The provider a parsed configuration names, over the node's store and barrier. */
export function createAttestationProvider(config: JoinConfig, parts: { readonly store: Store; readonly barrier: Barrier; readonly clock?: Clock }): AttestationProvider {
  if (config.provider === JOIN_TOKEN_PROVIDER) return new JoinTokenProvider(parts);
  return new AwsEc2Provider({ store: parts.store, barrier: parts.barrier, policy: config });
}
