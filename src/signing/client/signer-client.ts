// SignerClient: the typed SDK over the signing service's API (../service/signer-api.ts): one method
// per route, plus uploadFile (streamed, resumed from the server's offset after a failure) and signFile.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CofferError } from '../../core/errors.ts';
import { CofferApiError, type PemSource } from '../../client/index.ts';
import { checkClientIdentity, loadPem } from '../../client/credentials.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';
import type { JobState } from '../jobs/index.ts';
import type { ParsedStatsQuery } from '../stats/index.ts';
import {
  SIGNING_API_PREFIX, type JobView, type MemberRole, type MemberView, type ProfileView, type SigningProjectView, type StatsView,
  type TelemetryEvent, type UploadView, type WhoAmI,
} from '../service/signer-api.ts';
import { SignerTransport, type RawAnswer } from './signer-transport.ts';

/** File reads for uploads: large enough that TLS records, not reads, set the pace. */
const UPLOAD_READ_BYTES = 1024 * 1024;

export interface SignerClientOptions {
  /** The signing service's base URL, e.g. https://signer.example:9443 (https only). */
  readonly url: string;
  /** CA that issued the service's certificate (PEM text or a file path); default: the system store. */
  readonly ca?: PemSource;
  /** Client certificate and its key for mutual TLS (PEM text or file paths). */
  readonly cert?: PemSource;
  readonly key?: PemSource;
  /** A bearer token from Coffer's login, instead of a client certificate. */
  readonly token?: string;
  /** Deadline for a JSON call; for a streamed upload or download, the longest idle time (default 30 s). */
  readonly timeoutMs?: number;
}

export interface CreateProjectRequest {
  readonly name: string;
  readonly cofferProject?: string;
  readonly description?: string;
}

export interface CreateUploadRequest {
  readonly profile: string;
  readonly size: number;
  readonly fileName?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export type SubmitJobRequest =
  | { readonly profile: string; readonly uploadId: string }
  | {
    readonly profile: string;
    readonly digest: { readonly hash: PkiHash; readonly value: string };
    readonly size: number;
    readonly fileName?: string;
    readonly metadata?: Readonly<Record<string, string>>;
  };

export interface ListJobsQuery {
  readonly limit?: number;
  readonly state?: JobState;
}

/** GET /stats's query: the service's parsed query, every field optional (the service fills in the range and grouping). */
export type StatsQuery = Partial<ParsedStatsQuery>;

/** A signed output as the service sends it; its bytes are checked against the SHA-256 it names. */
export interface SignedOutput {
  readonly bytes: Buffer;
  readonly mediaType: string;
  /** What to append to the artifact's name (e.g. `.sig`); empty when the service names none. */
  readonly suffix: string;
  readonly sha256: string;
}

export interface AppendOptions {
  /** The number of bytes the source yields (sent as Content-Length); unknown: chunked. */
  readonly length?: number;
  /** Called with the bytes sent by this append so far. */
  readonly onSent?: (sent: number) => void;
}

export interface UploadFileOptions {
  /** The name the job records (default: the file's own name). */
  readonly fileName?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Called as bytes go out: `sent` is where the upload stands (it can step back after a resume). */
  readonly onProgress?: (sent: number, total: number) => void;
  /** Failed appends in a row, without the server's offset advancing, before giving up (default 5). */
  readonly retries?: number;
}

export interface SignFileOptions extends UploadFileOptions {
  /** Wait up to this many seconds for the job to be signed or failed (default: return at once). */
  readonly waitSeconds?: number;
}

/** A request that takes longer than this is waiting on something that will not come. */
export const DEFAULT_SIGNER_TIMEOUT_MS = 30_000;
export const DEFAULT_UPLOAD_RETRIES = 5;
/** The service's longest long-poll (GET /jobs/:id?waitSeconds=0..60). */
export const MAX_WAIT_SECONDS = 60;
/** The shortest time between two job polls. */
const MIN_POLL_INTERVAL_MS = 500;
const FINAL_STATES: ReadonlySet<JobState> = new Set(['signed', 'failed']);
/** First pause before a resume; doubled each failure in a row, up to the cap. */
const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 5_000;
const RESUMABLE_CODES: ReadonlySet<string> = new Set(['UPLOAD_OFFSET_MISMATCH', 'UPLOAD_IN_PROGRESS', 'CLIENT_UNAVAILABLE', 'CLIENT_TIMEOUT']);

function segment(value: string): string {
  if (value === '') throw new CofferError('INVALID_ARGUMENT', 'an empty name or id cannot be part of a path');
  return encodeURIComponent(value);
}

/** The answer, checked to be a JSON object; its fields are the service's (the SDK trusts its shapes, as CofferClient does). */
function objectAnswer(value: unknown, what: string): object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CofferError('CLIENT_PROTOCOL_ERROR', `the ${what} answer is not a JSON object`);
  return value;
}

/** The list in `{[field]: [...]}`. */
function listAnswer(value: unknown, field: string): unknown[] {
  const list = (objectAnswer(value, field) as Record<string, unknown>)[field];
  if (!Array.isArray(list)) throw new CofferError('CLIENT_PROTOCOL_ERROR', `the answer has no ${field} list`);
  return list;
}

/** A failure that resuming can get past: the network, the server (5xx), or a wrong or busy offset. */
export function isResumable(error: unknown): boolean {
  if (!(error instanceof CofferError)) return false;
  if (error instanceof CofferApiError && error.httpStatus >= 500) return true;
  return RESUMABLE_CODES.has(error.code);
}

function header(answer: RawAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** The output's bytes must hash to the SHA-256 the service names (and the caller asked for). */
function signedOutput(answer: RawAnswer, expectedSha256?: string): SignedOutput {
  const sha256 = createHash('sha256').update(answer.body).digest('hex');
  const named = header(answer, 'x-coffer-sha256')?.toLowerCase() ?? expectedSha256?.toLowerCase();
  if (named === undefined || named !== sha256 || (expectedSha256 !== undefined && expectedSha256.toLowerCase() !== sha256)) {
    throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the signed output does not match its SHA-256');
  }
  return { bytes: answer.body, mediaType: header(answer, 'content-type') ?? 'application/octet-stream', suffix: header(answer, 'x-coffer-suffix') ?? '', sha256 };
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CofferError('INVALID_ARGUMENT', `${path} is not a regular file`);
    return info.size;
  } catch (error) {
    if (error instanceof CofferError) throw error;
    throw new CofferError('INVALID_ARGUMENT', `cannot read ${path}`, { cause: error });
  }
}

export class SignerClient {
  readonly #http: SignerTransport;

  constructor(options: SignerClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (error) {
      throw new CofferError('INVALID_ARGUMENT', `not a URL: ${JSON.stringify(options.url.slice(0, 200))}`, { cause: error });
    }
    // The API is only ever served over TLS: a plain-http URL is a mistake, not a choice.
    if (url.protocol !== 'https:') throw new CofferError('INVALID_ARGUMENT', `the signer URL must be https://, not ${url.protocol}//`);
    const timeoutMs = options.timeoutMs ?? DEFAULT_SIGNER_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new CofferError('INVALID_ARGUMENT', 'timeoutMs must be a positive integer');
    if ((options.cert === undefined) !== (options.key === undefined)) throw new CofferError('INVALID_ARGUMENT', 'a client certificate needs its key, and a key its certificate');
    const cert = loadPem(options.cert, 'client certificate');
    const key = loadPem(options.key, 'client key');
    if (cert !== undefined && key !== undefined) checkClientIdentity(cert, key);
    this.#http = new SignerTransport({ url, ca: loadPem(options.ca, 'CA'), cert, key, token: options.token, timeoutMs });
  }

  get url(): string {
    return this.#http.url;
  }

  async health(): Promise<{ status: string; node: string }> {
    return objectAnswer(await this.#http.json('GET', `${SIGNING_API_PREFIX}/health`), 'health') as { status: string; node: string };
  }

  async whoami(): Promise<WhoAmI> {
    return objectAnswer(await this.#http.json('GET', `${SIGNING_API_PREFIX}/whoami`), 'whoami') as WhoAmI;
  }

  async createProject(request: CreateProjectRequest): Promise<SigningProjectView> {
    return objectAnswer(await this.#http.json('POST', `${SIGNING_API_PREFIX}/projects`, { json: request }), 'project') as SigningProjectView;
  }

  async listProjects(): Promise<SigningProjectView[]> {
    return listAnswer(await this.#http.json('GET', `${SIGNING_API_PREFIX}/projects`), 'projects') as SigningProjectView[];
  }

  async getProject(project: string): Promise<SigningProjectView> {
    return objectAnswer(await this.#http.json('GET', this.#project(project)), 'project') as SigningProjectView;
  }

  async deleteProject(project: string): Promise<void> {
    await this.#http.json('DELETE', this.#project(project));
  }

  async listMembers(project: string): Promise<MemberView[]> {
    return listAnswer(await this.#http.json('GET', `${this.#project(project)}/members`), 'members') as MemberView[];
  }

  async setMember(project: string, principal: string, roles: readonly MemberRole[]): Promise<MemberView> {
    return objectAnswer(await this.#http.json('PUT', `${this.#project(project)}/members/${segment(principal)}`, { json: { roles } }), 'member') as MemberView;
  }

  async removeMember(project: string, principal: string): Promise<void> {
    await this.#http.json('DELETE', `${this.#project(project)}/members/${segment(principal)}`);
  }

  async listProfiles(project: string): Promise<ProfileView[]> {
    return listAnswer(await this.#http.json('GET', `${this.#project(project)}/profiles`), 'profiles') as ProfileView[];
  }

  /** Creates or replaces a profile: `profile` is its JSON (parseProfile's fields but project and name). */
  async putProfile(project: string, name: string, profile: Readonly<Record<string, unknown>>): Promise<ProfileView> {
    return objectAnswer(await this.#http.json('PUT', `${this.#project(project)}/profiles/${segment(name)}`, { json: profile }), 'profile') as ProfileView;
  }

  async getProfile(project: string, name: string): Promise<ProfileView> {
    return objectAnswer(await this.#http.json('GET', `${this.#project(project)}/profiles/${segment(name)}`), 'profile') as ProfileView;
  }

  async deleteProfile(project: string, name: string): Promise<void> {
    await this.#http.json('DELETE', `${this.#project(project)}/profiles/${segment(name)}`);
  }

  async createUpload(project: string, request: CreateUploadRequest): Promise<UploadView> {
    return objectAnswer(await this.#http.json('POST', `${this.#project(project)}/uploads`, { json: request }), 'upload') as UploadView;
  }

  /** The upload as the service holds it: `offset` is where the next append must start. */
  async uploadStatus(uploadId: string): Promise<UploadView> {
    return objectAnswer(await this.#http.json('GET', this.#upload(uploadId)), 'upload') as UploadView;
  }

  /**
   * Appends the source's bytes at `offset`, streamed as they are read (never held whole). The
   * service refuses an offset other than its own with UPLOAD_OFFSET_MISMATCH.
   */
  async appendUpload(uploadId: string, offset: number, source: Readable | AsyncIterable<Uint8Array>, options: AppendOptions = {}): Promise<UploadView> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new CofferError('INVALID_ARGUMENT', 'offset must be an integer from 0');
    const answer = await this.#http.json('PATCH', this.#upload(uploadId), {
      headers: { 'upload-offset': String(offset) },
      stream: { source, contentType: 'application/offset+octet-stream', length: options.length, onSent: options.onSent },
    });
    return objectAnswer(answer, 'upload') as UploadView;
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await this.#http.json('DELETE', this.#upload(uploadId));
  }

  /** Starts a job for a completed upload or a digest; it runs in the background (poll with getJob or waitForJob). */
  async submitJob(project: string, request: SubmitJobRequest): Promise<JobView> {
    return objectAnswer(await this.#http.json('POST', `${this.#project(project)}/jobs`, { json: request }), 'job') as JobView;
  }

  /** The project's jobs, newest first. */
  async listJobs(project: string, query: ListJobsQuery = {}): Promise<JobView[]> {
    return (await this.listJobsPage(project, query)).jobs;
  }

  /** A page of jobs, newest first, and the cursor (`after`) for the next page when there may be one. */
  async listJobsPage(project: string, query: ListJobsQuery & { after?: string } = {}): Promise<{ jobs: JobView[]; next?: string }> {
    const answer = await this.#http.json('GET', `${this.#project(project)}/jobs`, { query: { limit: query.limit, state: query.state, after: query.after } });
    const jobs = listAnswer(answer, 'jobs') as JobView[];
    const next = (answer as { next?: unknown }).next;
    return { jobs, ...(typeof next === 'string' ? { next } : {}) };
  }

  /** The job; with waitSeconds (0 to 60) the service answers when it is final or the wait is over. */
  async getJob(jobId: string, options: { waitSeconds?: number } = {}): Promise<JobView> {
    const wait = options.waitSeconds;
    if (wait !== undefined && (!Number.isSafeInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS)) {
      throw new CofferError('INVALID_ARGUMENT', `waitSeconds must be an integer from 0 to ${MAX_WAIT_SECONDS}`);
    }
    // The deadline covers the long-poll itself on top of an ordinary call.
    const deadlineMs = this.#http.timeoutMs + (wait ?? 0) * 1000;
    return objectAnswer(await this.#http.json('GET', this.#job(jobId), { query: { waitSeconds: wait }, deadlineMs }), 'job') as JobView;
  }

  /** Long-polls until the job is signed or failed, or timeoutSeconds have passed: the last view either way. */
  async waitForJob(jobId: string, timeoutSeconds: number): Promise<JobView> {
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) throw new CofferError('INVALID_ARGUMENT', 'timeoutSeconds must be 0 or more');
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const remaining = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      const asked = Date.now();
      const job = await this.getJob(jobId, { waitSeconds: Math.min(MAX_WAIT_SECONDS, remaining) });
      if (FINAL_STATES.has(job.state) || Date.now() >= deadline) return job;
      // A service that answers at once instead of long-polling is asked again after a pause, not in a tight loop.
      const early = MIN_POLL_INTERVAL_MS - (Date.now() - asked);
      if (early > 0) await sleep(Math.min(early, Math.max(0, deadline - Date.now())));
    }
  }

  /** A signed job's output, checked against the SHA-256 the service names. */
  async jobOutput(jobId: string): Promise<SignedOutput> {
    return signedOutput(await this.#http.raw('GET', `${this.#job(jobId)}/output`));
  }

  /** The jobs of the artifact with this SHA-256 (hex). */
  async findByArtifact(project: string, sha256: string): Promise<JobView[]> {
    return listAnswer(await this.#http.json('GET', `${this.#project(project)}/artifacts/${segment(sha256)}`), 'jobs') as JobView[];
  }

  /** A retained signed output by its own SHA-256 (hex), checked to hash to it. */
  async output(project: string, sha256: string): Promise<SignedOutput> {
    return signedOutput(await this.#http.raw('GET', `${this.#project(project)}/outputs/${segment(sha256)}`), sha256);
  }

  /** Reports a signature a builder made through Coffer directly (direct mode). */
  async sendTelemetry(event: TelemetryEvent): Promise<void> {
    await this.#http.json('POST', `${SIGNING_API_PREFIX}/telemetry`, { json: event });
  }

  async stats(query: StatsQuery = {}): Promise<StatsView> {
    const { groupBy, ...filters } = query;
    return objectAnswer(await this.#http.json('GET', `${SIGNING_API_PREFIX}/stats`, {
      query: { ...filters, groupBy: groupBy === undefined || groupBy.length === 0 ? undefined : groupBy.join(',') },
    }), 'stats') as StatsView;
  }

  /**
   * Uploads a file, streamed from disk. A failed append (network, 5xx, wrong or busy offset) is
   * resumed from the offset the service reports, after a short pause; `retries` failures in a row
   * without progress end it with the last error.
   */
  async uploadFile(project: string, profile: string, path: string, options: UploadFileOptions = {}): Promise<UploadView> {
    const retries = options.retries ?? DEFAULT_UPLOAD_RETRIES;
    if (!Number.isSafeInteger(retries) || retries < 0) throw new CofferError('INVALID_ARGUMENT', 'retries must be an integer from 0');
    const size = await fileSize(path);
    const { onProgress } = options;
    let upload = await this.createUpload(project, {
      profile, size, fileName: options.fileName ?? basename(path), ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    });
    let failures = 0;
    onProgress?.(upload.offset, size);
    while (upload.offset < size) {
      const start = upload.offset;
      let lastError: unknown;
      try {
        upload = await this.appendUpload(upload.uploadId, start, createReadStream(path, { start, end: size - 1, highWaterMark: UPLOAD_READ_BYTES }), {
          length: size - start, ...(onProgress === undefined ? {} : { onSent: (sent: number) => { onProgress(start + sent, size); } }),
        });
        if (upload.offset <= start) throw new CofferError('CLIENT_PROTOCOL_ERROR', `the service took none of the bytes sent at offset ${start}`);
        continue;
      } catch (error) {
        if (!isResumable(error)) throw error;
        lastError = error;
      }
      for (;;) {
        if (failures >= retries) throw lastError;
        failures += 1;
        await sleep(Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (failures - 1)));
        try {
          upload = await this.uploadStatus(upload.uploadId);
          break;
        } catch (error) {
          if (!isResumable(error)) throw error;
          lastError = error;
        }
      }
      // The service kept part of the failed append: progress, so the run of failures starts over.
      if (upload.offset > start) failures = 0;
      onProgress?.(upload.offset, size);
    }
    return upload;
  }

  /** uploadFile, then a job for the upload; with waitSeconds, the job once final (or when the wait is over). */
  async signFile(project: string, profile: string, path: string, options: SignFileOptions = {}): Promise<JobView> {
    const { waitSeconds, ...uploadOptions } = options;
    const upload = await this.uploadFile(project, profile, path, uploadOptions);
    const job = await this.submitJob(project, { profile, uploadId: upload.uploadId });
    return waitSeconds === undefined ? job : this.waitForJob(job.jobId, waitSeconds);
  }

  /** Closes the pooled connections; the process can then exit without waiting for idle sockets. */
  close(): void {
    this.#http.close();
  }

  #project(project: string): string {
    return `${SIGNING_API_PREFIX}/projects/${segment(project)}`;
  }

  #upload(uploadId: string): string {
    return `${SIGNING_API_PREFIX}/uploads/${segment(uploadId)}`;
  }

  #job(jobId: string): string {
    return `${SIGNING_API_PREFIX}/jobs/${segment(jobId)}`;
  }
}
