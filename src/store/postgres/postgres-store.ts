// The shared Store: PostgreSQL through a pg connection pool. Commits allocate their revision under
// the counter row's lock, so revisions become visible in order; NOTIFY tells watchers of each one.
import pg from 'pg';
import { CofferError } from '../../core/errors.ts';
import type { CommitResult, ListOptions, Store, StoreChange, StoreEntry, StoreWrite } from '../store.ts';
import { prefixEnd } from '../prefix-range.ts';
import { validateChangesArgs, validateKey, validateListArgs, validateWrites } from '../validate-input.ts';
import { isBrokenConnection, isRetryableRace, toStoreError } from './postgres-errors.ts';
import { NotificationFeed, type RevisionListener } from './postgres-notifications.ts';
import { migrate, tablesOf, type Tables } from './postgres-schema.ts';

export interface PostgresStoreOptions {
  /** A libpq-style URL, e.g. postgres://coffer@db.internal:5432/coffer?sslmode=verify-full */
  readonly connectionString: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** How long opening a connection, or waiting for a free one, may take (default 2000 ms). */
  readonly connectTimeoutMs?: number;
  /** The server-side limit on one statement, lock waits included (default 5000 ms). */
  readonly statementTimeoutMs?: number;
  /** The PostgreSQL schema holding the store's tables (default "coffer"); created if absent. */
  readonly schema?: string;
}

const DEFAULTS = { poolSize: 10, connectTimeoutMs: 2000, statementTimeoutMs: 5000, schema: 'coffer' } as const;
/** Past the server's statement timeout, so the client only fires when the server cannot answer at all. */
const CLIENT_TIMEOUT_MARGIN_MS = 2000;
/** Commits are serialised by the counter lock, so races are rare; a few retries are plenty. */
const COMMIT_ATTEMPTS = 3;

function corrupt(): CofferError {
  return new CofferError('STORE_CORRUPT', 'the store returned a malformed row');
}

// The database is untrusted like any store: every row read is checked before it is believed.
// bigint columns arrive as decimal strings (pg keeps int8 exact).
function count(value: unknown, min: number): number {
  const n = typeof value === 'string' && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw corrupt();
  return n;
}

function toEntry(row: Record<string, unknown>): StoreEntry {
  const { key, value } = row;
  if (typeof key !== 'string' || !(value instanceof Uint8Array)) throw corrupt();
  // A plain Uint8Array copy: never pg's Buffer (or the slab behind it), equal to what was written.
  return { key, value: new Uint8Array(value), version: count(row['version'], 1), revision: count(row['revision'], 1) };
}

function toChange(row: Record<string, unknown>): StoreChange {
  const { key, deleted } = row;
  if (typeof key !== 'string' || typeof deleted !== 'boolean') throw corrupt();
  const version = count(row['version'], 0);
  if (deleted !== (version === 0)) throw corrupt();
  return { key, revision: count(row['revision'], 1), version, deleted };
}

function positiveInteger(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be an integer from 1 to ${max}`);
  }
  return value;
}

interface Statements {
  readonly get: string;
  readonly listRange: string;
  readonly listFrom: string;
  readonly changes: string;
  readonly changesAt: string;
  readonly revision: string;
  readonly nextRevision: string;
  readonly lockVersions: string;
  readonly upsert: string;
  readonly tombstone: string;
}

function statements(t: Tables): Statements {
  const entry = `SELECT key, value, version, revision FROM ${t.entries}`;
  const change = `SELECT key, revision, version, value IS NULL AS deleted FROM ${t.entries}`;
  return {
    get: `${entry} WHERE key = $1 AND value IS NOT NULL`,
    // Ranges on the "C" collation rather than LIKE: '%', '_' and '\' stay literal and the primary
    // key index answers. LIMIT NULL means no limit.
    listRange: `${entry} WHERE key >= $1 AND key < $2 AND key > $3 AND value IS NOT NULL ORDER BY key LIMIT $4`,
    listFrom: `${entry} WHERE key >= $1 AND key > $2 AND value IS NOT NULL ORDER BY key LIMIT $3`,
    changes: `${change} WHERE revision > $1 ORDER BY revision, key LIMIT $2`,
    changesAt: `${change} WHERE revision = $1 ORDER BY key`,
    revision: `SELECT revision FROM ${t.state} WHERE id = 1`,
    // The row lock taken here is held to COMMIT: it is what orders commits and their visibility.
    nextRevision: `UPDATE ${t.state} SET revision = revision + 1 WHERE id = 1 RETURNING revision`,
    lockVersions: `SELECT key, version FROM ${t.entries} WHERE key = ANY($1::text[]) FOR UPDATE`,
    upsert:
      `INSERT INTO ${t.entries} (key, value, version, revision) ` +
      'SELECT k, v, n, $4::bigint FROM unnest($1::text[], $2::bytea[], $3::bigint[]) AS w(k, v, n) ' +
      'ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, revision = excluded.revision',
    tombstone: `UPDATE ${t.entries} SET value = NULL, version = 0, revision = $1 WHERE key = ANY($2::text[])`,
  };
}

export class PostgresStore implements Store {
  /** The schema version the database is at after opening (the newest this code knows). */
  readonly schemaVersion: number;
  readonly schema: string;
  #pool: pg.Pool | undefined;
  #closing: Promise<void> | undefined;
  readonly #sql: Statements;
  readonly #channel: string;
  readonly #feed: NotificationFeed;

  private constructor(pool: pg.Pool, clientConfig: pg.ClientConfig, schema: string, schemaVersion: number) {
    this.#pool = pool;
    this.schema = schema;
    this.schemaVersion = schemaVersion;
    const t = tablesOf(schema);
    this.#sql = statements(t);
    this.#channel = t.channel;
    this.#feed = new NotificationFeed({
      client: clientConfig,
      channel: t.channel,
      readRevision: async (client) => this.#readRevision(await client.query(this.#sql.revision)),
    });
  }

  /** Use openPostgresStore(). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    if (typeof options !== 'object' || typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
      throw new CofferError('INVALID_ARGUMENT', 'connectionString must be a non-empty string');
    }
    const poolSize = positiveInteger(options.poolSize ?? DEFAULTS.poolSize, 'poolSize', 1000);
    const connectTimeoutMs = positiveInteger(options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 'connectTimeoutMs', 600_000);
    const statementTimeoutMs = positiveInteger(options.statementTimeoutMs ?? DEFAULTS.statementTimeoutMs, 'statementTimeoutMs', 3_600_000);
    const schema = options.schema ?? DEFAULTS.schema;
    tablesOf(schema);
    const clientConfig: pg.ClientConfig = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: connectTimeoutMs,
      // Server side: a statement (lock waits included) never runs longer than this.
      statement_timeout: statementTimeoutMs,
      // A node that stalls inside a commit must not hold the counter lock, and every other
      // node's commits with it, for long.
      idle_in_transaction_session_timeout: statementTimeoutMs * 2,
      // Client side: a server that stopped answering (a partition, not a refusal) fails too.
      query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
      keepAlive: true,
      application_name: 'coffer',
    };
    const pool = new pg.Pool({ ...clientConfig, max: poolSize, idleTimeoutMillis: 30_000 });
    // An idle pooled connection that the server drops (restart, admin shutdown) emits here; pg-pool
    // discards it and the next call makes a new one. Without a listener the error would crash us.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      client.on('error', () => undefined);
      let schemaVersion: number;
      try {
        schemaVersion = await migrate(client, schema);
      } catch (error) {
        client.release(true);
        throw error;
      }
      client.release();
      return new PostgresStore(pool, clientConfig, schema, schemaVersion);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw toStoreError(error);
    }
  }

  #open(): pg.Pool {
    const pool = this.#pool;
    if (pool === undefined) throw new CofferError('STORE_UNAVAILABLE', 'the store is closed');
    return pool;
  }

  /** One statement outside a transaction, retried once on a fresh connection if a pooled one had broken. */
  async #query(text: string, values: readonly unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.#open().query(text, [...values])).rows as Record<string, unknown>[];
    } catch (error) {
      if (!isBrokenConnection(error)) throw toStoreError(error);
      try {
        return (await this.#open().query(text, [...values])).rows as Record<string, unknown>[];
      } catch (again) {
        throw toStoreError(again);
      }
    }
  }

  #readRevision(result: pg.QueryResult): number {
    if (result.rows.length !== 1) throw corrupt();
    return count((result.rows[0] as Record<string, unknown>)['revision'], 0);
  }

  async get(key: string): Promise<StoreEntry | undefined> {
    this.#open();
    const rows = await this.#query(this.#sql.get, [validateKey(key)]);
    const row = rows[0];
    return row === undefined ? undefined : toEntry(row);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoreEntry[]> {
    this.#open();
    validateListArgs(prefix, options);
    // Keys are never empty, so "after the empty string" excludes nothing.
    const after = options.after ?? '';
    const limit = options.limit ?? null;
    const end = prefixEnd(prefix);
    const rows =
      end === undefined
        ? await this.#query(this.#sql.listFrom, [prefix, after, limit])
        : await this.#query(this.#sql.listRange, [prefix, end, after, limit]);
    return rows.map(toEntry);
  }

  async commit(writes: readonly StoreWrite[]): Promise<CommitResult> {
    this.#open();
    const batch = validateWrites(writes);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#commitOnce(batch);
      } catch (error) {
        // Nothing was applied by a lost race: run it again on a fresh transaction.
        if (!isRetryableRace(error) || attempt >= COMMIT_ATTEMPTS) throw toStoreError(error);
      }
    }
  }

  async #commitOnce(batch: readonly StoreWrite[]): Promise<CommitResult> {
    const client = await this.#open().connect();
    // An error event between our statements (the server going away) must not crash the process;
    // the next statement fails instead.
    const onError = (): void => undefined;
    client.on('error', onError);
    let reusable = false;
    try {
      await client.query('BEGIN');
      const result = await this.#apply(client, batch);
      await client.query('COMMIT');
      reusable = true;
      return result;
    } catch (error) {
      // Our own refusals (a conflict, a malformed row) leave a healthy connection: roll back and
      // reuse it. Anything pg threw may have broken it: discard it, which also ends the
      // transaction on the server.
      if (error instanceof CofferError) reusable = await client.query('ROLLBACK').then(() => true, () => false);
      throw error;
    } finally {
      client.off('error', onError);
      client.release(!reusable);
    }
  }

  async #apply(client: pg.PoolClient, batch: readonly StoreWrite[]): Promise<CommitResult> {
    // First the counter row: every commit queues here, so the one holding it is the only writer
    // and its revision is one above the last committed one (README: revision allocation).
    const revision = this.#readRevision(await client.query(this.#sql.nextRevision));
    const keys = batch.map((write) => write.key);
    const current = new Map<string, number>();
    for (const row of (await client.query(this.#sql.lockVersions, [keys])).rows as Record<string, unknown>[]) {
      const key = row['key'];
      if (typeof key !== 'string') throw corrupt();
      // Tombstones hold version 0, so a deleted key reads as absent here.
      current.set(key, count(row['version'], 0));
    }
    for (const write of batch) {
      const found = current.get(write.key) ?? 0;
      if (write.expectVersion !== undefined && write.expectVersion !== found) {
        throw new CofferError('STORE_CONFLICT', `version conflict on ${write.key}: expected ${write.expectVersion}, found ${found}`);
      }
    }
    const putKeys: string[] = [];
    const putValues: Buffer[] = [];
    const putVersions: number[] = [];
    const deleted: string[] = [];
    const versions = batch.map((write) => {
      const previous = current.get(write.key) ?? 0;
      if (write.op === 'put') {
        putKeys.push(write.key);
        // A copy of exactly the viewed bytes, taken now: the caller may reuse its array.
        putValues.push(Buffer.from(write.value));
        putVersions.push(previous + 1);
        return previous + 1;
      }
      // Deleting an absent key changes nothing and leaves no tombstone: there is nothing to report.
      if (previous > 0) deleted.push(write.key);
      return 0;
    });
    if (putKeys.length > 0) await client.query(this.#sql.upsert, [putKeys, putValues, putVersions, revision]);
    if (deleted.length > 0) await client.query(this.#sql.tombstone, [revision, deleted]);
    // Delivered to listeners only when (and if) the transaction commits, in commit order.
    await client.query('SELECT pg_notify($1, $2)', [this.#channel, String(revision)]);
    return { revision, versions };
  }

  async changes(afterRevision: number, limit?: number): Promise<StoreChange[]> {
    this.#open();
    validateChangesArgs(afterRevision, limit);
    if (limit === undefined) return (await this.#query(this.#sql.changes, [afterRevision, null])).map(toChange);
    const rows = (await this.#query(this.#sql.changes, [afterRevision, limit + 1])).map(toChange);
    const firstLeftOut = rows[limit];
    if (firstLeftOut === undefined) return rows;
    const page = rows.slice(0, limit);
    // A page never ends inside a revision, or a reader resuming after the page's last revision
    // would skip the rest of that commit.
    if (page.at(-1)?.revision !== firstLeftOut.revision) return page;
    const whole = page.filter((change) => change.revision < firstLeftOut.revision);
    // One commit larger than the limit comes whole: the reader must still make progress.
    return whole.length > 0 ? whole : (await this.#query(this.#sql.changesAt, [firstLeftOut.revision])).map(toChange);
  }

  async revision(): Promise<number> {
    this.#open();
    const rows = await this.#query(this.#sql.revision, []);
    if (rows.length !== 1) throw corrupt();
    return count(rows[0]?.['revision'], 0);
  }

  /**
   * Calls `listener` with the revision of each commit, from any node, shortly after it commits
   * (LISTEN/NOTIFY on a dedicated connection, opened on the first call), and once with the current
   * revision whenever that connection is (re)established. Hints only: read changes(after) to learn
   * what changed. Returns the function that unsubscribes.
   */
  watch(listener: RevisionListener): () => void {
    if (this.#pool === undefined) return () => undefined;
    return this.#feed.subscribe(listener);
  }

  /** Closes the pool and the LISTEN connection. Idempotent; every later call fails with STORE_UNAVAILABLE. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const pool = this.#pool;
      this.#pool = undefined;
      // pool.end() waits for connections in use to come back; statement timeouts bound that wait.
      this.#closing = Promise.all([this.#feed.close(), pool?.end().catch(() => undefined)]).then(() => undefined);
    }
    return this.#closing;
  }
}

/**
 * Opens the PostgreSQL store, creating its schema and tables if needed. STORE_UNAVAILABLE (fast:
 * connectTimeoutMs) when the server cannot be reached; STORE_CORRUPT if the schema was written by
 * a newer Coffer or holds another application's tables; INVALID_ARGUMENT for bad options.
 */
export function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(options);
}
