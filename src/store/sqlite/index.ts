// The embedded SQLite backend of the Store contract.
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
