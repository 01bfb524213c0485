import type { AttributionDecision, AttributionInput } from './types';

/** Decides who is credited for a conversion, and how much of its amount each one gets. */
export const attribute = (_input: AttributionInput): AttributionDecision => {
  // Interim: the signature is published first so that the deciders can be written against it.
  throw new Error('attribute: being implemented (packages/ledger/src/rules)');
};
