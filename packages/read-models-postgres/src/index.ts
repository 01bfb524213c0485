/**
 * @packageDocumentation
 * Live read models of partner-ledger in PostgreSQL: a projector follows any store and keeps tables that BI
 * tools query (partner revenue by month, commission balances, commission lines, payouts, partners, ecosystem
 * health), one fact per row, each batch written with its checkpoint in one transaction. See
 * docs/read-models.md.
 */
export { CODE_VERSION, LeaseLostError, startProjector } from './projector';
export type { Projector, ProjectorOptions, ProjectorReconnect } from './projector';
export { DEFAULT_READ_SCHEMA, isConnectionError, projectorApplicationName } from './database';
export type { ProjectorDatabase } from './database';
export { readProjectorStatus } from './status';
export type { ProjectorStatus } from './status';
export { TABLES } from './tables';
export type { ColumnDefinition, TableDefinition } from './tables';
