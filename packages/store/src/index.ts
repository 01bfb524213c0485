/**
 * @packageDocumentation
 * The EventStore port of partner-ledger, the in-memory store, verification of the hash chains and the
 * history digest, and the rules every adapter applies to an append. The contract suite for adapters is
 * the `@partner-ledger/store/contract` subpath.
 */
export type {
  ActualRevision,
  AppendCondition,
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
  AppendConditionFailedError,
  DuplicateEventIdError,
  StoreClosedError,
  StoreCorruptionError,
  StoreError,
  WrongExpectedRevisionError,
} from './errors';

// The in-memory store
export { createInMemoryStore } from './in-memory';

// Crypto-shredding: personal data sealed on append, opened on read
export { createSealingStore } from './sealing';
export type { InMemoryStoreOptions } from './in-memory';

// Audit: hash chains and digests, over any store
export { STORED_TEXT_HASH, compareWithKept, computeDigest, createChainVerifier, verifyStore } from './audit';
export type {
  ChainLink,
  ChainVerifier,
  ChainVerifierOptions,
  DigestAt,
  DigestOptions,
  DigestResult,
  KeptComparison,
  StoredTextHashReads,
  VerifyOptions,
  VerifyProblem,
  VerifyProblemKind,
  VerifyProgress,
  VerifyReport,
  VerifiedDigests,
  VerifiedPrefix,
} from './audit';

// Reading the whole log a page at a time, when the store offers it
export { eachEvent } from './paged';
export type { EachEventOptions, PagedReads } from './paged';

// For adapters: the append rules, shared so that every store decides the same way
export {
  assertAppendable,
  assertTagsAndCondition,
  canonicalDataOf,
  chainEvents,
  checkExpectedRevision,
  classifyAppend,
  createTagPositions,
  knownAtFilter,
} from './append-rules';
export type { TagPositions } from './append-rules';
