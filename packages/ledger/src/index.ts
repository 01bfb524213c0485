/**
 * @packageDocumentation
 * The write side of partner-ledger: `createLedger` over any EventStore, one method per command, each an
 * fp-ts TaskEither that records the facts a command decides or refuses it with a typed rejection (and then
 * appends nothing). Attribution, commissions, reversals, holds and payouts are decided at the moment of
 * recording, so the history is right by construction.
 */
export { createLedger } from './ledger';
export type { LedgerOptions, PreparedCommand } from './ledger';
export type { CommandHandler, IdGenerator, Ledger, LedgerCommandInputs, Outcome } from './ledger-api';
export { timeOrderedIds } from './time-ordered-ids';
export { ALL_VISITORS, createPersonalDataOperations, pseudonymizeVisitors } from './privacy';
export type {
  ErasureRequest,
  PersonalDataOperations,
  PersonalDataOptions,
  PersonalDataSubject,
  SubjectExport,
} from './privacy';
export { COMMANDS, LedgerCommandCodec, decodeCommand } from './commands';
export type { CommandInput, CommandName, CommandOf, LedgerCommand } from './commands';
export { REJECTION_CODES } from './rejection';
export type { LedgerRejection, LedgerRejectionCode } from './rejection';
export { eventIdFor, streamOf, streams } from './naming';
export type { ProgramSettings } from './deciders/program';
export { createBalanceBook } from './balance-book';
export type { BalanceBook, BookedPayout } from './balance-book';
