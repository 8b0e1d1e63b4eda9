// Backups in the server: officers create, list, verify and restore backups in the node's backup
// directory (src/cluster/backup does the work). Every call is audited; a restore is refused on the
// direct route where the quorum policy covers backup.restore, and then runs when the approved
// quorum token is applied (quorum-operations.ts), naming the file, never carrying it. VSSM's
// generatebackup / restorebackup carry a file inline (createInline, restoreBytes).
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Caller } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import type { AuditOutcome } from '../core/ports.ts';
import {
  listBackups, manifestDigest, resolveBackup, restoreBackup, verifyBackup, writeBackup, RESTORE_MODES, type BackupManifest, type RestoreMode,
} from '../cluster/backup/index.ts';
import type { CofferNode } from './coffer-node.ts';

export interface BackupSummary {
  readonly name: string;
  /** Hex SHA-256 of the manifest: names the backup as well as its file name. */
  readonly manifestDigest: string;
  readonly manifest: BackupManifest;
}

export interface RestoreSummary {
  readonly name: string;
  readonly mode: RestoreMode;
  readonly restored: number;
  readonly kept: number;
  readonly manifest: BackupManifest;
}

const KEY_PREFIX = 'key/';
const IDENTITY_PREFIXES = ['principal/', 'principal-name/', 'principal-cert/', 'project/', 'identity/'];

function requireOfficer(caller: Caller): void {
  if (!caller.roles.includes('officer')) throw new CofferError('ACCESS_DENIED', 'only officers manage backups');
}

export function checkRestoreMode(mode: unknown): RestoreMode {
  if (typeof mode !== 'string' || !(RESTORE_MODES as readonly string[]).includes(mode)) throw new CofferError('INVALID_ARGUMENT', "mode must be 'empty' or 'merge'");
  return mode as RestoreMode;
}

export class BackupService {
  readonly #node: CofferNode;
  readonly dir: string;
  readonly #invalidateIdentity: () => void;

  constructor(node: CofferNode, dir: string, invalidateIdentity: () => void) {
    this.#node = node;
    this.dir = dir;
    this.#invalidateIdentity = invalidateIdentity;
  }

  async #audited<T>(caller: Caller, operation: string, detail: Record<string, string | number | boolean>, body: () => Promise<T>): Promise<T> {
    const append = (outcome: AuditOutcome, errorCode?: string): Promise<void> => this.#node.audit.append({
      time: new Date().toISOString(), principal: caller.principal, operation, outcome, requestId: caller.requestId, detail,
      ...(errorCode === undefined ? {} : { errorCode }),
    });
    let result: T;
    try {
      requireOfficer(caller);
      result = await body();
    } catch (error) {
      const code = error instanceof CofferError ? error.code : 'INTERNAL_ERROR';
      await append(code === 'ACCESS_DENIED' ? 'DENIED' : 'FAILED', code);
      throw error;
    }
    await append('ALLOWED');
    return result;
  }

  create(caller: Caller): Promise<BackupSummary> {
    const detail: Record<string, string | number> = {};
    return this.#audited(caller, 'backup.create', detail, async () => {
      const written = await writeBackup({ store: this.#node.store, barrier: this.#node.barrier, nodeId: this.#node.nodeId, dir: this.dir, auditHead: () => this.#node.auditHead() });
      detail['backup'] = written.name;
      detail['records'] = written.manifest.records.total;
      return { name: written.name, manifestDigest: manifestDigest(written.manifest), manifest: written.manifest };
    });
  }

  list(caller: Caller): Promise<{ backups: BackupSummary[]; damaged: string[] }> {
    return this.#audited(caller, 'backup.list', {}, () => listBackups(this.dir));
  }

  verify(caller: Caller, ref: string): Promise<BackupSummary> {
    return this.#audited(caller, 'backup.verify', { backup: ref }, async () => {
      const path = await resolveBackup(this.dir, ref);
      const manifest = await verifyBackup(path, this.#node.barrier);
      return { name: path.slice(this.dir.length + 1), manifestDigest: manifestDigest(manifest), manifest };
    });
  }

  /** The restore itself; the route and the quorum handler check the quorum policy first. */
  restore(caller: Caller, ref: string, mode: RestoreMode): Promise<RestoreSummary> {
    const detail: Record<string, string | number> = { backup: ref, mode };
    return this.#audited(caller, 'backup.restore', detail, async () => {
      checkRestoreMode(mode);
      const path = await resolveBackup(this.dir, ref);
      return { name: path.slice(this.dir.length + 1), ...await this.#restoreFile(path, mode, detail) };
    });
  }

  /**
   * create, then the file's bytes for an answer that carries the backup inline (VSSM's
   * generatebackup). Above `maxBytes`: BACKUP_TOO_LARGE_FOR_INLINE, and the backup stays in the
   * directory under its name (the message names it), for /v1/backups.
   */
  async createInline(caller: Caller, maxBytes: number): Promise<BackupSummary & { readonly bytes: Buffer }> {
    const summary = await this.create(caller);
    const path = join(this.dir, summary.name);
    if ((await stat(path)).size > maxBytes) {
      throw new CofferError('BACKUP_TOO_LARGE_FOR_INLINE', `the backup is larger than ${String(maxBytes)} bytes, the inline limit: it was written to the backup directory as ${summary.name}; use /v1/backups`);
    }
    return { ...summary, bytes: await readFile(path) };
  }

  /**
   * A restore of a backup handed over as bytes (VSSM's restorebackup), audited as backup.restore
   * like restore(): officers only (checked before anything is written), the bytes go to a temporary
   * file in the backup directory (a leading dot keeps it out of listings and retention), which is
   * restored, then removed whatever the outcome. The caller checks the quorum policy first.
   */
  restoreBytes(caller: Caller, bytes: Uint8Array, mode: RestoreMode): Promise<Omit<RestoreSummary, 'name'>> {
    const detail: Record<string, string | number> = { backup: 'inline', bytes: bytes.length, mode };
    return this.#audited(caller, 'backup.restore', detail, async () => {
      checkRestoreMode(mode);
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const path = join(this.dir, `.inline-restore-${randomUUID()}.cbk`);
      try {
        await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
        const result = await this.#restoreFile(path, mode, detail);
        detail['backupId'] = result.manifest.backupId;
        return result;
      } finally {
        await rm(path, { force: true });
      }
    });
  }

  async #restoreFile(path: string, mode: RestoreMode, detail: Record<string, string | number>): Promise<Omit<RestoreSummary, 'name'>> {
    const touched = { identity: false };
    const engine = this.#node.engine;
    const result = await restoreBackup(path, {
      store: this.#node.store, barrier: this.#node.barrier, mode,
      // This node's caches follow at once; in a cluster the change feed tells every other node.
      onRestored: (key) => {
        if (key.startsWith(KEY_PREFIX)) engine.invalidate(key.slice(KEY_PREFIX.length));
        if (IDENTITY_PREFIXES.some((prefix) => key.startsWith(prefix))) touched.identity = true;
      },
    });
    if (touched.identity) this.#invalidateIdentity();
    detail['restored'] = result.restored;
    detail['kept'] = result.kept;
    return { mode, restored: result.restored, kept: result.kept, manifest: result.manifest };
  }

  /** For the quorum handler at request time: the backup exists and checks. */
  async check(ref: string): Promise<void> {
    await verifyBackup(await resolveBackup(this.dir, ref), this.#node.barrier);
  }
}
