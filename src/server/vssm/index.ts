// The VSSM-compatible API (/REST/v1/...): only re-exports.
export { vssmRoutes } from './vssm-routes.ts';
export { MAX_INLINE_BACKUP_BYTES, restoreBackupBodyBytes } from './vssm-backup.ts';
