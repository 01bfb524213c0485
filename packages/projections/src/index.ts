/**
 * @packageDocumentation
 * The read side of partner-ledger: projections that fold the event log into reports (partner revenue,
 * commission balances, payout statements, ecosystem health), replayable as of any moment, with
 * checkpoints for catch-up and live following. See docs/projections.md.
 */

// Runtime
export { defineProjection } from './runtime/projection';
export type {
  AnyProjection,
  Projection,
  ProjectionSet,
  ResultContext,
  ResultsOf,
} from './runtime/projection';
export type { ConversionInfo, PartnerInfo, ReferenceData } from './runtime/reference';
export {
  CHECKPOINT_FORMAT,
  CheckpointMismatchError,
  createSession,
  parseCheckpoint,
  replay,
  serializeCheckpoint,
} from './runtime/runner';
export type {
  Checkpoint,
  FoldOptions,
  ProjectionSession,
  ReplayOptions,
  ReplayOutcome,
  ReplayProgress,
  SessionOptions,
} from './runtime/runner';
export { createInMemoryCheckpointStore, createJsonFileCheckpointStore } from './runtime/checkpoints';
export type { CheckpointStore } from './runtime/checkpoints';
export { DEFAULT_CHECKPOINT_EVERY, SHELVED_CHECKPOINT_FORMAT, replayWithCheckpoints } from './runtime/resume';
export type { CheckpointedReplayOptions, CheckpointedReplayOutcome } from './runtime/resume';
export { createDirectoryShelf, createInMemoryShelf } from './runtime/shelf';
export type { CheckpointShelf } from './runtime/shelf';
export { projectionCodeVersion } from './runtime/code-version';
export { followLive } from './runtime/live';
export type { FollowOptions, LiveProjections } from './runtime/live';
export { sortKeys } from './runtime/json';
export type { JsonValue } from './runtime/json';
export { GRANULARITIES, periodOf } from './period';
export type { Granularity } from './period';

// Built-in projections
export { builtInProjections } from './builtins';
export type { BuiltInOptions } from './builtins';
export { partnerRevenue } from './projections/revenue';
export type {
  PartnerRevenueOptions,
  PartnerRevenueResult,
  ProgramRevenueBlock,
  ProgramRevenueFigures,
  RevenueBlock,
  RevenueFigures,
  RevenueSeries,
  RevenueState,
} from './projections/revenue';
export { AGING_BUCKETS, commissionBalances } from './projections/balances';
export type {
  AccountTotals,
  AgingBucket,
  ReversalSums,
  AgingFigures,
  ReversalFigures,
  BalancesState,
  CommissionBalancesResult,
  PartnerBalance,
} from './projections/balances';
export { payoutStatements } from './projections/statements';
export type {
  PayoutStatement,
  PayoutStatementsOptions,
  PayoutStatementsResult,
  StatementItem,
  StatementLine,
  StatementPayout,
  StatementsState,
} from './projections/statements';
export { ecosystemHealth } from './projections/health';
export type {
  EcosystemHealthOptions,
  EcosystemHealthResult,
  HealthRevenue,
  HealthRevenueBlock,
  HealthState,
  PartnerHealthResult,
} from './projections/health';
