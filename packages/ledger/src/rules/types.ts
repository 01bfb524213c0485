/**
 * The inputs and outputs of the calculation core: attribution, commission rating and reversals.
 *
 * Everything here is plain data. The functions that use these types do no I/O, read no clock and make no
 * ids: the deciders gather the facts (touches, partners, plan versions, rates, period figures, ids) and pass
 * them in, and put what comes back into the events unchanged.
 *
 * Inputs are expected to be valid (decoded by the command's codecs: amounts with no more decimals than their
 * currency, timestamps in the ledger's one form). A malformed input is a bug in the caller and throws; a
 * domain rule that a valid input breaks (a missing rate, a reversal above what is left) is a `RatingError`.
 */
import type {
  AttributionSettings,
  CommissionLine,
  Credit,
  CurrencyCode,
  DecimalString,
  EventData,
  ForeignExchange,
  Period,
} from '@partner-ledger/events';

// ---------------------------------------------------------------------------------------------------------
// Attribution

export type TouchKind = 'click' | 'coupon' | 'dealRegistration' | 'influence';

/** One thing a partner did that may earn it credit for a conversion. */
export interface Touch {
  readonly kind: TouchKind;
  /** Click id, coupon code, registration id or influence touch id. */
  readonly touchId: string;
  readonly partnerId: string;
  /** When it happened (for a coupon: when it was used; for a registration: when it was registered). */
  readonly at: string;
  /** Flagged as fraud: kept in the history, never eligible. */
  readonly fraudulent: boolean;
  /** Whether the partner was active when it touched; touches of inactive partners are not eligible. */
  readonly partnerActiveAt: boolean;
  /**
   * Deal registrations only: when the registration expires. The caller passes approved registrations only;
   * one that has expired by the conversion time is not eligible.
   */
  readonly expiresAt?: string;
}

export interface AttributionInput {
  /** The conversion's amount, in `currency`. */
  readonly amount: DecimalString;
  readonly currency: CurrencyCode;
  /** The conversion time. */
  readonly occurredAt: string;
  /** The program's settings: model, click window, half-life, precedence. */
  readonly settings: AttributionSettings;
  readonly touches: readonly Touch[];
  /** Renewals: the partner the customer is bound to (the one that brought it in), if any. */
  readonly customerBinding: { readonly partnerId: string } | null;
  readonly isRenewal: boolean;
}

export type AttributionBasis = EventData<'ConversionAttributed'>['attribution']['basis'];

export type Influencer = EventData<'ConversionAttributed'>['influencers'][number];

export interface AttributionDecision {
  /** What decided the sourced credit. */
  readonly basis: AttributionBasis;
  /** The deal registration that sourced the conversion, when `basis` is `dealRegistration`. */
  readonly registrationId: Credit['partnerId'] | null;
  /** Every credited partner, in the order of its first eligible touch; revenue credits sum to the amount. */
  readonly credits: Credit[];
  /** Partners with an eligible touch but no credit, in the order of their first eligible touch. */
  readonly influencers: Influencer[];
  /** The partner whose credit has role `sourced`, or null when nobody is credited. */
  readonly sourcedPartnerId: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// Commission rating

/** A commission plan version: the data of the CommissionPlanPublished event that was effective. */
export type PlanVersion = EventData<'CommissionPlanPublished'>;

export type ConversionKind = EventData<'ConversionAttributed'>['kind'];

/** What rating needs to know about a partner at the conversion time. */
export interface RatedPartner {
  readonly partnerId: string;
  readonly planId: string;
  /** The parent in a two-tier program, which earns an override on this partner's lines. */
  readonly parentPartnerId: string | null;
  /** An inactive partner (suspended, terminated) earns no commission. */
  readonly active: boolean;
}

/** A partner's figures in the calendar period containing the conversion, before it, in the plan currency. */
export interface PeriodStats {
  /** Attributed revenue (the sum of its revenue credits, converted to the plan currency). */
  readonly revenue: DecimalString;
  /** Attributed conversions (conversions in which it had a credit). */
  readonly conversions: number;
  /** Commission accrued under the plan (line amounts after caps, before this conversion). */
  readonly commission: DecimalString;
}

export interface RatingInput {
  readonly conversionId: string;
  /** The conversion time. */
  readonly occurredAt: string;
  readonly kind: ConversionKind;
  /** The conversion's currency (the currency of the credits). */
  readonly currency: CurrencyCode;
  /** The credits decided by `attribute`. */
  readonly credits: readonly Credit[];
  /** Every credited partner, and every parent of one. */
  readonly partners: ReadonlyMap<string, RatedPartner>;
  /** By plan id: the version of each plan that is effective at `occurredAt`. */
  readonly plans: ReadonlyMap<string, PlanVersion>;
  /** Rates from the conversion currency into each plan currency that differs from it. */
  readonly fx: readonly ForeignExchange[];
  readonly periodStats: (partnerId: string, planId: string, period: Period) => PeriodStats;
  /** The time of the customer's first attributed conversion, or null if this is the first. */
  readonly customerFirstConversionAt: string | null;
  /** Fraud signals found by the caller: when there is any, every line is held. */
  readonly hold: { readonly reasons: readonly string[] };
  /** The id of a partner's `index`-th line in this conversion (0, 1, ...), supplied by the caller. */
  readonly nextLineId: (partnerId: string, index: number) => string;
}

export const RATING_ERROR_CODES = [
  /** A plan currency differs from the conversion currency and no rate was supplied for it. */
  'FX_RATE_MISSING',
  /** Two different rates were supplied for the same pair of currencies. */
  'FX_RATE_AMBIGUOUS',
  /** A rate is dated after the conversion day: rates are those of the conversion date, not of today. */
  'FX_RATE_AFTER_CONVERSION',
  /** A partner's plan is not in `plans`. */
  'PLAN_MISSING',
  /** The plan version given is not effective at the conversion time, or is another plan's. */
  'PLAN_NOT_EFFECTIVE',
  /** A credited partner, or the parent of one, is not in `partners`. */
  'PARTNER_MISSING',
  /** A reversal amount is not a valid amount of the conversion's currency, or is zero. */
  'REVERSAL_AMOUNT_INVALID',
  /** A reversal asks for more than is left of the conversion. */
  'REVERSAL_EXCEEDS_REMAINING',
  /** The conversion has already been reversed in full. */
  'NOTHING_LEFT_TO_REVERSE',
  /** What has been reversed so far does not fit the conversion (a credit or line reversed beyond itself). */
  'REVERSAL_HISTORY_INCONSISTENT',
] as const;

export type RatingErrorCode = (typeof RATING_ERROR_CODES)[number];

/** A domain rule that the inputs break: nothing should be recorded. */
export interface RatingError {
  readonly code: RatingErrorCode;
  readonly message: string;
  /** The offending input, as a path: `fx`, `plans.gold`, `amount`, `credits[1].partnerId`. */
  readonly field: string;
}

// ---------------------------------------------------------------------------------------------------------
// Reversals

export type ConversionAttributedData = EventData<'ConversionAttributed'>;

export interface ReversalInput {
  /** The data of the conversion's ConversionAttributed event: the original credits, lines and rates. */
  readonly original: ConversionAttributedData;
  /** What earlier reversals of this conversion took back (sums per partner and per line). */
  readonly reversedSoFar: {
    readonly amount: DecimalString;
    /** By line id, in the line's currency. */
    readonly lines: ReadonlyMap<string, DecimalString>;
    /** By partner id, in the conversion's currency. */
    readonly credits: ReadonlyMap<string, DecimalString>;
  };
  /** The part of the conversion reversed now, in its currency. */
  readonly amount: DecimalString;
}

export type ReversedCredit = EventData<'ConversionReversed'>['credits'][number];
export type ReversedLine = EventData<'ConversionReversed'>['lines'][number];

export interface ReversalDecision {
  /** Every original credit, in the original order, with the revenue credit taken back now. */
  readonly credits: ReversedCredit[];
  /** Every original line, in the original order, with the commission taken back now. */
  readonly lines: ReversedLine[];
}

export type { CommissionLine, Credit };
