// The embedded Store: one SQLite file through node:sqlite, in WAL mode with synchronous=FULL so an
// acknowledged commit survives a crash or power loss.
import { DatabaseSync, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import { CofferError } from '../../core/errors.ts';
import type { CommitResult, ListOptions, Store, StoreChange, StoreEntry, StoreWrite } from '../store.ts';
import { prefixEnd } from '../prefix-range.ts';
import { validateChangesArgs, validateKey, validateListArgs, validateWrites } from '../validate-input.ts';
import { toStoreError } from './sqlite-errors.ts';
import { migrate } from './sqlite-schema.ts';
import { inWriteTransaction } from './sqlite-transaction.ts';

export interface SqliteStoreOptions {
  /** How long a write waits for another connection's lock before failing with STORE_UNAVAILABLE. */
  readonly busyTimeoutMs?: number;
}

/** Long enough to ride out another process's commit or checkpoint, short enough to fail fast. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

type Row = Record<string, SQLOutputValue>;

function corrupt(): CofferError {
  return new CofferError('STORE_CORRUPT', 'the store returned a malformed row');
}

// The file is untrusted like any store: every row read is checked before it is believed.
function count(value: SQLOutputValue | undefined, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw corrupt();
  return value;
}

function toEntry(row: Row): StoreEntry {
  const { key, value } = row;
  if (typeof key !== 'string' || !(value instanceof Uint8Array)) throw corrupt();
  return { key, value, version: count(row['version'], 1), revision: count(row['revision'], 1) };
}

function toChange(row: Row): StoreChange {
  const { key, deleted } = row;
  if (typeof key !== 'string') throw corrupt();
  return { key, revision: count(row['revision'], 1), version: count(row['version'], 0), deleted: deleted === 1 };
}

interface Statements {
  readonly get: StatementSync;
  readonly versionOf: StatementSync;
  readonly readRevision: StatementSync;
  readonly writeRevision: StatementSync;
  readonly upsert: StatementSync;
  readonly tombstone: StatementSync;
  readonly listRange: StatementSync;
  readonly listFrom: StatementSync;
  readonly changes: StatementSync;
  readonly changesAt: StatementSync;
}

function prepare(db: DatabaseSync): Statements {
  const live = 'value IS NOT NULL';
  const changeColumns = 'key, revision, version, value IS NULL AS deleted';
  return {
    get: db.prepare(`SELECT key, value, version, revision FROM entries WHERE key = ? AND ${live}`),
    versionOf: db.prepare('SELECT version FROM entries WHERE key = ?'),
    readRevision: db.prepare('SELECT revision FROM store_state WHERE id = 1'),
    writeRevision: db.prepare('UPDATE store_state SET revision = ? WHERE id = 1'),
    upsert: db.prepare(
      'INSERT INTO entries (key, value, version, revision) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, revision = excluded.revision',
    ),
    tombstone: db.prepare('UPDATE entries SET value = NULL, version = 0, revision = ? WHERE key = ?'),
    // Ranges rather than LIKE, so '%', '_' and '\' in a prefix are literal and the index is used.
    listRange: db.prepare(
      `SELECT key, value, version, revision FROM entries WHERE key >= ? AND key < ? AND key > ? AND ${live} ORDER BY key LIMIT ?`,
    ),
    listFrom: db.prepare(`SELECT key, value, version, revision FROM entries WHERE key >= ? AND key > ? AND ${live} ORDER BY key LIMIT ?`),
    changes: db.prepare(`SELECT ${changeColumns} FROM entries WHERE revision > ? ORDER BY revision, key LIMIT ?`),
    changesAt: db.prepare(`SELECT ${changeColumns} FROM entries WHERE revision = ? ORDER BY key`),
  };
}

/** SQLite reads LIMIT -1 as "no limit". */
const NO_LIMIT = -1;
const MEMORY = ':memory:';
// PRAGMA synchronous values, https://sqlite.org/pragma.html#pragma_synchronous
const SYNCHRONOUS_FULL = 2;
const SYNCHRONOUS_EXTRA = 3;

/** Row conditions that no commit can produce: each is counted by checkIntegrity. */
const INVARIANT_VIOLATIONS: readonly (readonly [string, string])[] = [
  ['revision > (SELECT revision FROM store_state)', 'entries newer than the store revision'],
  ['revision < 1', 'entries with a revision below 1'],
  ["value IS NOT NULL AND typeof(value) <> 'blob'", 'values that are not blobs'],
  ['value IS NOT NULL AND version < 1', 'live entries with a version below 1'],
  ['value IS NULL AND version <> 0', 'tombstones with a version other than 0'],
];

export class SqliteStore implements Store {
  readonly path: string;
  /** The schema version the file is at after opening (the newest this code knows). */
  readonly schemaVersion: number;
  #db: DatabaseSync | undefined;
  readonly #sql: Statements;
  readonly #listeners = new Set<(revision: number) => void>();

  private constructor(path: string, db: DatabaseSync, schemaVersion: number) {
    this.path = path;
    this.#db = db;
    this.schemaVersion = schemaVersion;
    this.#sql = prepare(db);
  }

  /** Use openSqliteStore(). */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (typeof path !== 'string' || path.length === 0) throw new CofferError('INVALID_ARGUMENT', 'the store path must be a non-empty string');
    const timeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeout) || timeout < 0) throw new CofferError('INVALID_ARGUMENT', 'busyTimeoutMs must be a non-negative integer');
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { timeout, enableForeignKeyConstraints: true, allowExtension: false, defensive: true });
      // WAL lets readers run beside the writer; FULL syncs the WAL on every commit (the durability promise).
      const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.['journal_mode'];
      if (mode !== 'wal' && path !== MEMORY) throw new CofferError('STORE_UNAVAILABLE', 'the store file cannot use WAL mode');
      db.exec('PRAGMA synchronous = FULL');
      // The file is untrusted: its schema may not call functions with side effects.
      db.exec('PRAGMA trusted_schema = OFF');
      const schemaVersion = migrate(db);
      return new SqliteStore(path, db, schemaVersion);
    } catch (error) {
      db?.close();
      throw toStoreError(error);
    }
  }

  /** Runs `work` on the open database, mapping failures; every method goes through here. */
  #run<T>(work: (db: DatabaseSync) => T): Promise<T> {
    const db = this.#db;
    if (db === undefined) return Promise.reject(new CofferError('STORE_UNAVAILABLE', 'the store is closed'));
    try {
      return Promise.resolve(work(db));
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
  }

  get(key: string): Promise<StoreEntry | undefined> {
    return this.#run(() => {
      const row = this.#sql.get.get(validateKey(key));
      return row === undefined ? undefined : toEntry(row);
    });
  }

  list(prefix: string, options: ListOptions = {}): Promise<StoreEntry[]> {
    return this.#run(() => {
      validateListArgs(prefix, options);
      // Keys are never empty, so "after the empty string" excludes nothing.
      const after = options.after ?? '';
      const limit = options.limit ?? NO_LIMIT;
      const end = prefixEnd(prefix);
      const rows = end === undefined ? this.#sql.listFrom.all(prefix, after, limit) : this.#sql.listRange.all(prefix, end, after, limit);
      return rows.map(toEntry);
    });
  }

  commit(writes: readonly StoreWrite[]): Promise<CommitResult> {
    return this.#run((db) => {
      const batch = validateWrites(writes);
      const result = inWriteTransaction(db, () => this.#apply(batch));
      this.#notify(result.revision);
      return result;
    });
  }

  /**
   * Calls `listener` with the revision of each commit made through this store object (another
   * process writing the same file is not seen: poll changes() for that). Listeners run after the
   * commit, on a later microtask; one that throws is ignored. Returns the unsubscribe function.
   */
  watch(listener: (revision: number) => void): () => void {
    if (this.#db === undefined) return () => undefined;
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const entry = (revision: number): void => {
      listener(revision);
    };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  #notify(revision: number): void {
    if (this.#listeners.size === 0) return;
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      for (const listener of listeners) {
        try {
          listener(revision);
        } catch {
          // Listeners are hints; one that throws must not stop the others or fail the commit.
        }
      }
    });
  }

  #apply(batch: readonly StoreWrite[]): CommitResult {
    // Tombstones hold version 0, so a deleted key reads as absent here.
    const current = batch.map((write) => count(this.#sql.versionOf.get(write.key)?.['version'] ?? 0, 0));
    batch.forEach((write, index) => {
      if (write.expectVersion !== undefined && write.expectVersion !== current[index]) {
        throw new CofferError('STORE_CONFLICT', `version conflict on ${write.key}: expected ${write.expectVersion}, found ${current[index] ?? 0}`);
      }
    });
    const revision = count(this.#sql.readRevision.get()?.['revision'], 0) + 1;
    this.#sql.writeRevision.run(revision);
    const versions = batch.map((write, index) => {
      const previous = current[index] ?? 0;
      if (write.op === 'put') {
        this.#sql.upsert.run(write.key, write.value, previous + 1, revision);
        return previous + 1;
      }
      // Deleting an absent key changes nothing and leaves no tombstone: there is nothing to report.
      if (previous > 0) this.#sql.tombstone.run(revision, write.key);
      return 0;
    });
    return { revision, versions };
  }

  changes(afterRevision: number, limit?: number): Promise<StoreChange[]> {
    return this.#run(() => {
      validateChangesArgs(afterRevision, limit);
      if (limit === undefined) return this.#sql.changes.all(afterRevision, NO_LIMIT).map(toChange);
      const rows = this.#sql.changes.all(afterRevision, limit + 1).map(toChange);
      const firstLeftOut = rows[limit];
      if (firstLeftOut === undefined) return rows;
      const page = rows.slice(0, limit);
      // A page never ends inside a revision, or a reader resuming after the page's last revision
      // would skip the rest of that commit.
      if (page.at(-1)?.revision !== firstLeftOut.revision) return page;
      const whole = page.filter((change) => change.revision < firstLeftOut.revision);
      // One commit larger than the limit comes whole: the reader must still make progress.
      return whole.length > 0 ? whole : this.#sql.changesAt.all(firstLeftOut.revision).map(toChange);
    });
  }

  revision(): Promise<number> {
    return this.#run(() => count(this.#sql.readRevision.get()?.['revision'], 0));
  }

  /**
   * SQLite's own integrity check, the store's row invariants and its durability settings; an empty
   * list means the file is sound. Reads the whole file: for start-up checks and operators.
   */
  checkIntegrity(): Promise<string[]> {
    return this.#run((db) => {
      const problems = db
        .prepare('PRAGMA integrity_check')
        .all()
        .map((row) => String(row['integrity_check']))
        .filter((message) => message !== 'ok');
      for (const [condition, what] of INVARIANT_VIOLATIONS) {
        const n = db.prepare(`SELECT count(*) AS n FROM entries WHERE ${condition}`).get()?.['n'];
        if (n !== 0) problems.push(`${String(n)} ${what}`);
      }
      if (db.prepare('SELECT count(*) AS n FROM store_state').get()?.['n'] !== 1) problems.push('the store revision is missing');
      const synchronous = db.prepare('PRAGMA synchronous').get()?.['synchronous'];
      if (synchronous !== SYNCHRONOUS_FULL && synchronous !== SYNCHRONOUS_EXTRA) problems.push('synchronous is below FULL');
      const mode = db.prepare('PRAGMA journal_mode').get()?.['journal_mode'];
      if (mode !== 'wal' && this.path !== MEMORY) problems.push(`journal mode is ${String(mode)}, not WAL`);
      return problems;
    });
  }

  /** Closes the file. Idempotent; every later call fails with STORE_UNAVAILABLE. */
  close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    this.#listeners.clear();
    try {
      db?.close();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
  }
}

/**
 * Opens (creating if needed) the SQLite store at `path`, or ':memory:' for a private in-memory one.
 * The parent directory must exist. STORE_CORRUPT if the file is damaged, is not a Coffer store, or
 * has a schema newer than this code; STORE_UNAVAILABLE if it cannot be opened.
 */
export function openSqliteStore(path: string, options?: SqliteStoreOptions): Promise<SqliteStore> {
  // A throw inside the executor becomes the rejection.
  return new Promise((resolve) => {
    resolve(SqliteStore.open(path, options));
  });
}
