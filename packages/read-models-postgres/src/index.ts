/**
 * @packageDocumentation
 * Live read models of partner-ledger in PostgreSQL: a projector follows any store and keeps tables that BI
 * tools query (partner revenue by month, commission balances, commission lines, payouts, partners, ecosystem
 * health), one fact per row, each batch written with its checkpoint in one transaction. See
 * docs/read-models.md.
 */
export {
  CODE_VERSION,
  DEFAULT_READ_SCHEMA,
  LeaseLostError,
  isConnectionError,
  projectorApplicationName,
  readProjectorStatus,
  startProjector,
} from './projector';
export type {
  Projector,
  ProjectorDatabase,
  ProjectorOptions,
  ProjectorReconnect,
  ProjectorStatus,
} from './projector';
export { TABLES } from './tables';
export type { ColumnDefinition, TableDefinition } from './tables';
