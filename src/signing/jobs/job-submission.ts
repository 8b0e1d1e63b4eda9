// What a builder submits (a completed upload, or a bare digest), checked and turned into a new job record.
import { randomUUID } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';
import { checkArtifactDigest } from '../formats/algorithm-choice.ts';
import type { ArtifactDigest, HashPlan } from '../formats/index.ts';
import type { SigningProfile } from '../profiles/index.ts';
import { checkMetadata } from '../uploads/upload-record.ts';
import { checkProject, type JobArtifact, type JobSubmission, type SigningJob } from './job-record.ts';

/** A completed upload, as UploadStore.complete() returns it, with the builder's labels. */
export interface FileSubmission {
  readonly path: string;
  readonly size: number;
  readonly digests: Readonly<Partial<Record<PkiHash, Buffer>>>;
  readonly fileName?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A digest the builder computed itself, where the profile allows it. */
export interface DigestSubmission {
  readonly hash: PkiHash;
  readonly digest: Buffer;
  readonly size: number;
  readonly fileName?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

const MAX_FILE_NAME_LENGTH = 255;
const MAX_SUBMITTER_LENGTH = 256;

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

function checkSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid('size must be an integer from 0');
  return size;
}

/** Each digest must have its hash's length: a short one would be signed as if it were whole. */
function hexDigests(digests: FileSubmission['digests'], size: number): Partial<Record<PkiHash, string>> {
  const hex: Partial<Record<PkiHash, string>> = {};
  for (const [hash, digest] of Object.entries(digests) as [PkiHash, Buffer][]) {
    checkArtifactDigest({ hash, digest, size }, hash);
    hex[hash] = digest.toString('hex');
  }
  return hex;
}

/**
 * The artifact a digest submission signs, if the format's plan allows it: a plan with a prefix or a
 * suffix (a JWS signing input starts with its header; an OpenPGP trailer follows the data) needs the
 * file itself, so no digest of the file alone can do.
 */
export function digestOnlyArtifact(plan: HashPlan, hash: PkiHash, digest: Buffer, size: number): ArtifactDigest {
  if (plan.prefix !== undefined || plan.suffix !== undefined) throw new CofferError('SIGNING_DIGEST_NOT_ALLOWED', 'this format hashes more than the file: submit the file');
  const artifact = { hash, digest, size };
  checkArtifactDigest(artifact, plan.hash);
  return artifact;
}

function checkFileName(fileName: unknown): string | undefined {
  if (fileName !== undefined && (typeof fileName !== 'string' || fileName.length === 0 || fileName.length > MAX_FILE_NAME_LENGTH || /[\u0000-\u001f\u007f/\\]/.test(fileName))) {
    throw invalid(`fileName must be 1 to ${MAX_FILE_NAME_LENGTH} characters, without control characters or slashes`);
  }
  return fileName;
}

export function fileArtifact(submission: FileSubmission): JobArtifact {
  if (typeof submission.path !== 'string' || submission.path.length === 0) throw invalid('the upload path is missing');
  const size = checkSize(submission.size);
  const fileName = checkFileName(submission.fileName);
  return {
    size, digests: hexDigests(submission.digests, size), metadata: checkMetadata(submission.metadata ?? {}), path: submission.path,
    ...(fileName === undefined ? {} : { fileName }),
  };
}

export function digestArtifact(submission: DigestSubmission, plan: HashPlan): JobArtifact {
  const size = checkSize(submission.size);
  digestOnlyArtifact(plan, submission.hash, submission.digest, size);
  const fileName = checkFileName(submission.fileName);
  return {
    size, digests: { [submission.hash]: submission.digest.toString('hex') }, metadata: checkMetadata(submission.metadata ?? {}),
    ...(fileName === undefined ? {} : { fileName }),
  };
}

/** A new job in its first state, `checking`. */
export function newJob(profile: SigningProfile, submitter: string, submission: JobSubmission, artifact: JobArtifact, now: Date): SigningJob {
  if (typeof submitter !== 'string' || submitter.length === 0 || submitter.length > MAX_SUBMITTER_LENGTH) throw invalid('submitter must be a principal name');
  const at = now.toISOString();
  return {
    jobId: randomUUID(), project: checkProject(profile.project), profile: profile.name, submitter, state: 'checking', submission, artifact,
    history: [{ state: 'checking', at }], createdAt: at, updatedAt: at,
  };
}
