import * as t from 'io-ts';
import {
  Amount,
  Currency,
  Id,
  PositiveDecimal,
  Ratio,
  Text,
  Timestamp,
  nullable,
  oneOf,
  struct,
  tagged,
} from '../codec/primitives';
import { isSha256Hex } from './guards';

/** The five kinds of partner. */
export const PARTNER_TYPES = ['affiliate', 'referral', 'reseller', 'technology', 'agency'] as const;
/** A kind of partner: affiliate, referral, reseller, technology or agency (a codec and its type). */
export const PartnerType = oneOf(PARTNER_TYPES);
/** A kind of partner: affiliate, referral, reseller, technology or agency (a codec and its type). */
export type PartnerType = t.TypeOf<typeof PartnerType>;

/** The statuses of a partner. */
export const PARTNER_STATUSES = ['active', 'suspended', 'terminated'] as const;
/** A partner status: active, suspended or terminated (a codec and its type). */
export const PartnerStatus = oneOf(PARTNER_STATUSES);
/** A partner status: active, suspended or terminated (a codec and its type). */
export type PartnerStatus = t.TypeOf<typeof PartnerStatus>;

/** The attribution models for clicks. */
export const ATTRIBUTION_MODELS = [
  'lastTouch',
  'firstTouch',
  'linear',
  'positionBased',
  'timeDecay',
] as const;
/**
 * How clicks share a conversion: lastTouch, firstTouch, linear, positionBased or timeDecay (a codec and its
 * type).
 */
export const AttributionModel = oneOf(ATTRIBUTION_MODELS);
/**
 * How clicks share a conversion: lastTouch, firstTouch, linear, positionBased or timeDecay (a codec and its
 * type).
 */
export type AttributionModel = t.TypeOf<typeof AttributionModel>;

/** The sources of attribution, in the default order of precedence. */
export const ATTRIBUTION_SOURCES = ['dealRegistration', 'coupon', 'clicks'] as const;
/** What attributed a conversion: a deal registration, a coupon or clicks (a codec and its type). */
export const AttributionSource = oneOf(ATTRIBUTION_SOURCES);
/** What attributed a conversion: a deal registration, a coupon or clicks (a codec and its type). */
export type AttributionSource = t.TypeOf<typeof AttributionSource>;

/** The periods of plan caps. */
export const PERIODS = ['month', 'quarter'] as const;
/** A period of a cap: month or quarter (a codec and its type). */
export const Period = oneOf(PERIODS);
/** A period of a cap: month or quarter (a codec and its type). */
export type Period = t.TypeOf<typeof Period>;

/** A keyed HMAC (hex) of a visitor's IP address or user agent: a fingerprint that never holds the raw value. */
export const Fingerprint = new t.Type<string, string, unknown>(
  'a keyed HMAC-SHA-256 fingerprint (64 lowercase hex digits)',
  isSha256Hex,
  (u, c) =>
    isSha256Hex(u)
      ? t.success(u)
      : t.failure(
          u,
          c,
          'expected a keyed HMAC-SHA-256 fingerprint (64 lowercase hex digits), never a raw IP address or user agent',
        ),
  (a) => a,
);

/** What a source of attribution repeated in a precedence list is: its first repeat, or undefined. */
export const repeatedSource = (precedence: readonly unknown[]): unknown =>
  precedence.find((source, index) => precedence.indexOf(source) !== index);

/**
 * A precedence list as a command gives it: each source at most once (a repeat would say nothing but could
 * only be a mistake, as `coupon,coupon,clicks` for `dealRegistration,coupon,clicks`). A source left out
 * never takes credit (docs/attribution-and-commissions.md). Stored events keep the lenient
 * `t.array(AttributionSource)`: a ledger recorded before this check stays readable.
 */
export const AttributionPrecedence = new t.Type<AttributionSource[], AttributionSource[], unknown>(
  'a precedence list (each of dealRegistration, coupon, clicks at most once)',
  (u): u is AttributionSource[] =>
    Array.isArray(u) && u.every((s) => AttributionSource.is(s)) && repeatedSource(u) === undefined,
  (u, c) => {
    const decoded = t.array(AttributionSource).validate(u, c);
    if (decoded._tag === 'Left') return decoded;
    const repeated = repeatedSource(decoded.right);
    return repeated === undefined
      ? decoded
      : t.failure(
          u,
          c,
          `expected each of ${ATTRIBUTION_SOURCES.join(', ')} at most once, got ${JSON.stringify(repeated)} more than once`,
        );
  },
  (a) => a,
);

const attributionFields = {
  model: AttributionModel,
  /** Clicks older than this many days before the conversion are not eligible. */
  clickWindowDays: t.refinement(
    t.number,
    (n) => Number.isInteger(n) && n >= 1 && n <= 365,
    'a window of 1 to 365 days',
  ),
  /** Half-life of the time-decay model, in days. */
  halfLifeDays: t.refinement(
    t.number,
    (n) => Number.isInteger(n) && n >= 1 && n <= 365,
    'a half-life of 1 to 365 days',
  ),
};

/**
 * The attribution settings of a program: model, click window, time-decay half-life and precedence of the
 * sources.
 */
export const AttributionSettings = struct('attribution settings', {
  ...attributionFields,
  /** Which kind of touch wins, first to last. */
  precedence: t.array(AttributionSource),
});
/**
 * The attribution settings of a program: model, click window, time-decay half-life and precedence of the
 * sources.
 */
export type AttributionSettings = t.TypeOf<typeof AttributionSettings>;

/**
 * The attribution settings as the configureProgram command takes them: as {@link AttributionSettings}, and
 * each source at most once in the precedence ({@link AttributionPrecedence}).
 */
export const AttributionSettingsInput = struct('attribution settings', {
  ...attributionFields,
  precedence: AttributionPrecedence,
});

/** A plan's version number: 1, 2, ... */
export const PlanVersionNumber = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= 1,
  'a plan version (1 or more)',
);

/** Days a commission stays pending before it becomes payable. */
export const HoldDays = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= 0 && n <= 3650,
  'a hold of 0 to 3650 days',
);

/** At most so much per conversion, and per partner per calendar period; null where there is no cap. */
export const CommissionCaps = struct('commission caps', {
  perConversion: nullable(Amount),
  perPartnerPerPeriod: nullable(struct('a period cap', { amount: Amount, period: Period })),
});
export type CommissionCaps = t.TypeOf<typeof CommissionCaps>;

/** A rule of a commission plan, tagged by `kind`: flat, revenue share, tiers, recurring, ... */
export const CommissionRule = tagged('a commission rule', 'kind', {
  /** Cost per sale: a fixed amount per attributed conversion, in the plan's currency. */
  flat: struct('a flat commission rule', { kind: t.literal('flat'), amount: Amount }),
  /** A share of the partner's revenue credit. */
  revenueShare: struct('a revenue-share rule', { kind: t.literal('revenueShare'), rate: Ratio }),
  /**
   * A share whose rate depends on the partner's attributed revenue (or conversion count) in the current
   * calendar month or quarter, including the conversion being rated. Earlier conversions are not re-rated.
   */
  tieredRevenueShare: struct('a tiered revenue-share rule', {
    kind: t.literal('tieredRevenueShare'),
    period: Period,
    measure: oneOf(['revenue', 'conversions'] as const),
    tiers: t.array(struct('a tier', { name: Text, from: Amount, rate: Ratio }), 'a list of tiers'),
  }),
});
/** A rule of a commission plan, tagged by `kind`: flat, revenue share, tiers, recurring, ... */
export type CommissionRule = t.TypeOf<typeof CommissionRule>;

/**
 * A commission decided for a conversion: partner, plan version, rule, rate, base and amount, enough to
 * recompute it from the event alone.
 */
export const CommissionLine = struct('a commission line', {
  lineId: Id,
  partnerId: Id,
  planId: Id,
  planVersion: PlanVersionNumber,
  /** flat, revenueShare, tieredRevenueShare or twoTierOverride. */
  rule: oneOf(['flat', 'revenueShare', 'tieredRevenueShare', 'twoTierOverride'] as const),
  /** The tier reached, for tiered rules. */
  tier: nullable(Text),
  /**
   * What the rate applies to: the revenue credit in the plan currency (revenue shares), the flat amount
   * (flat rules, shared by weight), or the child's commission (two-tier overrides).
   */
  base: Amount,
  /** The rate applied; for a flat rule, the partner's weight (its share of the flat amount). */
  rate: nullable(Ratio),
  /** The commission after caps, rounded once to the currency's minor unit. */
  amount: Amount,
  currency: Currency,
  /** Set when a cap reduced the amount: the amount before the cap. */
  uncappedAmount: nullable(Amount),
  /** Conversion time plus the plan's hold period. */
  payableAt: Timestamp,
  /** Held lines stay out of payable until released or rejected. */
  status: oneOf(['pending', 'held'] as const),
  holdReason: nullable(Text),
  /** For a two-tier override: the line of the sub-partner it is earned on. */
  overrideOf: nullable(Id),
});
/**
 * A commission decided for a conversion: partner, plan version, rule, rate, base and amount, enough to
 * recompute it from the event alone.
 */
export type CommissionLine = t.TypeOf<typeof CommissionLine>;

/**
 * A partner's share of a conversion: its weight, revenue credit, role (sourced or influenced) and the touches
 * that earned it.
 */
export const Credit = struct('a revenue credit', {
  partnerId: Id,
  /** The partner's share of the conversion, exact: a fraction ("1/3") or a decimal. Never a float. */
  weight: Ratio,
  /** amount x weight in minor units, largest remainder: the credits of a conversion sum to its amount. */
  revenueCredit: Amount,
  role: oneOf(['sourced', 'influenced'] as const),
  /** The touches (click ids, coupon code, registration id, influence touch ids) that earned the credit. */
  touchIds: t.array(Id),
});
/**
 * A partner's share of a conversion: its weight, revenue credit, role (sourced or influenced) and the touches
 * that earned it.
 */
export type Credit = t.TypeOf<typeof Credit>;

/** A rate from one currency into another, recorded on the conversion that used it. */
export const ForeignExchange = struct('a foreign-exchange rate', {
  from: Currency,
  to: Currency,
  /** 1 unit of `from` is worth `rate` units of `to`. Supplied by the caller, never looked up on replay. */
  rate: PositiveDecimal,
  source: Text,
  /** The date the rate applies to (the conversion's date, not today). */
  date: Timestamp,
});
/** A rate from one currency into another, recorded on the conversion that used it. */
export type ForeignExchange = t.TypeOf<typeof ForeignExchange>;
