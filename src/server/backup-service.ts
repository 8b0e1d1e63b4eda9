// Backups in the server: officers create, list, verify and restore backups in the node's backup
// directory (src/cluster/backup does the work). Every call is audited; a restore is refused on the
// direct route where the quorum policy covers backup.restore, and then runs when the approved
// quorum token is applied (quorum-operations.ts), naming the file, never carrying it.
import type { Caller } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import type { AuditOutcome } from '../core/ports.ts';
import {
  listBackups, manifestDigest, resolveBackup, restoreBackup, verifyBackup, writeBackup, RESTORE_MODES, type BackupManifest, type RestoreMode,
} from '../cluster/backup/index.ts';
import type { CofferNode } from './coffer-node.ts';

export interface BackupSummary {
  readonly name: string;
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
      const written = await writeBackup({ store: this.#node.store, barrier: this.#node.barrier, nodeId: this.#node.nodeId, dir: this.dir });
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
      return { name: path.slice(this.dir.length + 1), mode, restored: result.restored, kept: result.kept, manifest: result.manifest };
    });
  }

  /** For the quorum handler at request time: the backup exists and checks. */
  async check(ref: string): Promise<void> {
    await verifyBackup(await resolveBackup(this.dir, ref), this.#node.barrier);
  }
}
