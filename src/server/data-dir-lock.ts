// One node per data directory: two processes appending to the same audit journal would interleave
// their hash chains, and two unsealed nodes over one SQLite file would each trust stale caches.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CofferError } from '../core/errors.ts';

export const LOCK_FILE = 'node.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else — still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on a data directory: a file created with O_EXCL holding the owner's pid. A lock
 * left by a process that has died (SIGKILL, power loss) is taken over; a live holder, including
 * another node in this very process, is refused with DATA_DIR_IN_USE.
 */
export class DataDirLock {
  readonly path: string;
  #held = true;

  private constructor(path: string) {
    this.path = path;
  }

  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = holderOf(path);
      if (holder !== undefined && (holder === process.pid || isAlive(holder))) {
        throw new CofferError('DATA_DIR_IN_USE', `the data directory is in use by another node (pid ${holder})`);
      }
      // Stale (its process is gone) or unreadable half-written: remove it and try once more.
      try {
        unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw new CofferError('DATA_DIR_IN_USE', 'the data directory lock is contended');
  }

  /** Removes the lock file if it is still this process's. Idempotent. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (holderOf(this.path) !== process.pid) return;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
