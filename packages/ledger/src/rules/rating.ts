import type * as E from 'fp-ts/Either';
import type { CommissionLine, RatingError, RatingInput } from './types';

/** Rates the commission lines that a conversion's credits earn under each partner's plan version. */
export const rateCommissions = (_input: RatingInput): E.Either<RatingError, CommissionLine[]> => {
  // Interim: the signature is published first so that the deciders can be written against it.
  throw new Error('rateCommissions: being implemented (packages/ledger/src/rules)');
};
