// `coffer serve --restore-from FILE`: rebuilding after losing every node. Before the node listens the
// file is checked as far as it can be without the domain key (signature, body digest) and the store
// must be empty; the node adopts the backup's domain and stays SEALED. The custodians' unseal is the
// authorisation (they hold the domain; no officer exists yet): the restore runs inside that unseal,
// before the engine exists, so the first request the unsealed node answers sees the restored data.
import { basename } from 'node:path';
import { CofferError } from '../core/errors.ts';
import { checkSignedDigest, manifestDigest, requireEmptyStore, restoreBackup, type BackupManifest, type RestoreResult } from '../cluster/backup/index.ts';
import type { CofferNode } from './coffer-node.ts';

/** The principal of the audit entry: the custodians who unsealed, not any one officer. */
export const RESTORE_PRINCIPAL = 'custodians';

export interface PendingRestore {
  readonly file: string;
  readonly manifestDigest: string;
  readonly manifest: BackupManifest;
}

export interface RestoreHooks {
  readonly restored?: (pending: PendingRestore, result: RestoreResult) => void;
  readonly failed?: (pending: PendingRestore, error: unknown) => void;
}

/**
 * Checks the file and the store, adopts the backup's domain and registers the restore for the next
 * unseal. BACKUP_INTEGRITY_FAILED for an altered file, BACKUP_TARGET_NOT_EMPTY for a store holding
 * records or another domain. A node restarted on a store that holds only this backup's domain (a
 * crash before the unseal) carries on.
 */
export async function prepareRestoreFromBackup(node: CofferNode, file: string, hooks: RestoreHooks = {}): Promise<PendingRestore> {
  const manifest = await checkSignedDigest(file);
  const current = node.barrier.descriptor;
  if (current !== undefined && (current.domainId !== manifest.domainId || current.keyCheck !== manifest.descriptor.keyCheck)) {
    throw new CofferError('BACKUP_TARGET_NOT_EMPTY', 'the store already holds another security domain');
  }
  if (node.state === 'UNSEALED') throw new CofferError('BACKUP_TARGET_NOT_EMPTY', 'the node is already unsealed');
  await requireEmptyStore(node.store);
  if (current === undefined) await node.adoptDomain(manifest.descriptor);
  const pending: PendingRestore = { file, manifestDigest: manifestDigest(manifest), manifest };
  node.runOnNextUnseal(async ({ audit }) => {
    const detail: Record<string, string | number> = { backup: basename(file), manifestDigest: pending.manifestDigest, mode: 'empty' };
    const event = { time: new Date().toISOString(), principal: RESTORE_PRINCIPAL, operation: 'backup.restore', requestId: 'restore-from' };
    let result: RestoreResult;
    try {
      // Checks the whole file (every chunk, counts, domain) before its first write.
      result = await restoreBackup(file, { store: node.store, barrier: node.barrier, mode: 'empty' });
    } catch (error) {
      await audit.append({ ...event, detail, outcome: 'FAILED', errorCode: error instanceof CofferError ? error.code : 'INTERNAL_ERROR' });
      hooks.failed?.(pending, error);
      throw error;
    }
    detail['restored'] = result.restored;
    detail['kept'] = result.kept;
    detail['records'] = result.manifest.records.total;
    await audit.append({ ...event, detail, outcome: 'ALLOWED' });
    hooks.restored?.(pending, result);
  });
  return pending;
}
