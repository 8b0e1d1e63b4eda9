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

/** What an approved signer tells the pipeline: the request the approvers see, then that they approved. */
export interface ApprovalProgress {
  requested(requestId: string): Promise<void>;
  approved(): Promise<void>;
}

export interface JobPipelineOptions {
  readonly store: JobStore;
  readonly artifacts: ArtifactStore;
  /** The profile a job was submitted under, looked up again when it runs; if the lookup throws, the job fails with its code. */
  readonly profiles: (project: string, name: string) => Promise<SigningProfile>;
  readonly keySigner: (profile: SigningProfile) => Promise<KeySigner>;
  /**
   * For profiles with `approval`: a signer whose sign() asks the approvers (through Coffer's key-use
   * requests), reports the request it made, and resolves once they approved. It rejects
   * (APPROVAL_REJECTED, APPROVAL_EXPIRED…) to fail the job. Without one such profiles fail closed.
   */
  readonly approvedKeySigner?: (profile: SigningProfile, job: SigningJob, progress: ApprovalProgress) => Promise<KeySigner>;
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

/**
 * The time a job's signature records: when it began to wait for approval (so the structure the
 * approvers were asked about is rebuilt byte for byte after a restart), else when it began signing.
 */
function signingTimeOf(job: SigningJob, clock: Clock): Date {
  const began = job.history.find((entry) => entry.state === 'awaiting-approval') ?? job.history.find((entry) => entry.state === 'signing');
  return began === undefined ? clock.now() : new Date(began.at);
}

/** The first digest a file job recorded at submission, to check the file against when it is read again. */
function recordedDigest(job: SigningJob): { hash: HashPlan['hash']; hex: string } {
  const [hash, hex] = Object.entries(job.artifact.digests)[0] ?? [];
  if (hash === undefined || hex === undefined) throw new CofferError('STORE_CORRUPT', `signing job ${job.jobId} records no digest of its file`);
  return { hash: hash as HashPlan['hash'], hex };
}

/** STORE_CORRUPT when the file read again is not the one the job recorded (size and digest). */
function unchanged(job: SigningJob, size: number, digest: Buffer, recordedHex: string): void {
  if (size !== job.artifact.size || digest.toString('hex') !== recordedHex) {
    throw new CofferError('STORE_CORRUPT', `the file of signing job ${job.jobId} changed after it was submitted`);
  }
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
    if (formatSigner(profile.format).output === 'embedded') throw new CofferError('SIGNING_DIGEST_NOT_ALLOWED', `format ${profile.format} signs inside the file: submit the file`);
    const metadata = submission.metadata ?? {};
    const { plan } = await this.#plan(profile, metadata, undefined, this.#clock.now());
    return this.#options.store.create(newJob(profile, submitter, 'digest', digestArtifact(submission, plan), this.#clock.now()));
  }

  /**
   * Runs a new job to its end and returns it, signed or failed (a failure is recorded, not thrown).
   * SIGNING_JOB_STATE when the job is not new or is already running.
   */
  async run(jobId: string): Promise<SigningJob> {
    return this.#exclusive(jobId, () => this.#drive(jobId));
  }

  /**
   * Takes up a job a stopped service left unfinished: one still checking or signing is run again
   * from its checks (nothing was signed that counts); one awaiting approval waits again on the
   * key-use request it made, so the approvers are not asked twice. A final job is returned as it is.
   */
  async resume(jobId: string): Promise<SigningJob> {
    return this.#exclusive(jobId, async () => {
      const job = await this.#options.store.get(jobId);
      if (job.state === 'signed' || job.state === 'failed') return job;
      if (job.state === 'checking') return this.#drive(jobId);
      // Signing or awaiting approval: sign again; an approval profile waits on the request it already made.
      return this.#finish(jobId, job.state, async () => this.#signed(job, await this.#options.profiles(job.project, job.profile)));
    });
  }

  async #exclusive(jobId: string, run: () => Promise<SigningJob>): Promise<SigningJob> {
    if (!isJobId(jobId)) throw jobNotFound(jobId);
    if (this.#running.has(jobId)) throw new CofferError('SIGNING_JOB_STATE', `signing job ${jobId} is already running`);
    this.#running.add(jobId);
    try {
      return await run();
    } finally {
      this.#running.delete(jobId);
    }
  }

  async #drive(jobId: string): Promise<SigningJob> {
    const { store } = this.#options;
    const job = await store.get(jobId);
    if (job.state !== 'checking') throw new CofferError('SIGNING_JOB_STATE', `signing job ${jobId} is ${job.state}; only a new job runs`);
    return this.#finish(jobId, 'checking', async () => {
      const profile = await this.#options.profiles(job.project, job.profile);
      const { patch, failed } = await this.#check(job, profile);
      if (failed !== undefined) {
        return store.transition(jobId, 'checking', 'failed', { ...patch, failure: { code: 'SIGNING_CHECK_FAILED', message: `check ${failed.name} refused the artifact`, check: failed.name } });
      }
      const next = await store.transition(jobId, 'checking', profile.approval === undefined ? 'signing' : 'awaiting-approval', patch);
      return this.#signed(next, profile);
    });
  }

  /** Runs `step`; a failure is recorded on the job in whatever state it reached (the step's own transitions move it). */
  async #finish(jobId: string, startState: SigningJob['state'], step: () => Promise<SigningJob>): Promise<SigningJob> {
    const { store } = this.#options;
    try {
      return await step();
    } catch (error) {
      const failure = toCofferError(error);
      // Another run moved the job: its outcome is that run's to record.
      if (failure.code === 'SIGNING_JOB_STATE') throw failure;
      const current = await store.get(jobId).catch(() => undefined);
      const from = current?.state ?? startState;
      if (from === 'signed' || from === 'failed') return current ?? store.get(jobId);
      return store.transition(jobId, from, 'failed', { failure: { code: failure.code, message: failure.message } });
    }
  }

  /** Signs a job in `signing` or `awaiting-approval` (through the approvers when the profile demands them) and records the result. */
  async #signed(job: SigningJob, profile: SigningProfile): Promise<SigningJob> {
    const { store } = this.#options;
    if (profile.approval === undefined) {
      if (job.state !== 'signing') throw new CofferError('SIGNING_JOB_STATE', `signing job ${job.jobId} is ${job.state}, not signing`);
      return store.transition(job.jobId, 'signing', 'signed', { result: await this.#sign(job, profile, await this.#options.keySigner(profile)) });
    }
    const approved = this.#options.approvedKeySigner;
    // Fail closed: a profile that demands approval is never signed without a way to ask the approvers.
    if (approved === undefined) throw new CofferError('APPROVAL_REQUIRED', `profile ${profile.name} requires approval and no approval signer is configured`);
    let state = job.state;
    const signer = await approved(profile, job, {
      requested: async (requestId) => {
        await store.noteKeyUseRequest(job.jobId, requestId);
      },
      approved: async () => {
        if (state === 'awaiting-approval') state = (await store.transition(job.jobId, 'awaiting-approval', 'signing')).state;
      },
    });
    const result = await this.#sign(job, profile, signer);
    // The approved signer reports approval before it returns a signature; anything else fails closed.
    if (state !== 'signing') throw new CofferError('APPROVAL_REQUIRED', `signing job ${job.jobId} was signed without its approval being reported`);
    return store.transition(job.jobId, 'signing', 'signed', { result });
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

  async #plan(profile: SigningProfile, metadata: Readonly<Record<string, string>>, given?: KeySigner, signingTime?: Date): Promise<{ signer: KeySigner; plan: HashPlan; options: CmsOptions }> {
    const signer = given ?? await this.#options.keySigner(profile);
    const timeStamp = this.#options.timeStamper?.(profile);
    const options: CmsOptions = {
      metadata, ...(profile.algorithm === undefined ? {} : { algorithm: profile.algorithm }), ...(timeStamp === undefined ? {} : { timeStamp }),
      ...(signingTime === undefined ? {} : { signingTime }),
    };
    return { signer, plan: formatSigner(profile.format).hashPlan(signer, options), options };
  }

  /** Signs under the format: detached formats from the digest, embedded ones from the file. */
  async #sign(job: SigningJob, profile: SigningProfile, keySigner: KeySigner): Promise<JobResult> {
    const format = formatSigner(profile.format);
    const { signer, plan, options } = await this.#plan(profile, job.artifact.metadata, keySigner, signingTimeOf(job, this.#clock));
    const output = format.signFile === undefined ? await format.sign(await this.#digest(job, plan), signer, options) : await format.signFile(await this.#checkedFile(job), signer, options);
    const keepMs = profile.retentionDays === 0 ? ANSWER_WINDOW_MS : profile.retentionDays * DAY_MS;
    const stored = await this.#options.artifacts.put(output.bytes, new Date(this.#clock.now().getTime() + keepMs));
    return {
      format: format.format, algorithm: output.algorithm, keyId: signer.keyId, keyVersion: signer.keyVersion, mediaType: output.mediaType,
      suffix: output.suffix, signatureSha256: stored.sha256, size: stored.size, retainedUntil: stored.retainedUntil,
    };
  }

  /** An embedded format's input: the job's file, checked to be still the one it recorded (size and digest). */
  async #checkedFile(job: SigningJob): Promise<string> {
    const { artifact } = job;
    if (job.submission !== 'file' || artifact.path === undefined) throw new CofferError('SIGNING_DIGEST_NOT_ALLOWED', `format ${job.profile} signs inside the file: submit the file`);
    const recorded = recordedDigest(job);
    const hashed = await hashArtifact({ hash: recorded.hash }, artifact.path);
    unchanged(job, hashed.size, hashed.digest, recorded.hex);
    return artifact.path;
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
    if (plan.prefix === undefined && plan.suffix === undefined && known !== undefined) return { hash: plan.hash, digest: Buffer.from(known, 'hex'), size: artifact.size };
    if (artifact.path === undefined) throw new CofferError('STORE_CORRUPT', `signing job ${job.jobId} has no file`);
    // The file is read again: it must still be the one the checks passed and the job records.
    const recorded = recordedDigest(job);
    const hashed = await hashArtifact(plan, artifact.path, recorded.hash);
    unchanged(job, hashed.size, hashed.also, recorded.hex);
    return { hash: hashed.hash, digest: hashed.digest, size: hashed.size };
  }
}
