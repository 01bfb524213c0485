/**
 * @packageDocumentation
 * The EventStore port of partner-ledger.
 */
export type {
  ActualRevision,
  AppendOptions,
  AppendResult,
  AsKnownAt,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  SubscriptionMessage,
} from './port';
export {
  DuplicateEventIdError,
  StoreClosedError,
  StoreCorruptionError,
  StoreError,
  WrongExpectedRevisionError,
} from './errors';
