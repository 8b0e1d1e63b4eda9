// Signed outputs kept on disk, addressed by their SHA-256, each with a retention deadline: the copy a
// builder downloads, and the one the service keeps for the profile's retention.
import { createHash } from 'node:crypto';
import { chmod, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import {
  DIRECTORY_MODE, errorCode, prepareDirectory, readOptionalFile, removeOptionalFile as removeFile, syncDirectory, writeFileAtomic,
} from '../../pki/pki-files.ts';
import { isSha256Hex } from './job-record.ts';

const OUTPUT = '.out';
const DEADLINE = '.json';

export interface ArtifactStoreOptions {
  /** The store's own directory (made 0700); one process owns it at a time. */
  readonly dir: string;
  readonly clock?: Clock;
}

export interface StoredArtifact {
  readonly sha256: string;
  readonly size: number;
  readonly retainedUntil: string;
}

function notFound(sha256hex: unknown): CofferError {
  return new CofferError('SIGNING_ARTIFACT_NOT_FOUND', `no retained output ${isSha256Hex(sha256hex) ? sha256hex : '(malformed digest)'}`);
}

export class ArtifactStore {
  readonly #dir: string;
  readonly #clock: Clock;
  /** Digests a put() is writing: sweep() leaves them alone. */
  readonly #busy = new Set<string>();
  #ready: Promise<void> | undefined;

  constructor(options: ArtifactStoreOptions) {
    this.#dir = options.dir;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Keeps `bytes` until `retainUntil`. The same output stored again keeps the later deadline. The
   * output is written before its deadline, so a deadline never names a missing file.
   */
  async put(bytes: Buffer, retainUntil: Date): Promise<StoredArtifact> {
    await this.#prepare();
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.#busy.add(sha256);
    try {
      const previous = await this.#deadline(sha256);
      const deadline = previous !== undefined && previous > retainUntil.getTime() ? previous : retainUntil.getTime();
      await writeFileAtomic(this.#dir, `${sha256}${OUTPUT}`, bytes);
      await writeFileAtomic(this.#dir, `${sha256}${DEADLINE}`, JSON.stringify({ retainedUntil: new Date(deadline).toISOString() }));
      await syncDirectory(this.#dir);
      return { sha256, size: bytes.length, retainedUntil: new Date(deadline).toISOString() };
    } finally {
      this.#busy.delete(sha256);
    }
  }

  /** The output with this SHA-256 (hex), while retained; SIGNING_ARTIFACT_NOT_FOUND otherwise. */
  async read(sha256hex: string): Promise<Buffer> {
    if (!isSha256Hex(sha256hex)) throw notFound(sha256hex);
    await this.#prepare();
    const deadline = await this.#deadline(sha256hex);
    if (deadline === undefined || deadline <= this.#clock.now().getTime()) throw notFound(sha256hex);
    const bytes = await readFile(join(this.#dir, `${sha256hex}${OUTPUT}`)).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') throw notFound(sha256hex);
      throw error;
    });
    // Content addressing doubles as an integrity check on what the disk gives back.
    if (createHash('sha256').update(bytes).digest('hex') !== sha256hex) throw new CofferError('STORE_CORRUPT', `retained output ${sha256hex} does not match its digest`);
    return bytes;
  }

  /** Removes outputs whose deadline is at or before `now`, and debris a crash left; returns how many outputs went. */
  async sweep(now: Date = this.#clock.now()): Promise<number> {
    await this.#prepare();
    const names = new Set(await readdir(this.#dir));
    let removed = 0;
    for (const name of names) {
      // Temporary files are `.<sha256>…tmp`: a put() in progress keeps its own too.
      const sha256 = name.replace(/^\./, '').slice(0, 64);
      if (this.#busy.has(sha256)) continue;
      if (name === `${sha256}${DEADLINE}` && isSha256Hex(sha256)) {
        const deadline = await this.#deadline(sha256);
        if (deadline !== undefined && deadline > now.getTime()) continue;
        await removeFile(join(this.#dir, `${sha256}${OUTPUT}`));
        await removeFile(join(this.#dir, name));
        removed++;
      } else if ((name === `${sha256}${OUTPUT}` && !names.has(`${sha256}${DEADLINE}`)) || name.endsWith('.tmp')) {
        // An output whose deadline was never written, or a temporary file: a crash's leftovers.
        await removeFile(join(this.#dir, name));
      }
    }
    return removed;
  }

  /** The deadline in ms, undefined when none is recorded (or it is unreadable: then it is debris). */
  async #deadline(sha256: string): Promise<number | undefined> {
    const text = await readOptionalFile(this.#dir, `${sha256}${DEADLINE}`);
    if (text === undefined) return undefined;
    try {
      const value = (JSON.parse(text) as { retainedUntil?: unknown }).retainedUntil;
      const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      return Number.isNaN(ms) ? undefined : ms;
    } catch {
      return undefined;
    }
  }

  #prepare(): Promise<void> {
    // mkdir's mode is filtered by the umask, and an existing directory keeps its own: set it exactly.
    this.#ready ??= prepareDirectory(this.#dir).then(() => chmod(this.#dir, DIRECTORY_MODE));
    return this.#ready;
  }
}
