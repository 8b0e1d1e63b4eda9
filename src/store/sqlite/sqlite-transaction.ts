// Runs work inside BEGIN IMMEDIATE … COMMIT, rolling back on any failure.
import type { DatabaseSync } from 'node:sqlite';

/**
 * IMMEDIATE takes the write lock before the first read, so what `work` reads cannot change before it
 * writes (check-then-write is one step) and a busy database fails at BEGIN, having changed nothing.
 */
export function inWriteTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    try {
      if (db.isTransaction) db.exec('ROLLBACK');
    } catch {
      // Dropped so the caller sees the failure that caused the rollback, not this one.
    }
    throw error;
  }
}
