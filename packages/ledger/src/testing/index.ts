/**
 * Test helpers of the ledger (not published): given/when/then specifications, event builders, and the
 * concurrency suite that any store can run.
 */
export { SPEC_GIVEN_AT, SPEC_NOW, appendGiven, ledgerSpec } from './spec';
export type { AnyGivenEvent, ExpectedEvent, GivenEvent, SpecOptions, WhenResult } from './spec';
export {
  basicProgram,
  clickTracked,
  conversionAttributed,
  dealRegistered,
  partnerJoined,
  planPublished,
  programConfigured,
  registrationApproved,
} from './fixtures';
export { ledgerConcurrencySuite } from './concurrency';
export { deciderSpec } from './decider-spec';
