// The PostgreSQL backend of the Store contract, shared by the nodes of a cluster.
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
