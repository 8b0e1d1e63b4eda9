// The SQLite store's schema as numbered migrations, applied in one transaction when a store opens.
import type { DatabaseSync } from 'node:sqlite';
import { CofferError } from '../../core/errors.ts';
import { inWriteTransaction } from './sqlite-transaction.ts';

/** 'Cofr' in ASCII: marks the file as a Coffer store so another application's database is refused. */
export const APPLICATION_ID = 0x436f6672;

/**
 * Append only: a released migration is never edited, since files in the field have already run it.
 * Migration n is MIGRATIONS[n - 1].
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- One row per key. A deletion leaves a tombstone (value NULL, version 0) so the change feed can
  -- report it; re-creating the key overwrites the tombstone and restarts at version 1.
  CREATE TABLE entries (
    key      TEXT    NOT NULL PRIMARY KEY,
    value    BLOB,
    version  INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    CHECK ((value IS NULL AND version = 0) OR (value IS NOT NULL AND version >= 1))
  ) WITHOUT ROWID;
  CREATE INDEX entries_by_revision ON entries (revision, key);
  -- The newest commit's revision, kept apart from entries because a commit may change no row.
  CREATE TABLE store_state (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
  );
  INSERT INTO store_state (id, revision) VALUES (1, 0);
  `,
];

function corrupt(message: string): CofferError {
  return new CofferError('STORE_CORRUPT', message);
}

function appliedVersion(db: DatabaseSync): number {
  const table = db.prepare("SELECT 1 AS found FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (table === undefined) return 0;
  const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
  // Migrations run strictly in order, so the applied set must be exactly 1..n.
  rows.forEach((row, index) => {
    if (row['version'] !== index + 1) throw corrupt('the store schema history is inconsistent');
  });
  return rows.length;
}

/**
 * Brings the schema up to date inside BEGIN IMMEDIATE, so two processes opening one new file
 * cannot both migrate it. Refuses a file written by a newer Coffer or by another application.
 */
export function migrate(db: DatabaseSync): number {
  return inWriteTransaction(db, () => {
    const appId = db.prepare('PRAGMA application_id').get()?.['application_id'];
    const tableCount = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get()?.['n'];
    if (appId === 0 && tableCount === 0) {
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    } else if (appId !== APPLICATION_ID) {
      throw corrupt('the file is not a Coffer store');
    }
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)');
    const current = appliedVersion(db);
    if (current > MIGRATIONS.length) {
      throw corrupt(`the store schema version ${current} is newer than this Coffer knows (${MIGRATIONS.length})`);
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version - 1] ?? '');
      record.run(version, new Date().toISOString());
    }
    return MIGRATIONS.length;
  });
}
