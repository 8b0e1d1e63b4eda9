// Backups: one signed, encrypted file holding every record of the store; restore, retention, schedule.
export {
  BACKUP_FILE_SUFFIX, BACKUP_FORMAT_VERSION, EXCLUDED_PREFIXES, type BackupManifest,
} from './backup-format.ts';
export { backupFileName, writeBackup, type WriteBackupOptions, type WrittenBackup } from './backup-writer.ts';
export { checkDomain, checkSignedDigest, readManifest, readRecords, verifyBackup, type BackupRecord } from './backup-reader.ts';
export { requireEmptyStore, restoreBackup, RESTORE_MODES, type RestoreMode, type RestoreOptions, type RestoreResult } from './backup-restore.ts';
export {
  BACKUP_NAME_PATTERN, DEFAULT_RETENTION, listBackups, manifestDigest, pruneBackups, resolveBackup, type ListedBackup, type RetentionPolicy,
} from './backup-directory.ts';
export { BACKUP_LEASE_KEY, BackupScheduler, type BackupSchedulerOptions } from './backup-scheduler.ts';
