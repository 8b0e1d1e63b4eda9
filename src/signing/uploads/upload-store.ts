// The signing service's upload store: artifacts streamed to disk in resumable sessions, hashed on the way.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { systemClock, type Clock } from '../../core/ports.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import {
  DIRECTORY_MODE, errorCode, FILE_MODE, prepareDirectory, readOptionalFile, removeOptionalFile as removeFile, syncDirectory, writeFileAtomic,
} from '../../pki/pki-files.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';
import {
  checkHashes, checkMetadata, checkSize, isExpired, isUploadId, parseRecord, uploadNotFound, UPLOAD_HASHES, type UploadRecord,
} from './upload-record.ts';

export const DEFAULT_MAX_BYTES = 32 * 1024 ** 3;
export const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;
/** A long append is made durable this often, so a crash costs the client at most this much to resend. */
const CHECKPOINT_BYTES = 256 * 1024 * 1024;
/** Appended bytes are written in gathered batches of about this size. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Reads when rebuilding hashes after a restart: bounded memory whatever the file's size. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** create() sweeps expired sessions at most this often (a sweep lists the whole directory). */
const SWEEP_INTERVAL_MS = 60 * 1000;

export interface UploadStoreOptions {
  /** The store's own directory (made 0700); one process owns it at a time. */
  readonly dir: string;
  readonly maxBytes?: number;
  readonly ttlMs?: number;
  readonly clock?: Clock;
}

export interface CreateUpload {
  readonly expectedSize?: number;
  readonly hashes: readonly PkiHash[];
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface UploadStatus {
  readonly uploadId: string;
  /** Bytes stored: where the next append starts. */
  readonly offset: number;
  readonly expectedSize?: number;
  readonly hashes: readonly PkiHash[];
  readonly metadata?: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly complete: boolean;
}

export interface CompletedUpload {
  readonly uploadId: string;
  /** The artifact on disk (0600); it never changes again. */
  readonly path: string;
  readonly size: number;
  readonly digests: Partial<Record<PkiHash, Buffer>>;
}

export type UploadSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

/** An incomplete upload being written by this process: its hashes cover exactly bytes [0, offset). */
interface LiveSession {
  record: UploadRecord;
  offset: number;
  hashers: readonly { readonly hash: PkiHash; readonly state: Hash }[];
}

/** Positional gathered writes: a short write continues where it stopped. */
async function writevAt(handle: FileHandle, buffers: readonly Uint8Array[], position: number): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  const total = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
  if (bytesWritten === total) return;
  // Rare: finish the rest chunk by chunk.
  let offset = 0;
  for (const buffer of buffers) {
    const end = offset + buffer.byteLength;
    if (end > bytesWritten) {
      const skip = Math.max(0, bytesWritten - offset);
      await writeAt(handle, buffer.subarray(skip), position + offset + skip);
    }
    offset = end;
  }
}

/** Positional writes: the file's bytes at p are always the client's bytes at p, even after a torn write. */
async function writeAt(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < chunk.byteLength;) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.byteLength - done, position + done);
    done += bytesWritten;
  }
}

export class UploadStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #live = new Map<string, LiveSession>();
  /** Ids with an append, complete or remove running: one at a time per upload. */
  readonly #busy = new Set<string>();
  #ready: Promise<void> | undefined;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: UploadStoreOptions) {
    this.#dir = options.dir;
    this.#maxBytes = checkSize(options.maxBytes ?? DEFAULT_MAX_BYTES, 'maxBytes', Number.MAX_SAFE_INTEGER);
    this.#ttlMs = checkSize(options.ttlMs ?? DEFAULT_TTL_MS, 'ttlMs', Number.MAX_SAFE_INTEGER);
    this.#clock = options.clock ?? systemClock;
  }

  async create(request: CreateUpload): Promise<UploadStatus> {
    const hashes = checkHashes(request.hashes);
    const expectedSize = request.expectedSize === undefined ? undefined : checkSize(request.expectedSize, 'expectedSize', this.#maxBytes);
    const metadata = request.metadata === undefined ? undefined : checkMetadata(request.metadata);
    await this.#prepare();
    const now = this.#clock.now();
    if (now.getTime() - this.#lastSweep >= SWEEP_INTERVAL_MS) {
      this.#lastSweep = now.getTime();
      await this.sweep();
    }
    const uploadId = randomUUID();
    const record: UploadRecord = {
      version: 1, uploadId, hashes, createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + this.#ttlMs).toISOString(), durableOffset: 0,
      ...(expectedSize === undefined ? {} : { expectedSize }), ...(metadata === undefined ? {} : { metadata }),
    };
    // The data file first: a crash before the record leaves an orphan .part that sweep() removes.
    const part = await open(this.#partPath(uploadId), 'wx', FILE_MODE);
    try {
      await part.chmod(FILE_MODE); // open()'s mode is filtered by the umask
    } finally {
      await part.close();
    }
    await this.#save(record);
    this.#live.set(uploadId, { record, offset: 0, hashers: hashersFor(hashes) });
    return statusOf(record, 0);
  }

  async status(uploadId: string): Promise<UploadStatus> {
    const record = await this.#read(uploadId);
    if (record.completed !== undefined) return statusOf(record, record.completed.size);
    const live = this.#live.get(uploadId);
    if (live !== undefined) return statusOf(record, live.offset);
    // After a restart only the durable prefix counts (resume() truncates to it).
    const size = await lstat(this.#partPath(uploadId)).then((info) => info.size, () => 0);
    return statusOf(record, Math.min(size, record.durableOffset));
  }

  /**
   * Appends `source` at `offset`, which must be the bytes already stored. A second call while one runs
   * on the same upload is UPLOAD_IN_PROGRESS (it does not wait: its offset could only be stale). On a
   * source error what was accepted stays, fsynced, and the error is rethrown; the client resumes from
   * status().offset. The caller drains or destroys `source` when this refuses before reading it.
   */
  async append(uploadId: string, offset: number, source: UploadSource): Promise<UploadStatus> {
    return this.#exclusive(uploadId, async () => {
      const record = await this.#read(uploadId);
      if (record.completed !== undefined) throw new CofferError('UPLOAD_ALREADY_COMPLETE', `upload ${uploadId} is complete; it takes no more data`);
      const session = this.#live.get(uploadId) ?? await this.#resume(record);
      if (offset !== session.offset) throw new CofferError('UPLOAD_OFFSET_MISMATCH', `upload ${uploadId} holds ${session.offset} bytes; append at offset ${session.offset}`);
      await this.#write(session, source);
      return statusOf(session.record, session.offset);
    });
  }

  /** Seals the upload (idempotent): the size must be expectedSize when one was given. */
  async complete(uploadId: string): Promise<CompletedUpload> {
    return this.#exclusive(uploadId, async () => {
      const record = await this.#read(uploadId);
      const done = record.completed ?? await this.#seal(record);
      const digests: Partial<Record<PkiHash, Buffer>> = {};
      for (const [hash, hex] of Object.entries(done.digests) as [PkiHash, string][]) digests[hash] = Buffer.from(hex, 'hex');
      return { uploadId, path: this.#partPath(uploadId), size: done.size, digests };
    });
  }

  /** Deletes an upload, complete or not (UPLOAD_IN_PROGRESS while an append runs on it). */
  async remove(uploadId: string): Promise<void> {
    await this.#exclusive(uploadId, async () => {
      await this.#read(uploadId);
      await this.#delete(uploadId);
    });
  }

  /**
   * Deletes the upload whose completed file is `path` (as complete() returned it), once the job that
   * took it has ended; a path not of this store, or already gone, is ignored.
   */
  async discard(path: string | undefined): Promise<void> {
    if (path === undefined) return;
    const uploadId = basename(path).replace(/\.part$/, '');
    if (!isUploadId(uploadId) || path !== this.#partPath(uploadId)) return;
    await this.remove(uploadId).catch((error: unknown) => {
      if (!isCofferError(error, 'UPLOAD_NOT_FOUND')) throw error;
    });
  }

  /** Deletes incomplete uploads past expiresAt, and debris a crash left; returns how many uploads went. */
  async sweep(): Promise<number> {
    await this.#prepare();
    const now = this.#clock.now();
    const names = new Set(await readdir(this.#dir));
    let removed = 0;
    for (const name of names) {
      const id = name.slice(0, -'.json'.length);
      if (name.endsWith('.json') && isUploadId(id) && !this.#busy.has(id)) {
        const record = await this.#readForSweep(id);
        if (record !== undefined && isExpired(record, now)) {
          await this.#delete(id);
          removed++;
        }
      } else if ((name.endsWith('.part') && !names.has(`${name.slice(0, -'.part'.length)}.json`)) || name.endsWith('.tmp')) {
        // Debris of a crash between writing a data file (or a temporary record) and its rename.
        const info = await lstat(join(this.#dir, name)).catch(() => undefined);
        if (info?.isFile() === true && info.mtimeMs + this.#ttlMs <= now.getTime()) await removeFile(join(this.#dir, name));
      }
    }
    return removed;
  }

  #partPath(uploadId: string): string {
    return join(this.#dir, `${uploadId}.part`);
  }

  async #prepare(): Promise<void> {
    this.#ready ??= prepareDirectory(this.#dir).then(() => chmod(this.#dir, DIRECTORY_MODE));
    await this.#ready;
  }

  async #exclusive<T>(uploadId: string, run: () => Promise<T>): Promise<T> {
    // The id is checked before anything touches the file system: it becomes a file name.
    if (!isUploadId(uploadId)) throw uploadNotFound(uploadId);
    if (this.#busy.has(uploadId)) throw new CofferError('UPLOAD_IN_PROGRESS', `another request is writing upload ${uploadId}; retry once it ends`);
    this.#busy.add(uploadId);
    try {
      return await run();
    } finally {
      this.#busy.delete(uploadId);
    }
  }

  /** The record of a live (not expired) upload, else UPLOAD_NOT_FOUND. */
  async #read(uploadId: string): Promise<UploadRecord> {
    if (!isUploadId(uploadId)) throw uploadNotFound(uploadId);
    await this.#prepare();
    const text = await readOptionalFile(this.#dir, `${uploadId}.json`);
    if (text === undefined) throw uploadNotFound(uploadId);
    const record = parseRecord(uploadId, text);
    if (isExpired(record, this.#clock.now())) throw uploadNotFound(uploadId);
    return record;
  }

  /** A record for sweep(): a malformed one is left for an operator rather than failing every create(). */
  async #readForSweep(uploadId: string): Promise<UploadRecord | undefined> {
    const text = await readOptionalFile(this.#dir, `${uploadId}.json`);
    if (text === undefined) return undefined;
    try {
      return parseRecord(uploadId, text);
    } catch {
      return undefined;
    }
  }

  async #save(record: UploadRecord): Promise<void> {
    await writeFileAtomic(this.#dir, `${record.uploadId}.json`, JSON.stringify(record));
  }

  async #delete(uploadId: string): Promise<void> {
    this.#live.delete(uploadId);
    // The record first: without it the upload is gone, and a stray .part is debris for sweep().
    await removeFile(join(this.#dir, `${uploadId}.json`));
    await removeFile(this.#partPath(uploadId));
  }

  /**
   * Rebuilds a session this process has no hashes for (a restart, or a failed write): the file is cut
   * back to the durable offset (past it a power loss may have left garbage) and hashed once, streamed.
   */
  async #resume(record: UploadRecord): Promise<LiveSession> {
    const path = this.#partPath(record.uploadId);
    let offset: number;
    const handle = await open(path, 'r+').catch((error: unknown) => {
      throw errorCode(error) === 'ENOENT' ? uploadNotFound(record.uploadId) : error;
    });
    try {
      offset = Math.min((await handle.stat()).size, record.durableOffset);
      await handle.truncate(offset);
    } finally {
      await handle.close();
    }
    const hashers = hashersFor(record.hashes);
    if (offset > 0) {
      for await (const chunk of createReadStream(path, { start: 0, end: offset - 1, highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
        for (const { state } of hashers) state.update(chunk);
      }
    }
    const session: LiveSession = { record, offset, hashers };
    this.#live.set(record.uploadId, session);
    return session;
  }

  async #write(session: LiveSession, source: UploadSource): Promise<void> {
    const limit = session.record.expectedSize ?? this.#maxBytes;
    const handle = await open(this.#partPath(session.record.uploadId), 'r+');
    let failure: { error: unknown } | undefined;
    let durable = session.offset;
    // Network chunks are small (16–64 KiB): they are gathered into WRITE_BATCH_BYTES batches, each
    // written with one positional writev while the next one fills. At most two batches are held.
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    let writing: Promise<void> = Promise.resolve();
    const flush = async (): Promise<void> => {
      const buffers = batch;
      const bytes = batchBytes;
      batch = [];
      batchBytes = 0;
      await writing;
      if (bytes === 0) return;
      const at = session.offset;
      writing = writevAt(handle, buffers, at).then(() => {
        session.offset = at + bytes;
      });
      // A batch must not start past a failed one: the next flush awaits it first and rethrows.
    };
    try {
      let accepted = session.offset;
      for await (const chunk of source as AsyncIterable<unknown>) {
        if (!(chunk instanceof Uint8Array)) throw new CofferError('INVALID_ARGUMENT', 'an upload source must yield bytes');
        if (accepted + chunk.byteLength > limit) {
          throw new CofferError('INPUT_TOO_LARGE', `upload ${session.record.uploadId} would pass its limit of ${limit} bytes`);
        }
        // Hashing runs while the thread pool writes; if a write fails the hashes are ahead of the file.
        for (const { state } of session.hashers) state.update(chunk);
        batch.push(chunk);
        batchBytes += chunk.byteLength;
        accepted += chunk.byteLength;
        if (batchBytes >= WRITE_BATCH_BYTES) await flush();
        if (session.offset - durable >= CHECKPOINT_BYTES) {
          await writing;
          await this.#checkpoint(session, handle);
          durable = session.offset;
        }
      }
      await flush();
      await writing;
    } catch (error) {
      failure = { error };
      // What arrived before the failure is kept; if a write failed, the hashes are ahead of the file: rebuild them from disk.
      try {
        await flush();
        await writing;
      } catch {
        this.#live.delete(session.record.uploadId);
      }
    }
    try {
      // Whatever happened: drop any torn tail past the accepted bytes, and make the rest durable.
      await handle.truncate(session.offset);
      await this.#checkpoint(session, handle);
    } catch (error) {
      // The session on disk is still consistent up to its last durable offset; rebuild from there.
      this.#live.delete(session.record.uploadId);
      failure ??= { error };
    } finally {
      await handle.close();
    }
    if (failure !== undefined) throw failure.error;
  }

  async #checkpoint(session: LiveSession, handle: FileHandle): Promise<void> {
    await handle.sync();
    session.record = { ...session.record, durableOffset: session.offset };
    await this.#save(session.record);
  }

  async #seal(record: UploadRecord): Promise<NonNullable<UploadRecord['completed']>> {
    const session = this.#live.get(record.uploadId) ?? await this.#resume(record);
    if (record.expectedSize !== undefined && session.offset !== record.expectedSize) {
      throw new CofferError('UPLOAD_INCOMPLETE', `upload ${record.uploadId} holds ${session.offset} of ${record.expectedSize} bytes`);
    }
    const handle = await open(this.#partPath(record.uploadId), 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const digests: Partial<Record<PkiHash, string>> = {};
    for (const { hash, state } of session.hashers) digests[hash] = state.digest('hex');
    const completed = { size: session.offset, digests };
    await this.#save({ ...session.record, durableOffset: session.offset, completed });
    await syncDirectory(this.#dir);
    this.#live.delete(record.uploadId);
    return completed;
  }
}

function hashersFor(hashes: readonly PkiHash[]): LiveSession['hashers'] {
  return hashes.map((hash) => ({ hash, state: createHash(UPLOAD_HASHES[hash]) }));
}

function statusOf(record: UploadRecord, offset: number): UploadStatus {
  return {
    uploadId: record.uploadId, offset, hashes: record.hashes, createdAt: record.createdAt, expiresAt: record.expiresAt, complete: record.completed !== undefined,
    ...(record.expectedSize === undefined ? {} : { expectedSize: record.expectedSize }),
    ...(record.metadata === undefined ? {} : { metadata: record.metadata }),
  };
}
