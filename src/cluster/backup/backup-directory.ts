// The backup directory: finding a backup by file name or manifest digest, listing manifests, and
// retention (keep the newest `count`, drop any older than `maxAgeDays`).
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import { BACKUP_FILE_SUFFIX, manifestBytesOf, type BackupManifest } from './backup-format.ts';
import { readManifest } from './backup-reader.ts';

/** What a file may be called: no separators, no leading dot (temporary files start with one). */
export const BACKUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}\.cbk$/;
const DIGEST_PATTERN = /^[0-9a-f]{64}$/;
const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  /** Keep at most this many backups (the newest). */
  readonly count: number;
  /** Remove backups older than this many days. */
  readonly maxAgeDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { count: 7, maxAgeDays: 30 };

export interface ListedBackup {
  readonly name: string;
  /** Hex SHA-256 of the manifest bytes: another way to name the backup. */
  readonly manifestDigest: string;
  readonly manifest: BackupManifest;
}

export function manifestDigest(manifest: BackupManifest): string {
  return createHash('sha256').update(manifestBytesOf(manifest)).digest('hex');
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => name.endsWith(BACKUP_FILE_SUFFIX) && BACKUP_NAME_PATTERN.test(name)).sort();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Every backup in `dir` whose manifest reads and whose signature checks, oldest first. A damaged
 * file is listed in `damaged` rather than failing the listing. The body is not read.
 */
export async function listBackups(dir: string): Promise<{ backups: ListedBackup[]; damaged: string[] }> {
  const backups: ListedBackup[] = [];
  const damaged: string[] = [];
  for (const name of await names(dir)) {
    try {
      const manifest = await readManifest(join(dir, name));
      backups.push({ name, manifestDigest: manifestDigest(manifest), manifest });
    } catch (error) {
      if (error instanceof CofferError && (error.code === 'BACKUP_INTEGRITY_FAILED' || error.code === 'BACKUP_NOT_FOUND')) damaged.push(name);
      else throw error;
    }
  }
  backups.sort((a, b) => a.manifest.createdAt.localeCompare(b.manifest.createdAt) || a.name.localeCompare(b.name));
  return { backups, damaged };
}

/** The path of a backup named by its file name or its manifest digest; BACKUP_NOT_FOUND otherwise. */
export async function resolveBackup(dir: string, ref: string): Promise<string> {
  if (BACKUP_NAME_PATTERN.test(ref)) {
    if ((await names(dir)).includes(ref)) return join(dir, ref);
  } else if (DIGEST_PATTERN.test(ref)) {
    const found = (await listBackups(dir)).backups.find((b) => b.manifestDigest === ref);
    if (found !== undefined) return join(dir, found.name);
  } else {
    throw new CofferError('INVALID_ARGUMENT', 'name a backup by its file name (….cbk) or its manifest digest (64 hex digits)');
  }
  throw new CofferError('BACKUP_NOT_FOUND', 'no such backup in the backup directory');
}

/**
 * Applies the retention policy: removes backups older than maxAgeDays (by the manifest's
 * createdAt, against `clock`), then the oldest beyond `count`. The newest backup is never removed
 * by age, so a node that stopped backing up still keeps its last one. Returns the removed names.
 */
export async function pruneBackups(dir: string, policy: RetentionPolicy, clock: Clock = systemClock): Promise<string[]> {
  const { backups } = await listBackups(dir);
  const now = clock.now().getTime();
  const removed: string[] = [];
  const keep = backups.slice();
  while (keep.length > 1 && now - Date.parse(keep[0]?.manifest.createdAt ?? '') > policy.maxAgeDays * DAY_MS) {
    const old = keep.shift();
    if (old !== undefined) removed.push(old.name);
  }
  while (keep.length > policy.count) {
    const old = keep.shift();
    if (old !== undefined) removed.push(old.name);
  }
  for (const name of removed) await rm(join(dir, name), { force: true });
  return removed;
}

