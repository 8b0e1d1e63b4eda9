// Signing jobs in a Store: one record per job plus two indexes (by artifact SHA-256, by project newest
// first), every write compare-and-set so a job moves through its states exactly once.
import { systemClock, type Clock } from '../../core/ports.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { Store, StoreWrite } from '../../store/store.ts';
import {
  activeIndexKey, ACTIVE_INDEX_PREFIX, checkProject, outputIndexKey, OUTPUT_INDEX_PREFIX, checkSha256Hex, decodeJob, FINAL_STATES, digestIndexKey, DIGEST_INDEX_PREFIX, encodeJob, jobKey, jobNotFound, PROJECT_INDEX_PREFIX,
  projectIndexKey, TRANSITIONS, type JobPatch, type JobState, type SigningJob,
} from './job-record.ts';

/** A transition re-reads and retries this often when another writer got there first, then gives up. */
const CONFLICT_RETRIES = 5;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export interface JobStoreOptions {
  readonly store: Store;
  readonly clock?: Clock;
  /** Told of every job created and every state entered, after the commit; awaited (the service audits each step here). */
  readonly observe?: (job: SigningJob) => Promise<void>;
}

export interface ListJobsOptions {
  /** The last job id of the previous page. */
  readonly after?: string;
  readonly limit?: number;
}

export class JobStore {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #observe: ((job: SigningJob) => Promise<void>) | undefined;

  constructor(options: JobStoreOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#observe = options.observe;
  }

  /** Stores a new job and its indexes in one commit (STORE_CONFLICT if the id exists). */
  async create(job: SigningJob): Promise<SigningJob> {
    const sha256 = job.artifact.digests['SHA-256'];
    const writes: StoreWrite[] = [
      { op: 'put', key: jobKey(job.jobId), value: encodeJob(job), expectVersion: 0 },
      { op: 'put', key: projectIndexKey(job), value: new Uint8Array(), expectVersion: 0 },
      { op: 'put', key: activeIndexKey(job.jobId), value: new Uint8Array(), expectVersion: 0 },
    ];
    if (sha256 !== undefined) writes.push({ op: 'put', key: digestIndexKey(sha256, job.jobId), value: new Uint8Array(), expectVersion: 0 });
    await this.#store.commit(writes);
    await this.#observe?.(job);
    return job;
  }

  async get(jobId: string): Promise<SigningJob> {
    const entry = await this.#store.get(jobKey(jobId));
    if (entry === undefined) throw jobNotFound(jobId);
    return decodeJob(jobId, entry.value);
  }

  /** A project's jobs, newest first, a page at a time. */
  async list(project: string, options: ListJobsOptions = {}): Promise<SigningJob[]> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new CofferError('INVALID_ARGUMENT', `limit must be from 1 to ${MAX_LIST_LIMIT}`);
    const prefix = `${PROJECT_INDEX_PREFIX}${checkProject(project)}/`;
    let after: string | undefined;
    if (options.after !== undefined) {
      const last = await this.get(options.after);
      if (last.project !== project) throw jobNotFound(options.after);
      after = projectIndexKey(last);
    }
    const entries = await this.#store.list(prefix, { limit, ...(after === undefined ? {} : { after }) });
    return this.#jobsOf(entries.map((entry) => entry.key));
  }

  /** The jobs whose artifact had this SHA-256 (hex), newest first; only `project`'s when one is given. */
  async findByDigest(sha256hex: string, project?: string): Promise<SigningJob[]> {
    const entries = await this.#store.list(`${DIGEST_INDEX_PREFIX}${checkSha256Hex(sha256hex)}/`);
    const jobs = await this.#jobsOf(entries.map((entry) => entry.key));
    return jobs.filter((job) => project === undefined || job.project === project).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** The project's jobs that made the signed output with this SHA-256 (outputs are shared by digest on disk, not across projects). */
  async findByOutput(project: string, sha256hex: string): Promise<SigningJob[]> {
    const entries = await this.#store.list(`${OUTPUT_INDEX_PREFIX}${checkProject(project)}/${checkSha256Hex(sha256hex)}/`);
    return this.#jobsOf(entries.map((entry) => entry.key));
  }

  /**
   * Moves the job from `from` to `to`, adding `patch` and a history entry. SIGNING_JOB_STATE when the
   * move is not in TRANSITIONS or the job is no longer in `from` (another run moved it).
   */
  async transition(jobId: string, from: JobState, to: JobState, patch: JobPatch = {}): Promise<SigningJob> {
    if (!TRANSITIONS[from].includes(to)) throw new CofferError('SIGNING_JOB_STATE', `a signing job cannot go from ${from} to ${to}`);
    const next = await this.#update(jobId, (job) => {
      if (job.state !== from) throw new CofferError('SIGNING_JOB_STATE', `signing job ${jobId} is ${job.state}, not ${from}`);
      const at = this.#clock.now().toISOString();
      const moved: SigningJob = { ...job, ...patch, state: to, history: [...job.history, { state: to, at }], updatedAt: at };
      const writes: StoreWrite[] = [];
      if (FINAL_STATES.includes(to)) writes.push({ op: 'delete', key: activeIndexKey(jobId) });
      if (moved.result !== undefined && job.result === undefined) writes.push({ op: 'put', key: outputIndexKey(job.project, moved.result.signatureSha256, jobId), value: new Uint8Array() });
      return { next: moved, writes };
    });
    await this.#observe?.(next);
    return next;
  }

  /**
   * Records the Coffer key-use request a job awaiting approval waits on (compare-and-set; the job
   * must still be awaiting approval, SIGNING_JOB_STATE otherwise).
   */
  async noteKeyUseRequest(jobId: string, requestId: string): Promise<SigningJob> {
    return this.#update(jobId, (job) => {
      if (job.state !== 'awaiting-approval') throw new CofferError('SIGNING_JOB_STATE', `signing job ${jobId} is ${job.state}, not awaiting approval`);
      return { next: { ...job, keyUseRequestId: requestId, updatedAt: this.#clock.now().toISOString() }, writes: [] };
    });
  }

  /**
   * Compare-and-set on one job record: `change` decides from the stored job (throwing to refuse) and
   * names any other writes of the same commit. When another writer got there first the job is re-read,
   * and `change` decides again, up to CONFLICT_RETRIES times.
   */
  async #update(jobId: string, change: (job: SigningJob) => { next: SigningJob; writes: StoreWrite[] }): Promise<SigningJob> {
    const key = jobKey(jobId);
    for (let attempt = 0; ; attempt++) {
      const entry = await this.#store.get(key);
      if (entry === undefined) throw jobNotFound(jobId);
      const { next, writes } = change(decodeJob(jobId, entry.value));
      try {
        await this.#store.commit([{ op: 'put', key, value: encodeJob(next), expectVersion: entry.version }, ...writes]);
        return next;
      } catch (error) {
        if (!isCofferError(error, 'STORE_CONFLICT') || attempt >= CONFLICT_RETRIES) throw error;
      }
    }
  }

  /** Ids of jobs not yet signed or failed, oldest index order: what a restarted service picks up again. */
  async activeJobIds(): Promise<string[]> {
    const entries = await this.#store.list(ACTIVE_INDEX_PREFIX);
    return entries.map((entry) => entry.key.slice(ACTIVE_INDEX_PREFIX.length));
  }

  /** Jobs named by index keys (their last segment is the job id); ones deleted meanwhile are skipped. */
  async #jobsOf(indexKeys: readonly string[]): Promise<SigningJob[]> {
    const jobs: SigningJob[] = [];
    for (const key of indexKeys) {
      const jobId = key.slice(key.lastIndexOf('/') + 1);
      const entry = await this.#store.get(jobKey(jobId));
      if (entry !== undefined) jobs.push(decodeJob(jobId, entry.value));
    }
    return jobs;
  }
}
