// Maps node:sqlite failures to Store error codes: a damaged file is STORE_CORRUPT, anything else the
// database reports (busy, I/O, disk full, cannot open) is STORE_UNAVAILABLE.
import { CofferError } from '../../core/errors.ts';

// Primary result codes, https://sqlite.org/rescode.html (the low byte of an extended code).
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

function sqliteResultCode(error: unknown): number | undefined {
  if (!(error instanceof Error) || !('code' in error) || error.code !== 'ERR_SQLITE_ERROR') return undefined;
  return 'errcode' in error && typeof error.errcode === 'number' ? error.errcode : undefined;
}

/** CofferErrors pass through; other errors that did not come from SQLite are bugs and stay as they are. */
export function toStoreError(error: unknown): Error {
  if (error instanceof CofferError) return error;
  const code = sqliteResultCode(error);
  if (code === undefined) return error instanceof Error ? error : new Error('non-error thrown', { cause: error });
  const primary = code & 0xff;
  if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) {
    return new CofferError('STORE_CORRUPT', 'the store file is damaged or is not a database', { cause: error });
  }
  // SQLite's errstr is a fixed description of the result code ("database is locked"), never data.
  const reason = error instanceof Error && 'errstr' in error && typeof error.errstr === 'string' ? `: ${error.errstr}` : '';
  return new CofferError('STORE_UNAVAILABLE', `the store cannot be used${reason}`, { cause: error });
}
