// The signing service's operations, one method per API route: who may do what in which project,
// uploads and jobs with their background runs, outputs, telemetry and statistics. Every change
// (projects, members, profiles, uploads, submissions, telemetry) and every read of a signed output
// is audited, allowed or not, before it answers; every state a job enters is audited as it is
// entered, with the submitter, the artifact's digest and size. Plain reads of records are not.
import { CofferError, toCofferError, type ErrorCode } from '../../core/errors.ts';
import { systemClock, type AuditEvent, type AuditSink, type Clock } from '../../core/ports.ts';
import { Readable } from 'node:stream';
import type { PkiHash } from '../../pki/pki-signer.ts';
import type { Store } from '../../store/store.ts';
import type { CofferClient, KeyMetadata } from '../../client/index.ts';
import { approvedKeySigner } from '../approved-key-signer.ts';
import { cofferTimeStamper } from '../coffer-time-stamper.ts';
import type { BuildCheckOptions } from '../checks/index.ts';
import { formatSigner, type FormatOptions, type KeySigner } from '../formats/index.ts';
import { DEFAULT_LIST_LIMIT, isJobId, JobPipeline, JobStore, JOB_STATES, MAX_LIST_LIMIT, type JobState, type SigningJob } from '../jobs/index.ts';
import type { SigningProfile } from '../profiles/index.ts';
import { sdkKeySigner } from '../sdk-key-signer.ts';
import { parseStatsQuery, parseTelemetryEvent, SigningStats, telemetryStatsEvent } from '../stats/index.ts';
import type { UploadSource, UploadStore } from '../uploads/index.ts';
import type { ArtifactStore } from '../jobs/index.ts';
import { checkName, ProjectStore, projectNotFound } from './project-store.ts';
import type { JobView, MemberRole, MemberView, ProfileView, SigningProjectView, StatsView, UploadView, WhoAmI } from './signer-api.ts';
import { UploadRecords, type SignerUpload } from './upload-records.ts';
import { HASH_BYTES } from '../../core/crypto/hash-names.ts';
import { nodeHashName } from '../../pki/cms/signed-attributes.ts';

/** Who is calling, as the HTTP layer authenticated them. */
export interface SignerCaller {
  readonly principal: string;
  readonly authenticatedBy: 'certificate' | 'token';
  readonly requestId: string;
}

export interface SigningServiceOptions {
  readonly store: Store;
  readonly uploads: UploadStore;
  readonly artifacts: ArtifactStore;
  /** The service's own Coffer identity: it signs with the keys its profiles name, as any builder would. */
  readonly coffer: CofferClient;
  readonly audit: AuditSink;
  readonly nodeId: string;
  /** Principals who create projects and manage everything but submissions. */
  readonly admins: readonly string[];
  /** Principals who read statistics of every project. */
  readonly auditors?: readonly string[];
  readonly clock?: Clock;
  readonly checkOptions?: BuildCheckOptions;
  /** Jobs run at once (checks and hashing are the heavy part); default 4. */
  readonly concurrency?: number;
  /** How long approvers have for a job's key-use request, in seconds (default Coffer's, 3600). */
  readonly approvalExpiresInSeconds?: number;
  /** A key's details are read from Coffer again after this long (default 30 s). */
  readonly keyCacheMs?: number;
}

const MAX_WAIT_SECONDS = 60;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_KEY_CACHE_MS = 30_000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;
/** The signing uses of a key: only a SIGN_VERIFY key can back a profile. */
const SIGNING_USAGE = 'SIGN_VERIFY';

function denied(message: string): CofferError {
  return new CofferError('ACCESS_DENIED', message);
}

/** A job as the API shows it: without the file's place on the service's disk. */
export function jobView(job: SigningJob): JobView {
  const { path: _path, ...artifact } = job.artifact;
  return { ...job, artifact };
}

function sameApproval(profile: SigningProfile, key: KeyMetadata): boolean {
  const { approval } = profile;
  if (approval === undefined) return key.approval === undefined;
  if (key.approval === undefined || key.approval.threshold !== approval.threshold) return false;
  const listed = [...approval.approvers].sort();
  return listed.length === key.approval.approvers.length && listed.every((name, i) => key.approval?.approvers[i] === name);
}

interface CachedSigner {
  readonly at: number;
  readonly signer: Promise<KeySigner>;
}

export class SigningService {
  readonly projects: ProjectStore;
  readonly jobs: JobStore;
  readonly pipeline: JobPipeline;
  readonly stats: SigningStats;
  readonly #options: SigningServiceOptions;
  readonly #clock: Clock;
  readonly #uploadRecords: UploadRecords;
  readonly #admins: ReadonlySet<string>;
  readonly #auditors: ReadonlySet<string>;
  readonly #signers = new Map<string, CachedSigner>();
  /** Jobs waiting for a free runner, and those running. */
  readonly #queue: string[] = [];
  readonly #running = new Map<string, Promise<void>>();
  /** Callers long-polling a job, woken when it changes. */
  readonly #watchers = new Map<string, Set<() => void>>();
  readonly #stopping = new AbortController();
  #sweepTimer: NodeJS.Timeout | undefined;
  #selfName: Promise<string> | undefined;

  constructor(options: SigningServiceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#admins = new Set(options.admins);
    this.#auditors = new Set(options.auditors ?? []);
    this.projects = new ProjectStore(options.store, this.#clock);
    this.#uploadRecords = new UploadRecords(options.store);
    this.stats = new SigningStats({ store: options.store });
    this.jobs = new JobStore({ store: options.store, clock: this.#clock, observe: (job) => this.#observe(job) });
    this.pipeline = new JobPipeline({
      store: this.jobs, artifacts: options.artifacts, clock: this.#clock,
      profiles: (project, name) => this.projects.profile(project, name),
      keySigner: (profile) => this.#keySigner(profile.key),
      approvedKeySigner: (profile, job, progress) => approvedKeySigner(options.coffer, profile.key, {
        progress, signal: this.#stopping.signal,
        ...(job.keyUseRequestId === undefined ? {} : { existingRequestId: job.keyUseRequestId }),
        ...(options.approvalExpiresInSeconds === undefined ? {} : { expiresInSeconds: options.approvalExpiresInSeconds }),
        metadata: approverMetadata(job),
      }),
      timeStamper: (profile) => {
        const tsa = profile.timeStampKey;
        if (tsa === undefined) return undefined;
        return cofferTimeStamper(options.coffer, tsa);
      },
      ...(options.checkOptions === undefined ? {} : { checkOptions: options.checkOptions }),
    });
  }

  /** Takes up the jobs a previous run left unfinished, and starts the periodic sweeps. */
  async start(): Promise<number> {
    const active = await this.jobs.activeJobIds();
    for (const jobId of active) this.#enqueue(jobId);
    this.#sweepTimer = setInterval(() => {
      void this.#sweep();
    }, SWEEP_EVERY_MS);
    this.#sweepTimer.unref();
    return active.length;
  }

  /** Stops taking jobs; waits on approvals end (those jobs resume on the next start); running steps finish. */
  async close(): Promise<void> {
    this.#stopping.abort();
    clearInterval(this.#sweepTimer);
    this.#queue.length = 0;
    await Promise.allSettled([...this.#running.values()]);
  }

  // ---- identity and projects ----

  async whoami(caller: SignerCaller): Promise<WhoAmI> {
    const memberships = await this.projects.membershipsOf(caller.principal);
    return {
      principal: caller.principal, authenticatedBy: caller.authenticatedBy, admin: this.#admins.has(caller.principal), auditor: this.#auditors.has(caller.principal),
      projects: memberships.map((member) => ({ project: member.project, roles: member.roles })),
    };
  }

  async createProject(caller: SignerCaller, body: { name?: unknown; cofferProject?: unknown; description?: unknown }): Promise<SigningProjectView> {
    return this.#audited(caller, 'signing.project.create', { project: typeof body.name === 'string' ? body.name.slice(0, 64) : undefined }, async () => {
      if (!this.#admins.has(caller.principal)) throw denied('only a signer admin creates signing projects');
      onlyFields(body, ['name', 'cofferProject', 'description']);
      return this.projects.createProject({ name: body.name, cofferProject: body.cofferProject, description: body.description }, caller.principal);
    });
  }

  async listProjects(caller: SignerCaller): Promise<SigningProjectView[]> {
    const all = await this.projects.listProjects();
    if (this.#isOverseer(caller)) return all;
    const mine = new Set((await this.projects.membershipsOf(caller.principal)).map((member) => member.project));
    return all.filter((project) => mine.has(project.name));
  }

  async getProject(caller: SignerCaller, name: string): Promise<SigningProjectView> {
    return (await this.#access(caller, name, 'member')).project;
  }

  async deleteProject(caller: SignerCaller, name: string): Promise<void> {
    await this.#audited(caller, 'signing.project.delete', { project: name }, async () => {
      if (!this.#admins.has(caller.principal)) throw denied('only a signer admin deletes signing projects');
      await this.projects.deleteProject(checkName(name, 'project'));
    });
  }

  async listMembers(caller: SignerCaller, project: string): Promise<MemberView[]> {
    await this.#access(caller, project, 'member');
    return this.projects.listMembers(project);
  }

  async setMember(caller: SignerCaller, project: string, principal: string, body: { roles?: unknown }): Promise<MemberView> {
    return this.#audited(caller, 'signing.member.set', { project, detail: { member: principal.slice(0, 128) } }, async () => {
      await this.#access(caller, project, 'admin');
      onlyFields(body, ['roles']);
      return this.projects.setMember(project, principal, body.roles, caller.principal);
    });
  }

  async removeMember(caller: SignerCaller, project: string, principal: string): Promise<void> {
    await this.#audited(caller, 'signing.member.remove', { project, detail: { member: principal.slice(0, 128) } }, async () => {
      await this.#access(caller, project, 'admin');
      await this.projects.removeMember(project, principal);
    });
  }

  // ---- profiles ----

  async listProfiles(caller: SignerCaller, project: string): Promise<ProfileView[]> {
    await this.#access(caller, project, 'member');
    return this.projects.listProfiles(project);
  }

  async getProfile(caller: SignerCaller, project: string, name: string): Promise<ProfileView> {
    await this.#access(caller, project, 'member');
    return this.projects.profileView(project, name);
  }

  async putProfile(caller: SignerCaller, project: string, name: string, body: unknown): Promise<ProfileView> {
    return this.#audited(caller, 'signing.profile.put', { project, detail: { profile: name.slice(0, 64) } }, async () => {
      const { project: view } = await this.#access(caller, project, 'admin');
      return this.projects.putProfile(project, name, body, caller.principal, (profile) => this.#checkProfileKeys(view, profile));
    });
  }

  async deleteProfile(caller: SignerCaller, project: string, name: string): Promise<void> {
    await this.#audited(caller, 'signing.profile.delete', { project, detail: { profile: name.slice(0, 64) } }, async () => {
      await this.#access(caller, project, 'admin');
      await this.projects.deleteProfile(project, name);
    });
  }

  // ---- uploads ----

  async createUpload(caller: SignerCaller, project: string, body: { profile?: unknown; size?: unknown; fileName?: unknown; metadata?: unknown }): Promise<UploadView> {
    return this.#audited(caller, 'signing.upload.create', { project, detail: { size: typeof body.size === 'number' ? body.size : -1 } }, async () => {
      await this.#access(caller, project, 'submitter');
      onlyFields(body, ['profile', 'size', 'fileName', 'metadata']);
      if (body.metadata === null || body.fileName === null) throw new CofferError('INVALID_ARGUMENT', 'metadata and fileName are left out when there are none, not null');
      const profile = await this.projects.profile(project, checkName(body.profile, 'profile'));
      const { size } = body;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new CofferError('INVALID_ARGUMENT', 'size must be the file\'s size in bytes');
      const format = formatSigner(profile.format);
      if (format.maxFileBytes !== undefined && size > format.maxFileBytes) {
        throw new CofferError('INPUT_TOO_LARGE', `the ${format.format} format signs files of at most ${format.maxFileBytes} bytes`);
      }
      const signer = await this.#keySigner(profile.key);
      const plan = format.hashPlan(signer, this.#planOptions(profile));
      const hashes: PkiHash[] = plan.hash === 'SHA-256' ? ['SHA-256'] : ['SHA-256', plan.hash];
      const status = await this.#options.uploads.create({ expectedSize: size, hashes });
      const upload = await this.#uploadRecords.create({
        uploadId: status.uploadId, project, profile: profile.name, submitter: caller.principal, size, expiresAt: status.expiresAt,
        ...(body.fileName === undefined ? {} : { fileName: body.fileName }), ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
      }).catch(async (error: unknown) => {
        await this.#options.uploads.remove(status.uploadId).catch(() => undefined);
        throw error;
      });
      return uploadView(upload, 0, false);
    });
  }

  async uploadStatus(caller: SignerCaller, uploadId: string): Promise<UploadView> {
    const upload = await this.#ownUpload(caller, uploadId);
    const status = await this.#options.uploads.status(uploadId);
    return uploadView(upload, status.offset, status.complete);
  }

  /** Appends a streamed body at `offset`; the body is drained or destroyed by the caller on refusal. */
  async appendUpload(caller: SignerCaller, uploadId: string, offset: number, source: UploadSource): Promise<UploadView> {
    const known = await this.#uploadRecords.get(uploadId);
    return this.#audited(caller, 'signing.upload.append', { project: known?.project, detail: { uploadId: uploadId.slice(0, 64), offset } }, async () => {
      const upload = ownUpload(caller, known);
      const status = await this.#options.uploads.append(uploadId, offset, source).catch((error: unknown) => {
        // The client went away mid-body: what arrived is kept, and it resumes from the offset it reads back.
        if (!(error instanceof CofferError) && bodyAborted(source)) throw new CofferError('UPLOAD_INCOMPLETE', 'the upload body ended early; read the offset and resume', { cause: error });
        throw error;
      });
      if (status.offset > upload.size) throw new CofferError('INPUT_TOO_LARGE', `upload ${uploadId} was declared as ${upload.size} bytes`);
      return uploadView(upload, status.offset, status.complete);
    });
  }

  async deleteUpload(caller: SignerCaller, uploadId: string): Promise<void> {
    const known = await this.#uploadRecords.get(uploadId);
    await this.#audited(caller, 'signing.upload.delete', { project: known?.project, detail: { uploadId: uploadId.slice(0, 64) } }, async () => {
      ownUpload(caller, known);
      await this.#options.uploads.remove(uploadId);
      await this.#uploadRecords.remove(uploadId);
    });
  }

  // ---- jobs ----

  async submitJob(caller: SignerCaller, project: string, body: Record<string, unknown>): Promise<JobView> {
    const digestField = body['digest'] as { value?: unknown } | undefined;
    const inputDigest = typeof digestField?.value === 'string' && /^[0-9a-fA-F]{64}$/.test(digestField.value) ? digestField.value.toLowerCase() : undefined;
    const profileName = typeof body['profile'] === 'string' ? body['profile'].slice(0, 64) : '(invalid)';
    return this.#audited(caller, 'signing.job.submit', { project, inputDigest, detail: { profile: profileName } }, async () => {
      await this.#access(caller, project, 'submitter');
      const profile = await this.projects.profile(project, checkName(body['profile'], 'profile'));
      const job = body['uploadId'] === undefined ? await this.#submitDigest(caller, profile, body) : await this.#submitUpload(caller, profile, body);
      this.#enqueue(job.jobId);
      return jobView(job);
    });
  }

  /**
   * A page of the project's jobs, newest first: `limit` (1–1000, default 100) jobs in `state` if one
   * is given, after the job `after`; `next` is the cursor for the page after, when there may be one.
   * A state filter reads at most ten pages of jobs for one answer.
   */
  async listJobs(caller: SignerCaller, project: string, query: { limit?: unknown; state?: unknown; after?: unknown }): Promise<{ jobs: JobView[]; next?: string }> {
    await this.#access(caller, project, 'member');
    const limit = query.limit === undefined ? DEFAULT_LIST_LIMIT : Number(query.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new CofferError('INVALID_ARGUMENT', `limit must be from 1 to ${MAX_LIST_LIMIT}`);
    const { state, after } = query;
    if (state !== undefined && !JOB_STATES.includes(state as JobState)) throw new CofferError('INVALID_ARGUMENT', `state must be one of ${JOB_STATES.join(', ')}`);
    if (after !== undefined && !isJobId(after)) throw new CofferError('INVALID_ARGUMENT', 'after must be a job id from an earlier page');
    const found: JobView[] = [];
    let cursor = after;
    for (let read = 0; read < MAX_LIST_LIMIT * 10;) {
      const page = await this.jobs.list(project, { limit, ...(cursor === undefined ? {} : { after: cursor }) });
      for (const job of page) {
        cursor = job.jobId;
        if (state === undefined || job.state === state) found.push(jobView(job));
        if (found.length === limit) return { jobs: found, next: job.jobId };
      }
      if (page.length < limit) return { jobs: found };
      read += page.length;
      if (state !== undefined && read >= limit * 10) break;
    }
    return { jobs: found, ...(cursor === undefined ? {} : { next: cursor }) };
  }

  /** A job; with waitSeconds (≤ 60) the answer waits until the job is signed or failed, or the time is up. */
  async getJob(caller: SignerCaller, jobId: string, waitSeconds = 0): Promise<JobView> {
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > MAX_WAIT_SECONDS) throw new CofferError('INVALID_ARGUMENT', `waitSeconds must be from 0 to ${MAX_WAIT_SECONDS}`);
    let job = await this.#visibleJob(caller, jobId);
    const deadline = Date.now() + waitSeconds * 1000;
    while ((job.state !== 'signed' && job.state !== 'failed') && Date.now() < deadline && !this.#stopping.signal.aborted) {
      await this.#changeOf(jobId, deadline - Date.now());
      job = await this.jobs.get(jobId);
    }
    return jobView(job);
  }

  async jobOutput(caller: SignerCaller, jobId: string): Promise<{ job: JobView; bytes: Buffer }> {
    const job = await this.#visibleJob(caller, jobId);
    const { result } = job;
    if (job.state !== 'signed' || result === undefined) throw new CofferError('SIGNING_JOB_STATE', `signing job ${jobId} is ${job.state}; it has no output`);
    return this.#audited(caller, 'signing.output.read', { project: job.project, inputDigest: result.signatureSha256, detail: { jobId } }, async () => (
      { job: jobView(job), bytes: await this.#options.artifacts.read(result.signatureSha256) }
    ));
  }

  /** The project's jobs whose artifact has this SHA-256. */
  async findByArtifact(caller: SignerCaller, project: string, sha256: string): Promise<JobView[]> {
    await this.#access(caller, project, 'member');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new CofferError('INVALID_DIGEST', 'an artifact is addressed by its SHA-256: 64 lowercase hex digits');
    return (await this.jobs.findByDigest(sha256, project)).map(jobView);
  }

  /** A retained signed output by its SHA-256, if one of the project's jobs produced it. */
  async output(caller: SignerCaller, project: string, sha256: string): Promise<{ bytes: Buffer; mediaType: string; suffix: string }> {
    await this.#access(caller, project, 'member');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new CofferError('INVALID_DIGEST', 'an output is addressed by its SHA-256: 64 lowercase hex digits');
    return this.#audited(caller, 'signing.output.read', { project, inputDigest: sha256 }, async () => {
      // Outputs are shared by digest across projects on disk; a project reads only those its jobs made.
      const made = (await this.jobs.findByOutput(project, sha256))[0];
      if (made?.result === undefined) throw new CofferError('SIGNING_ARTIFACT_NOT_FOUND', `no retained output ${sha256} in project ${project}`);
      return { bytes: await this.#options.artifacts.read(sha256), mediaType: made.result.mediaType, suffix: made.result.suffix };
    });
  }

  // ---- telemetry and statistics ----

  async telemetry(caller: SignerCaller, body: unknown): Promise<void> {
    const named: unknown = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['project'] : undefined;
    const project = typeof named === 'string' ? named.slice(0, 64) : undefined;
    await this.#audited(caller, 'signing.telemetry', { project }, async () => {
      const event = parseTelemetryEvent(body);
      await this.#access(caller, event.project, 'submitter');
      await this.projects.profile(event.project, event.profile);
      await this.stats.record(telemetryStatsEvent(event, this.#clock.now()));
    });
  }

  async statistics(caller: SignerCaller, query: Record<string, unknown>): Promise<StatsView> {
    const parsed = parseStatsQuery(query, this.#clock.now());
    let projects: string[] | undefined;
    if (!this.#isOverseer(caller)) {
      projects = (await this.projects.membershipsOf(caller.principal)).map((member) => member.project);
      if (parsed.project !== undefined && !projects.includes(parsed.project)) throw projectNotFound(parsed.project);
    }
    const { groupBy, from, to, ...filters } = parsed;
    const rows = await this.stats.query({ from, to, ...filters, ...(projects === undefined ? {} : { projects }) }, groupBy);
    return { from, to, groupBy, rows };
  }

  // ---- internals ----

  #isOverseer(caller: SignerCaller): boolean {
    return this.#admins.has(caller.principal) || this.#auditors.has(caller.principal);
  }

  /**
   * The project if the caller may act in it with `role`. Non-members (not admins) are told the
   * project does not exist, so project names do not leak across teams.
   */
  async #access(caller: SignerCaller, name: string, role: MemberRole | 'member'): Promise<{ project: SigningProjectView; member?: MemberView }> {
    const project = await this.projects.findProject(name);
    const admin = this.#admins.has(caller.principal);
    const member = project === undefined ? undefined : await this.projects.member(name, caller.principal);
    // Auditors read every project (jobs, profiles, members, outputs) and change nothing.
    const auditor = this.#auditors.has(caller.principal);
    if (project === undefined || (member === undefined && !admin && !auditor)) throw projectNotFound(name.slice(0, 64));
    const found = { project, ...(member === undefined ? {} : { member }) };
    if (role === 'member') return found;
    // Signer admins manage every project; submitting stays with the project's submitters.
    if (member?.roles.includes(role) === true || (admin && role !== 'submitter')) return found;
    throw denied(`${caller.principal} is not ${role === 'admin' ? 'an admin' : `a ${role}`} of signing project ${name}`);
  }

  async #visibleJob(caller: SignerCaller, jobId: string): Promise<SigningJob> {
    if (!isJobId(jobId)) throw new CofferError('SIGNING_JOB_NOT_FOUND', 'no signing job with this id');
    const job = await this.jobs.get(jobId);
    try {
      await this.#access(caller, job.project, 'member');
    } catch (error) {
      // A job of a project the caller cannot see does not exist for them.
      if (toCofferError(error).code === 'SIGNING_PROJECT_NOT_FOUND') throw new CofferError('SIGNING_JOB_NOT_FOUND', `no signing job ${jobId}`);
      throw error;
    }
    return job;
  }

  async #ownUpload(caller: SignerCaller, uploadId: string): Promise<SignerUpload> {
    return ownUpload(caller, await this.#uploadRecords.get(uploadId));
  }

  async #submitUpload(caller: SignerCaller, profile: SigningProfile, body: Record<string, unknown>): Promise<SigningJob> {
    for (const field of Object.keys(body)) {
      if (field !== 'profile' && field !== 'uploadId') throw new CofferError('INVALID_ARGUMENT', `${field.slice(0, 32)}: an upload's job takes profile and uploadId only (metadata goes with the upload)`);
    }
    const uploadId = body['uploadId'];
    if (typeof uploadId !== 'string') throw new CofferError('INVALID_ARGUMENT', 'uploadId must be the id createUpload returned');
    const upload = await this.#ownUpload(caller, uploadId);
    if (upload.project !== profile.project || upload.profile !== profile.name) {
      throw new CofferError('INVALID_ARGUMENT', `upload ${uploadId} was made for profile ${upload.project}/${upload.profile}`);
    }
    const completed = await this.#options.uploads.complete(uploadId);
    const job = await this.pipeline.submitFile(profile, caller.principal, {
      path: completed.path, size: completed.size, digests: completed.digests, metadata: upload.metadata ?? {},
      ...(upload.fileName === undefined ? {} : { fileName: upload.fileName }),
    });
    // The upload is the job's now: its record goes, its file stays until the job ends.
    await this.#uploadRecords.remove(uploadId);
    return job;
  }

  async #submitDigest(caller: SignerCaller, profile: SigningProfile, body: Record<string, unknown>): Promise<SigningJob> {
    const allowed = new Set(['profile', 'digest', 'size', 'fileName', 'metadata']);
    for (const field of Object.keys(body)) if (!allowed.has(field)) throw new CofferError('INVALID_ARGUMENT', `${field.slice(0, 32)}: unknown field`);
    const digest = body['digest'];
    if (typeof digest !== 'object' || digest === null) throw new CofferError('INVALID_ARGUMENT', 'digest must be {hash, value} or give an uploadId');
    for (const field of Object.keys(digest)) if (field !== 'hash' && field !== 'value') throw new CofferError('INVALID_ARGUMENT', `digest.${field.slice(0, 32)}: unknown field`);
    const { hash, value } = digest as { hash?: unknown; value?: unknown };
    const hashName = hash === 'SHA256' || hash === 'SHA-256' ? 'SHA-256' : hash === 'SHA384' || hash === 'SHA-384' ? 'SHA-384' : hash === 'SHA512' || hash === 'SHA-512' ? 'SHA-512' : undefined;
    if (hashName === undefined) throw new CofferError('INVALID_ARGUMENT', 'digest.hash must be SHA256, SHA384 or SHA512');
    if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(value)) throw new CofferError('INVALID_ARGUMENT', 'digest.value must be hex');
    const expected = HASH_BYTES[nodeHashName(hashName)];
    const bytes = Buffer.from(value, 'hex');
    if (bytes.length !== expected) throw new CofferError('INVALID_DIGEST', `a ${hashName} digest is ${expected} bytes, not ${bytes.length}`);
    const size = body['size'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new CofferError('INVALID_ARGUMENT', 'size must be the file\'s size in bytes');
    if (body['metadata'] === null || body['fileName'] === null) throw new CofferError('INVALID_ARGUMENT', 'metadata and fileName are left out when there are none, not null');
    const metadata = body['metadata'] as Readonly<Record<string, string>> | undefined;
    const fileName = body['fileName'] as string | undefined;
    return this.pipeline.submitDigest(profile, caller.principal, {
      hash: hashName, digest: bytes, size, ...(metadata === undefined ? {} : { metadata }), ...(fileName === undefined ? {} : { fileName }),
    });
  }

  async #checkProfileKeys(project: SigningProjectView, profile: SigningProfile): Promise<void> {
    const key = await this.#describeKey(project, profile.key, 'key');
    if (key.usage !== SIGNING_USAGE) throw new CofferError('SIGNING_PROFILE_KEY_INVALID', `key ${profile.key} is not a signing key (${key.usage})`);
    if (!sameApproval(profile, key)) {
      throw new CofferError('SIGNING_PROFILE_KEY_INVALID', profile.approval === undefined
        ? `key ${profile.key} requires approvals: give the profile the key's approval policy`
        : `the profile's approval must be the key's own policy in Coffer (threshold and approvers), which enforces it`);
    }
    for (const approver of profile.approval?.approvers ?? []) {
      const member = await this.projects.member(project.name, approver);
      if (member?.roles.includes('approver') !== true) throw new CofferError('INVALID_ARGUMENT', `profile.approval.approvers: ${approver} is not an approver of signing project ${project.name}`);
    }
    // The format must be able to use the key (a CMS profile needs a certificate attached to it).
    const signer = await this.#keySigner(profile.key, true);
    const format = formatSigner(profile.format);
    const plan = format.hashPlan(signer, this.#planOptions(profile));
    // A digest of the file alone can only be signed by a format that hashes nothing else and signs beside the file.
    if (profile.allowDigestSubmission && (plan.prefix !== undefined || plan.suffix !== undefined || format.output === 'embedded')) {
      throw new CofferError('INVALID_ARGUMENT', `profile.allowDigestSubmission: the ${format.format} format cannot sign a bare digest; submit files`);
    }
    if (profile.timeStampKey !== undefined) await this.#describeKey(project, profile.timeStampKey, 'timeStampKey');
  }

  /** A key the service can read in Coffer, in the project's Coffer project (isolation: a profile cannot name another team's key). */
  async #describeKey(project: SigningProjectView, ref: string, field: string): Promise<KeyMetadata> {
    let key: KeyMetadata;
    try {
      key = await this.#options.coffer.keys.get(ref);
    } catch (error) {
      const failure = toCofferError(error);
      if (failure.code === 'KEY_NOT_FOUND' || failure.code === 'ACCESS_DENIED') {
        throw new CofferError('SIGNING_PROFILE_KEY_INVALID', `profile.${field}: the signing service cannot use key ${ref} (not found, or not shared with it)`);
      }
      throw failure;
    }
    if (key.project !== project.cofferProject) {
      throw new CofferError('SIGNING_PROFILE_KEY_INVALID', `profile.${field}: key ${ref} is not in Coffer project ${project.cofferProject}`);
    }
    // Seeing a key (a member of its project) is not using it: Coffer lets the owner and shared users sign.
    const self = await this.#self();
    if (key.owner !== self && !key.sharedWith.includes(self)) {
      throw new CofferError('SIGNING_PROFILE_KEY_INVALID', `profile.${field}: key ${ref} is not shared with the signing service (${self}); its owner shares it`);
    }
    return key;
  }

  /** Options for a plan made only to learn the hash (the job's own plan is made when it signs). */
  #planOptions(profile: SigningProfile): FormatOptions {
    return { signingTime: this.#clock.now(), ...(profile.algorithm === undefined ? {} : { algorithm: profile.algorithm }) };
  }

  /** The service's own principal name in Coffer, asked once. */
  async #self(): Promise<string> {
    this.#selfName ??= this.#options.coffer.auth.whoami().then((principal) => principal.name);
    try {
      return await this.#selfName;
    } catch (error) {
      this.#selfName = undefined;
      throw error;
    }
  }

  /** The key's signer, cached briefly (its public key and certificates rarely change; a rotation is caught at sign time). */
  async #keySigner(key: string, fresh = false): Promise<KeySigner> {
    const now = Date.now();
    const cached = this.#signers.get(key);
    if (!fresh && cached !== undefined && now - cached.at < (this.#options.keyCacheMs ?? DEFAULT_KEY_CACHE_MS)) return cached.signer;
    const signer = sdkKeySigner(this.#options.coffer, key);
    this.#signers.set(key, { at: now, signer });
    signer.catch(() => this.#signers.delete(key));
    return signer;
  }

  #enqueue(jobId: string): void {
    if (this.#stopping.signal.aborted || this.#running.has(jobId) || this.#queue.includes(jobId)) return;
    this.#queue.push(jobId);
    this.#pump();
  }

  #pump(): void {
    const limit = this.#options.concurrency ?? DEFAULT_CONCURRENCY;
    while (this.#running.size < limit && this.#queue.length > 0) {
      const jobId = this.#queue.shift();
      if (jobId === undefined) break;
      const run = this.#runJob(jobId).finally(() => {
        this.#running.delete(jobId);
        this.#pump();
      });
      this.#running.set(jobId, run);
    }
  }

  async #runJob(jobId: string): Promise<void> {
    const started = Date.now();
    try {
      const job = await this.pipeline.resume(jobId);
      if (job.state === 'signed' || job.state === 'failed') {
        await this.#finished(job, Date.now() - started);
      }
    } catch (error) {
      // SIGNING_JOB_STATE: the service is stopping (the job resumes on restart) or another run has it.
      const failure = toCofferError(error);
      if (failure.code !== 'SIGNING_JOB_STATE') process.emitWarning(`signing job ${jobId}: ${failure.code}: ${failure.message}`);
    }
  }

  /** A finished job: counted in the statistics, its uploaded file removed (the signed output is retained). */
  async #finished(job: SigningJob, durationMs: number): Promise<void> {
    await this.stats.record({
      at: this.#clock.now(), project: job.project, profile: job.profile, node: this.#options.nodeId, path: 'service',
      outcome: job.state === 'signed' ? 'signed' : 'failed', size: job.artifact.size, durationMs,
    });
    await this.#options.uploads.discard(job.artifact.path);
  }

  async #observe(job: SigningJob): Promise<void> {
    const failed = job.state === 'failed';
    await this.#options.audit.append({
      time: this.#clock.now().toISOString(), principal: job.submitter, operation: `signing.job.${job.state}`,
      outcome: failed ? 'FAILED' : 'ALLOWED', requestId: job.jobId, project: job.project,
      ...(job.artifact.digests['SHA-256'] === undefined ? {} : { inputDigest: job.artifact.digests['SHA-256'] }),
      ...(job.result === undefined ? {} : { keyId: job.result.keyId, keyVersion: job.result.keyVersion }),
      ...(failed && job.failure !== undefined ? { errorCode: job.failure.code } : {}),
      detail: {
        jobId: job.jobId, profile: job.profile, size: job.artifact.size, submission: job.submission,
        ...(job.keyUseRequestId === undefined ? {} : { keyUseRequestId: job.keyUseRequestId }),
        ...(job.failure?.check === undefined ? {} : { check: job.failure.check }),
        ...(job.result === undefined ? {} : { signatureSha256: job.result.signatureSha256 }),
      },
    });
    for (const wake of this.#watchers.get(job.jobId) ?? []) wake();
  }

  async #changeOf(jobId: string, ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const watchers = this.#watchers.get(jobId) ?? new Set<() => void>();
      this.#watchers.set(jobId, watchers);
      const done = (): void => {
        clearTimeout(timer);
        watchers.delete(done);
        if (watchers.size === 0) this.#watchers.delete(jobId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      watchers.add(done);
    });
  }

  async #sweep(): Promise<void> {
    await this.#options.uploads.sweep().catch(() => 0);
    await this.#options.artifacts.sweep().catch(() => 0);
    await this.#uploadRecords.sweep(this.#clock.now()).catch(() => 0);
  }

  /** Runs `run` and audits it, allowed or not, before the answer leaves. */
  async #audited<T>(caller: SignerCaller, operation: string, fields: { project?: string | undefined; inputDigest?: string | undefined; detail?: AuditEvent['detail'] }, run: () => Promise<T>): Promise<T> {
    const base = {
      time: this.#clock.now().toISOString(), principal: caller.principal, operation, requestId: caller.requestId,
      ...(fields.project === undefined ? {} : { project: fields.project }), ...(fields.inputDigest === undefined ? {} : { inputDigest: fields.inputDigest }),
      ...(fields.detail === undefined ? {} : { detail: fields.detail }),
    };
    let result: T;
    try {
      result = await run();
    } catch (error) {
      const failure = toCofferError(error);
      const refused: readonly ErrorCode[] = ['ACCESS_DENIED', 'SIGNING_PROJECT_NOT_FOUND'];
      await this.#options.audit.append({ ...base, outcome: refused.includes(failure.code) ? 'DENIED' : 'FAILED', errorCode: failure.code });
      throw failure;
    }
    await this.#options.audit.append({ ...base, outcome: 'ALLOWED' });
    return result;
  }
}

/** The upload record if it is the caller's: uploads are their submitter's alone until they become a job. */
function ownUpload(caller: SignerCaller, upload: SignerUpload | undefined): SignerUpload {
  if (upload === undefined || upload.submitter !== caller.principal) throw new CofferError('UPLOAD_NOT_FOUND', 'no upload with this id');
  return upload;
}

function bodyAborted(source: UploadSource): boolean {
  return source instanceof Readable && (source.readableAborted || source.destroyed);
}

/** Unknown fields are mistakes (a mistyped one must not be dropped silently). */
function onlyFields(body: object, allowed: readonly string[]): void {
  for (const field of Object.keys(body)) if (!allowed.includes(field)) throw new CofferError('INVALID_ARGUMENT', `${field.slice(0, 32)}: unknown field`);
}

/** What the approvers see beside the digest they approve: the job and its artifact. */
function approverMetadata(job: SigningJob): Record<string, string> {
  return {
    signingJob: job.jobId, project: job.project, profile: job.profile, submitter: job.submitter.slice(0, 1024),
    artifactSize: String(job.artifact.size),
    ...(job.artifact.digests['SHA-256'] === undefined ? {} : { artifactSha256: job.artifact.digests['SHA-256'] }),
    ...(job.artifact.fileName === undefined ? {} : { fileName: job.artifact.fileName }),
  };
}

function uploadView(upload: SignerUpload, offset: number, complete: boolean): UploadView {
  return { uploadId: upload.uploadId, project: upload.project, profile: upload.profile, offset, size: upload.size, complete, expiresAt: upload.expiresAt };
}

