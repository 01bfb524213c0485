import type * as E from 'fp-ts/Either';
import type { RatingError, ReversalDecision, ReversalInput } from './types';

/** Reverses part or the rest of a conversion in its original proportions and at its original rates. */
export const reverseConversion = (_input: ReversalInput): E.Either<RatingError, ReversalDecision> => {
  // Interim: the signature is published first so that the deciders can be written against it.
  throw new Error('reverseConversion: being implemented (packages/ledger/src/rules)');
};
