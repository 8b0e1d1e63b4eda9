// A signing job as stored: its shape, the legal state transitions, the store keys, and the id checks
// that run before any key is built.
import { CofferError } from '../../core/errors.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';
import type { CheckResult } from '../checks/index.ts';

export type JobState = 'checking' | 'awaiting-approval' | 'signing' | 'signed' | 'failed';
export type JobSubmission = 'file' | 'digest';

export interface JobArtifact {
  readonly size: number;
  /** Hex digests by hash: what the upload computed, or the one digest a builder submitted. */
  readonly digests: Readonly<Partial<Record<PkiHash, string>>>;
  readonly fileName?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The uploaded file on the service's disk (file submissions): internal, never part of an API answer. */
  readonly path?: string;
}

export interface JobFailure {
  readonly code: string;
  readonly message: string;
  /** The name of the check that refused the artifact (SIGNING_CHECK_FAILED). */
  readonly check?: string;
}

export interface JobResult {
  readonly format: string;
  readonly algorithm: string;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly mediaType: string;
  readonly suffix: string;
  /** The signed output's SHA-256 (hex): its address in the ArtifactStore. */
  readonly signatureSha256: string;
  /** The signed output's size in bytes. */
  readonly size: number;
  readonly retainedUntil: string;
}

export interface SigningJob {
  readonly jobId: string;
  readonly project: string;
  readonly profile: string;
  readonly submitter: string;
  readonly state: JobState;
  readonly submission: JobSubmission;
  readonly artifact: JobArtifact;
  /** Every state entered, in order, with its time (ISO 8601). */
  readonly history: readonly { readonly state: JobState; readonly at: string }[];
  readonly checks?: readonly CheckResult[];
  /** Checks of the profile that need the file and were not run on a digest submission. */
  readonly skippedChecks?: readonly string[];
  /** The Coffer key-use request the job waits on (profiles with approval), once made. */
  readonly keyUseRequestId?: string;
  readonly failure?: JobFailure;
  readonly result?: JobResult;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a transition may add to the job besides its state. */
export type JobPatch = Partial<Pick<SigningJob, 'checks' | 'skippedChecks' | 'keyUseRequestId' | 'failure' | 'result'>>;

export const JOB_STATES: readonly JobState[] = ['checking', 'awaiting-approval', 'signing', 'signed', 'failed'];

/** The only moves a job makes; signed and failed are final. */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  'checking': ['awaiting-approval', 'signing', 'failed'],
  'awaiting-approval': ['signing', 'failed'],
  'signing': ['signed', 'failed'],
  'signed': [],
  'failed': [],
};

export const JOB_PREFIX = 'signing/job/';
export const DIGEST_INDEX_PREFIX = 'signing/job-by-digest/';
export const PROJECT_INDEX_PREFIX = 'signing/job-by-project/';
/** signing/job-by-output/<project>/<output sha256>/<jobId>: which of a project's jobs made a retained output. */
export const OUTPUT_INDEX_PREFIX = 'signing/job-by-output/';
/** One empty entry per job not yet signed or failed: what a restarted service resumes. */
export const ACTIVE_INDEX_PREFIX = 'signing/job-active/';
export const FINAL_STATES: readonly JobState[] = ['signed', 'failed'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** The profile's project-name rule: no '/', so a name cannot reach into another key range. */
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Newest first in key order: the index holds this minus the creation time, zero-padded. */
const LATEST_MS = 9_999_999_999_999;

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

export function jobNotFound(jobId: unknown): CofferError {
  return new CofferError('SIGNING_JOB_NOT_FOUND', `no signing job ${isJobId(jobId) ? jobId : '(malformed id)'}`);
}

export function checkProject(project: unknown): string {
  if (typeof project !== 'string' || !PROJECT.test(project)) throw new CofferError('INVALID_ARGUMENT', 'project must be a project name');
  return project;
}

export function checkSha256Hex(value: unknown): string {
  if (!isSha256Hex(value)) throw new CofferError('INVALID_ARGUMENT', 'a SHA-256 digest is 64 lowercase hex digits');
  return value;
}

export function jobKey(jobId: string): string {
  if (!isJobId(jobId)) throw jobNotFound(jobId);
  return `${JOB_PREFIX}${jobId}`;
}

export function outputIndexKey(project: string, sha256hex: string, jobId: string): string {
  return `${OUTPUT_INDEX_PREFIX}${checkProject(project)}/${checkSha256Hex(sha256hex)}/${jobKey(jobId).slice(JOB_PREFIX.length)}`;
}

export function activeIndexKey(jobId: string): string {
  return `${ACTIVE_INDEX_PREFIX}${jobKey(jobId).slice(JOB_PREFIX.length)}`;
}

export function digestIndexKey(sha256hex: string, jobId: string): string {
  return `${DIGEST_INDEX_PREFIX}${checkSha256Hex(sha256hex)}/${jobKey(jobId).slice(JOB_PREFIX.length)}`;
}

export function projectIndexKey(job: Pick<SigningJob, 'project' | 'createdAt' | 'jobId'>): string {
  const age = String(LATEST_MS - Date.parse(job.createdAt)).padStart(13, '0');
  return `${PROJECT_INDEX_PREFIX}${checkProject(job.project)}/${age}/${jobKey(job.jobId).slice(JOB_PREFIX.length)}`;
}

export function encodeJob(job: SigningJob): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(job));
}

/** A stored job, shape-checked: the service's database is its own, so anything off is STORE_CORRUPT. */
export function decodeJob(jobId: string, bytes: Uint8Array): SigningJob {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new CofferError('STORE_CORRUPT', `the record of signing job ${jobId} is not JSON`, { cause: error });
  }
  const job = value as Partial<SigningJob> | null;
  if (typeof job !== 'object' || job === null || job.jobId !== jobId || !JOB_STATES.includes(job.state as JobState) || !Array.isArray(job.history)) {
    throw new CofferError('STORE_CORRUPT', `the record of signing job ${jobId} is malformed`);
  }
  return job as SigningJob;
}
