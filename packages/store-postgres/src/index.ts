/**
 * @packageDocumentation
 * The PostgreSQL store of partner-ledger: for services that run several instances on a database they
 * already operate. Appends are transactions (optimistic concurrency per stream, idempotency by event id,
 * append conditions on tags, all checked by the database), a sealer gives committed appends dense global
 * positions in a single order that readers can trust, and subscriptions wake on LISTEN/NOTIFY with polling
 * as the fallback. The store creates and migrates its own schema.
 */
export { PreparedStatementError, SchemaNotFoundError, createPostgresStore } from './store';
export type { PostgresEventStore, PostgresStoreOptions } from './store';
export { DEFAULT_SCHEMA, MIGRATIONS } from './schema';
export type { Migration } from './schema';
