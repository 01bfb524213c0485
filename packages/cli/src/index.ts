/**
 * @packageDocumentation
 * The `partner-ledger` command (`runCli`, its verbs, `simulate`, reports and verify), and `openLedger`,
 * re-exported from @partner-ledger/open-ledger (a service that needs only `openLedger` can depend on that
 * package alone).
 */
export { openLedger } from '@partner-ledger/open-ledger';
export type { OpenLedgerOptions, OpenedLedger } from '@partner-ledger/open-ledger';
export { runCli } from './cli';
export { VERBS } from './verbs';
export type { Verb } from './verb';
export type { OptionSpec, OptionSpecs } from './args';
export type { CliIo, OutputStream } from './io';
export { EXIT, UsageError } from './exit';
export type { ExitCode } from './exit';
export { openStore } from './store';
export type { OpenStoreOptions } from './store';
export { DEFAULT_STORE_DIRECTORY, STORE_ENV, describeStoreSpec, resolveStoreSpec } from './store-spec';
export type { StoreSpec } from './store-spec';
export { verifyLedger } from './audit/verify-ledger';
export type { LedgerProblem, LedgerVerifyOptions, LedgerVerifyReport } from './audit/verify-ledger';
export { checkInvariants } from './audit/invariants';
export type { InvariantProblem, InvariantRule } from './audit/invariants';
export { createProgress } from './progress';
export type { Progress, ProgressOptions } from './progress';
export { simulate } from './simulate/simulate';
export type { SimulationOptions, SimulationSummary } from './simulate/simulate';
export { runReport, REPORTS, GROUPINGS } from './report/run-report';
export type {
  Grouping,
  Report,
  ReportCheckpoints,
  ReportName,
  ReportOptions,
  ReportSealing,
} from './report/run-report';
export { renderCsv, renderTable } from './report/table';
export type { Rows } from './report/table';
