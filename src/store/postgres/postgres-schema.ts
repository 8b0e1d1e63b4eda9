// The PostgreSQL store's schema as numbered migrations, applied in one transaction when a store
// opens, under an advisory lock so nodes starting together migrate once.
import type pg from 'pg';
import { CofferError } from '../../core/errors.ts';

/** A schema name we can splice into SQL without quoting surprises; short enough for a channel name. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** Qualified, quoted table names for one schema (the name is checked against SCHEMA_NAME first). */
export interface Tables {
  readonly schema: string;
  readonly entries: string;
  readonly state: string;
  readonly migrations: string;
  /** The NOTIFY channel of this schema's commits. */
  readonly channel: string;
}

export function tablesOf(schema: string): Tables {
  if (!SCHEMA_NAME.test(schema)) throw new CofferError('INVALID_ARGUMENT', 'schema must be a lower-case SQL identifier of at most 48 characters');
  return {
    schema: `"${schema}"`,
    entries: `"${schema}".entries`,
    state: `"${schema}".store_state`,
    migrations: `"${schema}".schema_migrations`,
    channel: `coffer_store_${schema}`,
  };
}

/**
 * Append only: a released migration is never edited, since databases in the field have run it.
 * Migration n is migrations(t)[n - 1].
 */
export function migrations(t: Tables): readonly string[] {
  return [
    `
    -- One row per key. COLLATE "C" orders keys by UTF-8 bytes (= code points), the Store's order.
    -- A deletion leaves a tombstone (value NULL, version 0) so the change feed can report it;
    -- re-creating the key overwrites it and restarts at version 1.
    CREATE TABLE ${t.entries} (
      key      text COLLATE "C" NOT NULL PRIMARY KEY,
      value    bytea,
      version  bigint NOT NULL,
      revision bigint NOT NULL CHECK (revision >= 1),
      CHECK ((value IS NULL AND version = 0) OR (value IS NOT NULL AND version >= 1))
    );
    CREATE INDEX entries_by_revision ON ${t.entries} (revision, key);
    -- The newest commit's revision, one row. Commits take its row lock to allocate the next one,
    -- which serialises them: a revision never becomes visible before every lower one.
    CREATE TABLE ${t.state} (
      id       integer NOT NULL PRIMARY KEY CHECK (id = 1),
      revision bigint  NOT NULL CHECK (revision >= 0)
    );
    INSERT INTO ${t.state} (id, revision) VALUES (1, 0);
    `,
  ];
}

function corrupt(message: string): CofferError {
  return new CofferError('STORE_CORRUPT', message);
}

async function appliedVersion(client: pg.PoolClient, t: Tables, schema: string): Promise<number> {
  const found = await client.query<{ migrations: boolean; relations: string }>(
    `SELECT to_regclass($1) IS NOT NULL AS migrations,
            (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $2) AS relations`,
    [t.migrations, schema],
  );
  const row = found.rows[0];
  if (row === undefined) throw corrupt('the store schema could not be inspected');
  if (!row.migrations) {
    // A schema holding someone else's tables is not ours to write into.
    if (Number(row.relations) > 0) throw corrupt(`the schema ${schema} is not a Coffer store`);
    return 0;
  }
  const rows = (await client.query<{ version: unknown }>(`SELECT version FROM ${t.migrations} ORDER BY version`)).rows;
  // Migrations run strictly in order, so the applied set must be exactly 1..n.
  rows.forEach((r, index) => {
    if (r.version !== index + 1) throw corrupt('the store schema history is inconsistent');
  });
  return rows.length;
}

/**
 * Brings `schema` up to date in one transaction and returns the schema version. Refuses a
 * database that is not UTF-8 (keys would not round-trip), a schema written by a newer Coffer, or
 * one holding another application's tables.
 */
export async function migrate(client: pg.PoolClient, schema: string): Promise<number> {
  const t = tablesOf(schema);
  const encoding = (await client.query<{ server_encoding: string }>('SHOW server_encoding')).rows[0]?.server_encoding;
  if (encoding !== 'UTF8') throw new CofferError('STORE_UNAVAILABLE', `the database encoding must be UTF8, not ${String(encoding)}`);
  const steps = migrations(t);
  await client.query('BEGIN');
  try {
    // Transaction-scoped: released by COMMIT or ROLLBACK, also if this connection dies.
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('coffer-store-migrate:' || $1, 0))", [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
    const current = await appliedVersion(client, t, schema);
    if (current > steps.length) throw corrupt(`the store schema version ${current} is newer than this Coffer knows (${steps.length})`);
    if (current === 0) {
      await client.query(`CREATE TABLE ${t.migrations} (version integer NOT NULL PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    }
    for (let version = current + 1; version <= steps.length; version++) {
      await client.query(steps[version - 1] ?? '');
      await client.query(`INSERT INTO ${t.migrations} (version) VALUES ($1)`, [version]);
    }
    await client.query('COMMIT');
    return steps.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
