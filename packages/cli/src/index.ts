/**
 * @packageDocumentation
 * The `partner-ledger` command, and the library entry that opens a ledger with the default store.
 */
export { runCli } from './cli';
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
