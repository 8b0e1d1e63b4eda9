// The command-line shapes of the signing commands: roles, hashes, digests, sizes, job and stats
// queries, parsed from options into SDK requests. Pure (no I/O), so every rule is tested without a service.
import {
  JOB_STATES, MEMBER_ROLES, STATS_DIMENSIONS, type JobState, type ListJobsQuery, type MemberRole, type PkiHash, type StatsDimension, type StatsQuery, type SubmitJobRequest,
} from '../../signing/client/index.ts';
import type { Args } from '../args.ts';
import { parseInteger } from '../args.ts';
import { UsageError } from '../command.ts';
import { commaList } from './pki-arguments.ts';

/** The service's list limit (jobs newest first). */
export const MAX_JOB_LIST_LIMIT = 1000;
/** The longest --wait / --timeout: a day, as long as an approval may take. */
export const MAX_WAIT_SECONDS = 86_400;
/** Digest lengths in bytes by hash: a short digest would be signed as if it were whole. */
const DIGEST_BYTES: Readonly<Record<PkiHash, number>> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `--roles admin,submitter`: each one of MEMBER_ROLES, at least one. */
export function memberRolesOf(args: Args): MemberRole[] {
  const roles = commaList(args, 'roles');
  if (roles === undefined) throw new UsageError(`--roles is required (comma-separated: ${MEMBER_ROLES.join(', ')})`);
  return roles.map((role) => {
    const found = MEMBER_ROLES.find((known) => known === role);
    if (found === undefined) throw new UsageError(`--roles takes ${MEMBER_ROLES.join(', ')}, not ${JSON.stringify(role)}`);
    return found;
  });
}

/** `--hash`: SHA256, SHA-256, sha384… (default SHA-256). */
export function hashOf(args: Args): PkiHash {
  const text = args.string('hash') ?? 'SHA-256';
  const match = /^sha-?(256|384|512)$/i.exec(text);
  if (match === null) throw new UsageError('--hash is SHA256, SHA384 or SHA512');
  return `SHA-${match[1] ?? ''}` as PkiHash;
}

/** A byte count up to 2^53 - 1 (artifacts of many GB). */
export function sizeOf(args: Args, name = 'size'): number {
  const text = args.required(name);
  const size = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(size)) throw new UsageError(`--${name} is a number of bytes`);
  return size;
}

/** The body of a digest submission from --digest, --hash, --size, --file-name and --meta. */
export function digestSubmissionOf(args: Args, profile: string): SubmitJobRequest {
  const hash = hashOf(args);
  const value = args.required('digest');
  if (!/^[0-9a-fA-F]*$/.test(value) || value.length !== DIGEST_BYTES[hash] * 2) throw new UsageError(`--digest is the ${hash} digest in hex (${DIGEST_BYTES[hash] * 2} digits)`);
  const fileName = args.string('file-name');
  const metadata = args.map('meta');
  return {
    profile, digest: { hash, value: value.toLowerCase() }, size: sizeOf(args),
    ...(fileName === undefined ? {} : { fileName }), ...(metadata === undefined ? {} : { metadata }),
  };
}

/** --wait (a flag) with --timeout S (default 600): how long to wait, or undefined for no wait. */
export function waitOf(args: Args, defaultSeconds = 600): number | undefined {
  const timeout = args.integer('timeout', 0, MAX_WAIT_SECONDS);
  if (!args.flag('wait')) {
    if (timeout !== undefined) throw new UsageError('--timeout goes with --wait');
    return undefined;
  }
  return timeout ?? defaultSeconds;
}

export function jobStateOf(text: string | undefined): JobState | undefined {
  if (text === undefined) return undefined;
  const found = JOB_STATES.find((state) => state === text);
  if (found === undefined) throw new UsageError(`--state is one of ${JOB_STATES.join(', ')}`);
  return found;
}

export function listJobsQueryOf(args: Args): ListJobsQuery {
  const limit = args.integer('limit', 1, MAX_JOB_LIST_LIMIT);
  const state = jobStateOf(args.string('state'));
  return { ...(limit === undefined ? {} : { limit }), ...(state === undefined ? {} : { state }) };
}

function dateOf(args: Args, name: string): string | undefined {
  const value = args.string(name);
  if (value !== undefined && (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))) throw new UsageError(`--${name} is a date, YYYY-MM-DD`);
  return value;
}

function oneOf<T extends string>(args: Args, name: string, values: readonly T[]): T | undefined {
  const value = args.string(name);
  if (value === undefined) return undefined;
  const found = values.find((known) => known === value);
  if (found === undefined) throw new UsageError(`--${name} is one of ${values.join(', ')}`);
  return found;
}

export function statsQueryOf(args: Args): StatsQuery {
  const from = dateOf(args, 'from');
  const to = dateOf(args, 'to');
  const project = args.string('project');
  const profile = args.string('profile');
  const path = oneOf(args, 'path', ['service', 'direct'] as const);
  const outcome = oneOf(args, 'outcome', ['signed', 'failed'] as const);
  const groupBy = commaList(args, 'group-by')?.map((name): StatsDimension => {
    const found = STATS_DIMENSIONS.find((known) => known === name);
    if (found === undefined) throw new UsageError(`--group-by takes ${STATS_DIMENSIONS.join(', ')}, not ${JSON.stringify(name)}`);
    return found;
  });
  return {
    ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), ...(project === undefined ? {} : { project }),
    ...(profile === undefined ? {} : { profile }), ...(path === undefined ? {} : { path }), ...(outcome === undefined ? {} : { outcome }),
    ...(groupBy === undefined ? {} : { groupBy }),
  };
}

/** `job show --wait S`: seconds to long-poll, up to a day. */
export function jobWaitOf(args: Args): number | undefined {
  const value = args.string('wait');
  return value === undefined ? undefined : parseInteger(value, '--wait', 0, MAX_WAIT_SECONDS);
}
