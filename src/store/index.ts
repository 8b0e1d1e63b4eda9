// The store layer's public surface: the Store contract, its limits and key order, the backends.
export type { CommitResult, ListOptions, Store, StoreChange, StoreEntry, StoreWrite } from './store.ts';
export { MAX_KEY_BYTES, MAX_VALUE_BYTES } from './validate-input.ts';
export { compareKeys } from './prefix-range.ts';
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/index.ts';
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from './postgres/index.ts';
