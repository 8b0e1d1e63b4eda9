// Files of the development PKI: a private directory, atomic 0600 writes, never replacing a non-file.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CofferError } from '../core/errors.ts';

export const FILE_MODE = 0o600;
export const DIRECTORY_MODE = 0o700;
/** Larger files are not ours; they read as unparsable rather than being loaded whole. */
const MAX_FILE_BYTES = 1024 * 1024;

/** The `code` of a file-system error (ENOENT, EEXIST…), if it has one. */
export function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

/** Creates `dir` (0700, parents too) when missing; refuses a path that exists and is not a directory. */
export async function prepareDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIRECTORY_MODE });
    if ((await stat(dir)).isDirectory()) return;
  } catch (error) {
    // EEXIST: the path is a file; ENOTDIR: one of its parents is.
    if (errorCode(error) !== 'EEXIST' && errorCode(error) !== 'ENOTDIR') throw error;
  }
  throw new CofferError('INVALID_ARGUMENT', `${dir} is not a directory`);
}

/**
 * The text of `dir/name`, undefined when it does not exist, '' when too large to be ours (so it
 * reads as unparsable). Something other than a regular file there is INVALID_ARGUMENT.
 */
export async function readOptionalFile(dir: string, name: string): Promise<string | undefined> {
  const path = join(dir, name);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  if (!info.isFile()) throw new CofferError('INVALID_ARGUMENT', `${path} exists and is not a regular file`);
  if (info.size > MAX_FILE_BYTES) return '';
  return readFile(path, 'utf8');
}

/** Deletes `path`; one already gone is fine. */
export async function removeOptionalFile(path: string): Promise<void> {
  await unlink(path).catch((error: unknown) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
}

/**
 * Replaces `dir/name` with `text` (or bytes) atomically: a new 0600 file written and synced beside it, then
 * renamed over it, so readers see the old file or the new one, never a torn one. The temporary
 * name is random and opened exclusively (O_EXCL), so it cannot follow a planted symlink. Refuses
 * to replace anything but a regular file (a directory, a symlink, a socket…): that is not ours.
 */
export async function writeFileAtomic(dir: string, name: string, text: string | Uint8Array): Promise<void> {
  const target = join(dir, name);
  await refuseNonRegularFile(target);
  const temporary = join(dir, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', FILE_MODE);
  try {
    try {
      await (typeof text === 'string' ? handle.writeFile(text, 'utf8') : handle.writeFile(text));
      // open()'s mode is filtered by the umask; set it exactly.
      await handle.chmod(FILE_MODE);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Sets a reused regular file back to 0600 if group or others got access; symlinks are left alone. */
export async function tightenMode(dir: string, name: string): Promise<void> {
  const path = join(dir, name);
  const info = await lstat(path);
  if (info.isFile() && (info.mode & 0o077) !== 0) await chmod(path, FILE_MODE);
}

/** Makes the renames durable: on POSIX a rename is only on disk once its directory is synced. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function refuseNonRegularFile(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isFile()) return;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  throw new CofferError('INVALID_ARGUMENT', `${path} exists and is not a regular file; refusing to replace it`);
}
