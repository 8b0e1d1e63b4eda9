// AdminService's generatebackup and restorebackup over Coffer's backups (src/server/backup-service.ts):
// the BackupBlob carries a whole Coffer backup file inline; officers only, audited as backup.*.
import { BACKUP_FORMAT_VERSION } from '../../cluster/backup/index.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { NodeServices } from '../node-services.ts';
import { encodeProtoBytes, encodeProtoInt64, type Decoded } from './proto-json.ts';
import type { VssmCall } from './vssm-call.ts';
import type { GENERATE_BACKUP_REQUEST, RESTORE_BACKUP_REQUEST } from './vssm-messages.ts';

/**
 * The largest backup file carried inline, either way (64 MiB): the answer or request holds it whole
 * in memory, as base64 inside JSON. Larger backups stay in the backup directory (/v1/backups).
 */
export const MAX_INLINE_BACKUP_BYTES = 64 * 1024 * 1024;

/** restorebackup's body limit: the base64 of an inline backup, plus the ordinary limit for the rest. */
export function restoreBackupBodyBytes(inlineBytes: number, bodyBytes: number): number {
  return 4 * Math.ceil(inlineBytes / 3) + bodyBytes;
}

export interface GeneratedBackup {
  readonly backup: { readonly encryptionKey: string; readonly version: string; readonly timestamp: string; readonly encryptedState: string };
}

/**
 * A new backup in the backup directory (BackupService.create: officers only, audited as
 * backup.create), answered inline. encryptionKey is empty: Coffer's backup key is derived from the
 * domain key and never leaves the node. timestamp is the manifest's creation time in Unix seconds.
 */
export async function generateBackup(services: NodeServices, call: VssmCall, inlineBytes: number, _body: Decoded<typeof GENERATE_BACKUP_REQUEST>): Promise<GeneratedBackup> {
  let created: Awaited<ReturnType<NodeServices['backups']['createInline']>>;
  try {
    created = await services.backups.createInline(call.caller, inlineBytes);
  } catch (error) {
    // backup.create audited its own refusals; this one comes after a backup was written.
    if (!isCofferError(error, 'BACKUP_TOO_LARGE_FOR_INLINE')) throw error;
    return call.audit.checked(() => {
      throw error;
    });
  }
  const encryptedState = encodeProtoBytes(created.bytes);
  // The encrypted backup leaves the node in this answer: that is worth its own entry.
  await call.audit.allowed({ backup: created.name, bytes: created.bytes.length });
  return {
    backup: {
      encryptionKey: '',
      version: encodeProtoInt64(created.manifest.formatVersion),
      timestamp: encodeProtoInt64(Math.floor(Date.parse(created.manifest.createdAt) / 1000)),
      encryptedState,
    },
  };
}

type BackupBlob = NonNullable<Decoded<typeof RESTORE_BACKUP_REQUEST>['backup']>;

function checkBlob(blob: BackupBlob | undefined, inlineBytes: number): BackupBlob {
  if (blob === undefined) throw new CofferError('INVALID_ARGUMENT', 'backup is required');
  if (blob.encryptionKey.length > 0) {
    throw new CofferError('INVALID_ARGUMENT', 'backup.encryptionKey must be empty: only backups made by Coffer (generatebackup) can be restored, and they carry no key');
  }
  if (blob.version !== BACKUP_FORMAT_VERSION) throw new CofferError('INVALID_ARGUMENT', `backup.version must be ${String(BACKUP_FORMAT_VERSION)}, the backup format version`);
  if (blob.encryptedState.length === 0) throw new CofferError('INVALID_ARGUMENT', 'backup.encryptedState is required');
  if (blob.encryptedState.length > inlineBytes) {
    throw new CofferError('BACKUP_TOO_LARGE_FOR_INLINE', `the backup is larger than ${String(inlineBytes)} bytes, the inline limit: put the file in the backup directory and restore it through /v1/backups`);
  }
  return blob;
}

/**
 * Merges the blob's backup into the store (never overwriting newer records) through a temporary file
 * in the backup directory. Refused with QUORUM_REQUIRED where the quorum policy covers
 * backup.restore, as the direct /v1 restore is; the approved quorum token names a file instead.
 */
export async function restoreBackupBlob(services: NodeServices, call: VssmCall, inlineBytes: number, body: Decoded<typeof RESTORE_BACKUP_REQUEST>): Promise<Record<string, never>> {
  const blob = await call.audit.checked(() => checkBlob(body.backup, inlineBytes));
  await services.quorum().requireUnguarded(call.caller, 'backup.restore', { operation: 'backup.restore', target: 'inline' });
  await services.backups.restoreBytes(call.caller, blob.encryptedState, 'merge');
  return {};
}
