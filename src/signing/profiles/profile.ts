// A signing profile: what the service does with a project's submissions — which format, which Coffer
// key, which checks run first, whose approval is needed, whether a bare digest may be submitted, and
// how long signed artifacts are kept. Parsed strictly from JSON (unknown keys are errors).
import { CofferError } from '../../core/errors.ts';
import { parseCheckSpecs, type CheckSpec } from '../checks/index.ts';
import { FORMAT_NAMES } from '../formats/index.ts';

/** M of the listed approvers, through Coffer's key-use approvals (the key's own policy enforces it). */
export interface ProfileApproval {
  readonly threshold: number;
  readonly approvers: readonly string[];
}

export interface SigningProfile {
  readonly project: string;
  readonly name: string;
  /** A format of src/signing/formats (raw, cms, jws, openpgp, authenticode, jar). */
  readonly format: string;
  /** The Coffer key: `project/name` or its id. Its attached certificate is used where the format needs one. */
  readonly key: string;
  /** One of the key's signature algorithms, when not the format's default. */
  readonly algorithm?: string;
  /** A Coffer key with a time-stamping certificate: CMS-based signatures (cms, authenticode, jar) get an RFC 3161 token from it. */
  readonly timeStampKey?: string;
  readonly checks: readonly CheckSpec[];
  readonly approval?: ProfileApproval;
  /** Whether a builder may submit a digest instead of the file (no file checks can run then). */
  readonly allowDigestSubmission: boolean;
  /** Days signed artifacts and signatures are kept; 0: not kept past the job's answer. */
  readonly retentionDays: number;
  readonly description?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEY_REF = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9][A-Za-z0-9._-]{0,127}\/[A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;
const FIELDS = new Set(['project', 'name', 'format', 'key', 'algorithm', 'timeStampKey', 'checks', 'approval', 'allowDigestSubmission', 'retentionDays', 'description']);
export const MAX_RETENTION_DAYS = 3650;
/** Formats whose CMS signature can carry an RFC 3161 time-stamp token. */
export const TIME_STAMPED_FORMATS: readonly string[] = ['cms', 'authenticode', 'jar'];
export const MAX_APPROVERS = 20;

function bad(field: string, message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', `profile.${field}: ${message}`);
}

function text(raw: Record<string, unknown>, field: string, pattern: RegExp, what: string): string {
  const value = raw[field];
  if (typeof value !== 'string' || !pattern.test(value)) throw bad(field, `must be ${what}`);
  return value;
}

function approvalOf(value: unknown): ProfileApproval | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('approval', 'must be {threshold, approvers}');
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (key !== 'threshold' && key !== 'approvers') throw bad(`approval.${key}`, 'unknown field');
  const listed: unknown = raw['approvers'];
  const approvers = Array.isArray(listed) ? listed.filter((a): a is string => typeof a === 'string' && NAME.test(a)) : [];
  if (!Array.isArray(listed) || approvers.length !== listed.length || approvers.length === 0 || approvers.length > MAX_APPROVERS) {
    throw bad('approval.approvers', `must be 1 to ${MAX_APPROVERS} principal names`);
  }
  if (new Set(approvers).size !== approvers.length) throw bad('approval.approvers', 'names an approver twice');
  const threshold = raw['threshold'];
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1 || threshold > approvers.length) {
    throw bad('approval.threshold', `must be a whole number from 1 to ${approvers.length}`);
  }
  return { threshold, approvers };
}

/** A profile from JSON, every field checked (INVALID_ARGUMENT naming the field). */
export function parseProfile(value: unknown): SigningProfile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CofferError('INVALID_ARGUMENT', 'a profile must be a JSON object');
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (!FIELDS.has(key)) throw bad(key, 'unknown field');
  const format = raw['format'];
  if (typeof format !== 'string' || !FORMAT_NAMES.includes(format)) throw bad('format', `must be one of ${FORMAT_NAMES.join(', ')}`);
  const algorithm = raw['algorithm'];
  if (algorithm !== undefined && (typeof algorithm !== 'string' || !/^[A-Z0-9_]{1,64}$/.test(algorithm))) throw bad('algorithm', 'must be an algorithm name such as RSASSA_PSS_SHA_256');
  const timeStampKey = raw['timeStampKey'] === undefined ? undefined : text(raw, 'timeStampKey', KEY_REF, 'a key id or project/name');
  if (timeStampKey !== undefined && !TIME_STAMPED_FORMATS.includes(format)) throw bad('timeStampKey', `applies to the ${TIME_STAMPED_FORMATS.join(', ')} formats only`);
  const allow = raw['allowDigestSubmission'] === undefined ? false : raw['allowDigestSubmission'];
  if (typeof allow !== 'boolean') throw bad('allowDigestSubmission', 'must be true or false');
  const retention = raw['retentionDays'] === undefined ? 90 : raw['retentionDays'];
  if (typeof retention !== 'number' || !Number.isInteger(retention) || retention < 0 || retention > MAX_RETENTION_DAYS) {
    throw bad('retentionDays', `must be a whole number from 0 to ${MAX_RETENTION_DAYS}`);
  }
  const description = raw['description'];
  if (description !== undefined && (typeof description !== 'string' || description.length > 1024)) throw bad('description', 'must be text of at most 1024 characters');
  const approval = approvalOf(raw['approval']);
  return {
    project: text(raw, 'project', NAME, 'a project name'),
    name: text(raw, 'name', NAME, '1 to 64 of A-Z a-z 0-9 . _ - starting with a letter or digit'),
    format,
    key: text(raw, 'key', KEY_REF, 'a key id or project/name'),
    ...(algorithm === undefined ? {} : { algorithm: algorithm }),
    ...(timeStampKey === undefined ? {} : { timeStampKey }),
    checks: parseCheckSpecs(raw['checks'] === undefined ? [] : raw['checks'], 'profile.checks'),
    ...(approval === undefined ? {} : { approval }),
    allowDigestSubmission: allow,
    retentionDays: retention,
    ...(description === undefined ? {} : { description: description }),
  };
}
