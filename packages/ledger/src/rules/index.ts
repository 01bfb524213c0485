/**
 * The calculation core of the write side: attribution, commission rating and reversals, as pure and
 * deterministic functions over plain inputs. The deciders call them and record what they return.
 * docs/attribution-and-commissions.md explains every rule with worked examples.
 */
export { attribute } from './attribution';
export { rateCommissions } from './rating';
export { reverseConversion } from './reversal';
export { RATING_ERROR_CODES } from './types';
export type {
  AttributionBasis,
  AttributionDecision,
  AttributionInput,
  CommissionLine,
  ConversionAttributedData,
  ConversionKind,
  Credit,
  Influencer,
  PeriodStats,
  PlanVersion,
  RatedPartner,
  RatingError,
  RatingErrorCode,
  RatingInput,
  ReversalDecision,
  ReversalInput,
  ReversedCredit,
  ReversedLine,
  Touch,
  TouchKind,
} from './types';
