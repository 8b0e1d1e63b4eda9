// Runs signing jobs through their fixed sequence: checks → approval (when the profile asks) → hash
// under the format's plan → sign in the module → retain the output. Every part that reaches outside
// (the key signer, the approval gate, the time-stamper, the profile lookup) is injected.
import { CofferError, toCofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import { hashArtifact } from '../artifact-hash.ts';
import { buildCheck, runChecks, type ArtifactDigests, type BuildCheckOptions, type CheckResult } from '../checks/index.ts';
import { formatSigner, type ArtifactDigest, type CmsOptions, type HashPlan, type KeySigner } from '../formats/index.ts';
import type { SigningProfile } from '../profiles/index.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { isJobId, jobNotFound, type JobPatch, type JobResult, type SigningJob } from './job-record.ts';
import type { JobStore } from './job-store.ts';
import { digestArtifact, digestOnlyArtifact, fileArtifact, newJob, type DigestSubmission, type FileSubmission } from './job-submission.ts';

const DAY_MS = 86_400_000;
/** retentionDays 0 keeps the output only this long: time for the builder to collect the job's answer. */
export const ANSWER_WINDOW_MS = 60 * 60 * 1000;
/** Check kinds that read the file: a digest submission has none, so they are skipped and recorded as such. */
const FILE_CHECK_KINDS: readonly string[] = ['fileType', 'command'];

export interface JobPipelineOptions {
  readonly store: JobStore;
  readonly artifacts: ArtifactStore;
  /** The profile a job was submitted under, looked up again when it runs; if the lookup throws, the job fails with its code. */
  readonly profiles: (project: string, name: string) => Promise<SigningProfile>;
  readonly keySigner: (profile: SigningProfile) => Promise<KeySigner>;
  /** Resolves once approved; rejects (APPROVAL_REJECTED, APPROVAL_EXPIRED…) to fail the job. */
  readonly approvalGate?: (job: SigningJob, profile: SigningProfile) => Promise<void>;
  /** An RFC 3161 time-stamper for the profile's CMS signatures, if it has one. */
  readonly timeStamper?: (profile: SigningProfile) => ((signature: Buffer) => Promise<Buffer>) | undefined;
  readonly checkOptions?: BuildCheckOptions;
  readonly clock?: Clock;
}

function digestBuffers(digests: SigningJob['artifact']['digests']): ArtifactDigests {
  const buffers: ArtifactDigests = {};
  for (const [hash, hex] of Object.entries(digests) as [keyof ArtifactDigests, string][]) buffers[hash] = Buffer.from(hex, 'hex');
  return buffers;
}

export class JobPipeline {
  readonly #options: JobPipelineOptions;
  readonly #clock: Clock;
  /** Jobs this pipeline is running: a second run() of one is refused rather than queued. */
  readonly #running = new Set<string>();

  constructor(options: JobPipelineOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** A job for a completed upload, in state `checking`; run() drives it. */
  async submitFile(profile: SigningProfile, submitter: string, upload: FileSubmission): Promise<SigningJob> {
    return this.#options.store.create(newJob(profile, submitter, 'file', fileArtifact(upload), this.#clock.now()));
  }

  /**
   * A job for a builder's digest: SIGNING_DIGEST_NOT_ALLOWED unless the profile allows it and its
   * format signs the file's digest alone; INVALID_DIGEST unless the digest is of the plan's hash.
   */
  async submitDigest(profile: SigningProfile, submitter: string, submission: DigestSubmission): Promise<SigningJob> {
    if (!profile.allowDigestSubmission) throw new CofferError('SIGNING_DIGEST_NOT_ALLOWED', `profile ${profile.name} takes files only`);
    const metadata = submission.metadata ?? {};
    const { plan } = await this.#plan(profile, metadata);
    return this.#options.store.create(newJob(profile, submitter, 'digest', digestArtifact(submission, plan), this.#clock.now()));
  }

  /**
   * Runs a new job to its end and returns it, signed or failed (a failure is recorded, not thrown).
   * SIGNING_JOB_STATE when the job is not new or is already running.
   */
  async run(jobId: string): Promise<SigningJob> {
    if (!isJobId(jobId)) throw jobNotFound(jobId);
    if (this.#running.has(jobId)) throw new CofferError('SIGNING_JOB_STATE', `signing job ${jobId} is already running`);
    this.#running.add(jobId);
    try {
      return await this.#drive(jobId);
    } finally {
      this.#running.delete(jobId);
    }
  }

  async #drive(jobId: string): Promise<SigningJob> {
    const { store } = this.#options;
    let job = await store.get(jobId);
    if (job.state !== 'checking') throw new CofferError('SIGNING_JOB_STATE', `signing job ${jobId} is ${job.state}; only a new job runs`);
    try {
      const profile = await this.#options.profiles(job.project, job.profile);
      const { patch, failed } = await this.#check(job, profile);
      if (failed !== undefined) {
        return await store.transition(jobId, 'checking', 'failed', { ...patch, failure: { code: 'SIGNING_CHECK_FAILED', message: `check ${failed.name} refused the artifact`, check: failed.name } });
      }
      if (profile.approval === undefined) {
        job = await store.transition(jobId, 'checking', 'signing', patch);
      } else {
        job = await store.transition(jobId, 'checking', 'awaiting-approval', patch);
        const gate = this.#options.approvalGate;
        // Fail closed: a profile that demands approval is never signed without a gate to ask.
        if (gate === undefined) throw new CofferError('APPROVAL_REQUIRED', `profile ${profile.name} requires approval and no approval gate is configured`);
        await gate(job, profile);
        job = await store.transition(jobId, 'awaiting-approval', 'signing');
      }
      return await store.transition(jobId, 'signing', 'signed', { result: await this.#sign(job, profile) });
    } catch (error) {
      const failure = toCofferError(error);
      // Another run moved the job: its outcome is that run's to record.
      if (failure.code === 'SIGNING_JOB_STATE') throw failure;
      return store.transition(jobId, job.state, 'failed', { failure: { code: failure.code, message: failure.message } });
    }
  }

  /** Runs the profile's checks; on a digest submission only those that need no file, naming the rest. */
  async #check(job: SigningJob, profile: SigningProfile): Promise<{ patch: JobPatch; failed?: CheckResult | undefined }> {
    const checks = profile.checks.map((spec) => buildCheck(spec, this.#options.checkOptions));
    const digest = job.submission === 'digest';
    const runnable = digest ? checks.filter((check) => !FILE_CHECK_KINDS.includes(check.kind)) : checks;
    const skipped = digest ? checks.filter((check) => FILE_CHECK_KINDS.includes(check.kind)).map((check) => check.name) : [];
    const { artifact } = job;
    const outcome = await runChecks(runnable, {
      // A digest submission has no file; the checks that would read one were filtered out above.
      path: artifact.path ?? '', size: artifact.size, digests: digestBuffers(artifact.digests), metadata: artifact.metadata,
      submitter: job.submitter, project: job.project, profile: job.profile,
    });
    const patch: JobPatch = { checks: outcome.results, ...(digest ? { skippedChecks: skipped } : {}) };
    return outcome.passed ? { patch } : { patch, failed: outcome.results.at(-1) };
  }

  async #plan(profile: SigningProfile, metadata: Readonly<Record<string, string>>): Promise<{ signer: KeySigner; plan: HashPlan; options: CmsOptions }> {
    const signer = await this.#options.keySigner(profile);
    const timeStamp = this.#options.timeStamper?.(profile);
    const options: CmsOptions = {
      metadata, ...(profile.algorithm === undefined ? {} : { algorithm: profile.algorithm }), ...(timeStamp === undefined ? {} : { timeStamp }),
    };
    return { signer, plan: formatSigner(profile.format).hashPlan(signer, options), options };
  }

  async #sign(job: SigningJob, profile: SigningProfile): Promise<JobResult> {
    const { signer, plan, options } = await this.#plan(profile, job.artifact.metadata);
    const format = formatSigner(profile.format);
    const output = await format.sign(await this.#digest(job, plan), signer, options);
    const keepMs = profile.retentionDays === 0 ? ANSWER_WINDOW_MS : profile.retentionDays * DAY_MS;
    const stored = await this.#options.artifacts.put(output.bytes, new Date(this.#clock.now().getTime() + keepMs));
    return {
      format: format.format, algorithm: output.algorithm, keyId: signer.keyId, keyVersion: signer.keyVersion, mediaType: output.mediaType,
      suffix: output.suffix, signatureSha256: stored.sha256, size: stored.size, retainedUntil: stored.retainedUntil,
    };
  }

  /** The artifact under `plan`: the upload's digest when it is the plan's hash and nothing is prefixed, else the file re-hashed. */
  async #digest(job: SigningJob, plan: HashPlan): Promise<ArtifactDigest> {
    const { artifact } = job;
    const known = artifact.digests[plan.hash];
    if (job.submission === 'digest') {
      // The key behind the profile may have changed since submission: the digest must still fit.
      const [hash, hex] = Object.entries(artifact.digests)[0] ?? [plan.hash, ''];
      return digestOnlyArtifact(plan, hash as typeof plan.hash, Buffer.from(hex, 'hex'), artifact.size);
    }
    if (plan.prefix === undefined && known !== undefined) return { hash: plan.hash, digest: Buffer.from(known, 'hex'), size: artifact.size };
    if (artifact.path === undefined) throw new CofferError('STORE_CORRUPT', `signing job ${job.jobId} has no file`);
    // The file is read again: it must still be the one the checks passed and the job records.
    const [recordedHash, recordedHex] = Object.entries(artifact.digests)[0] ?? [];
    if (recordedHash === undefined || recordedHex === undefined) throw new CofferError('STORE_CORRUPT', `signing job ${job.jobId} records no digest of its file`);
    const hashed = await hashArtifact(plan, artifact.path, recordedHash as HashPlan['hash']);
    if (hashed.size !== artifact.size || hashed.also.toString('hex') !== recordedHex) {
      throw new CofferError('STORE_CORRUPT', `the file of signing job ${job.jobId} changed after it was submitted`);
    }
    return { hash: hashed.hash, digest: hashed.digest, size: hashed.size };
  }
}
