// The simulated program's fixed shape: its currencies and their daily rates, its plans, the mix of partner
// types and the lists the simulation draws from. Constants and pure functions only: everything that moves
// with the seed lives in the simulation itself.
import type { CurrencyCode, PartnerType } from '@partner-ledger/events';
import type { Random } from './random';

export const DAY = 86_400_000;
export const iso = (ms: number): string => new Date(ms).toISOString();
export const PROGRAM_CURRENCY: CurrencyCode = 'USD';
export const CURRENCIES: readonly CurrencyCode[] = ['USD', 'EUR', 'GBP'];
/** Rates into USD around which the simulated daily rates move; cross rates follow from them. */
export const BASE_USD_RATE: Readonly<Record<string, number>> = { USD: 1, EUR: 1.08, GBP: 1.27 };

export const PLAN_IDS = {
  affiliateCps: 'affiliate-cps',
  affiliateShare: 'affiliate-revshare',
  referral: 'referral-flat',
  reseller: 'reseller-tiered',
  technology: 'technology-share',
  agency: 'agency-tiered',
  europe: 'eu-affiliate',
} as const;

const noCaps = { perConversion: null, perPartnerPerPeriod: null };

/** Plans of every kind: flat (CPS), revenue share, tiered by revenue and by count, recurring, caps, two-tier, EUR. */
export const plans = (effectiveFrom: string) => [
  {
    planId: PLAN_IDS.affiliateCps,
    version: 1,
    name: 'Affiliate cost per sale',
    currency: PROGRAM_CURRENCY,
    holdDays: 30,
    effectiveFrom,
    rules: [{ kind: 'flat', amount: '15.00' }],
    recurringMaxMonths: 0,
    caps: noCaps,
    twoTierOverrideRate: '0.1',
  },
  {
    planId: PLAN_IDS.affiliateShare,
    version: 1,
    name: 'Affiliate revenue share',
    currency: PROGRAM_CURRENCY,
    holdDays: 30,
    effectiveFrom,
    rules: [{ kind: 'revenueShare', rate: '0.2' }],
    recurringMaxMonths: 12,
    caps: { perConversion: '60.00', perPartnerPerPeriod: { amount: '1500.00', period: 'month' } },
    twoTierOverrideRate: '0.1',
  },
  {
    planId: PLAN_IDS.referral,
    version: 1,
    name: 'Customer referral',
    currency: PROGRAM_CURRENCY,
    holdDays: 14,
    effectiveFrom,
    rules: [{ kind: 'flat', amount: '20.00' }],
    recurringMaxMonths: 0,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.reseller,
    version: 1,
    name: 'Reseller, tiered by quarterly revenue',
    currency: PROGRAM_CURRENCY,
    holdDays: 45,
    effectiveFrom,
    rules: [
      {
        kind: 'tieredRevenueShare',
        period: 'quarter',
        measure: 'revenue',
        tiers: [
          { name: 'silver', from: '0.00', rate: '0.1' },
          { name: 'gold', from: '50000.00', rate: '0.15' },
          { name: 'platinum', from: '200000.00', rate: '0.2' },
        ],
      },
    ],
    recurringMaxMonths: null,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.technology,
    version: 1,
    name: 'Technology partner influence share',
    currency: PROGRAM_CURRENCY,
    holdDays: 60,
    effectiveFrom,
    rules: [{ kind: 'revenueShare', rate: '0.05' }],
    recurringMaxMonths: 0,
    caps: { perConversion: '2500.00', perPartnerPerPeriod: null },
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.agency,
    version: 1,
    name: 'Agency, tiered by monthly conversions',
    currency: PROGRAM_CURRENCY,
    holdDays: 30,
    effectiveFrom,
    rules: [
      {
        kind: 'tieredRevenueShare',
        period: 'month',
        measure: 'conversions',
        tiers: [
          { name: 'standard', from: '0', rate: '0.08' },
          { name: 'preferred', from: '5', rate: '0.12' },
        ],
      },
    ],
    recurringMaxMonths: 6,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
  {
    planId: PLAN_IDS.europe,
    version: 1,
    name: 'EU affiliates (EUR)',
    currency: 'EUR' as CurrencyCode,
    holdDays: 30,
    effectiveFrom,
    rules: [{ kind: 'revenueShare', rate: '1/4' }],
    recurringMaxMonths: 6,
    caps: noCaps,
    twoTierOverrideRate: null,
  },
];

export const TYPE_WEIGHTS: ReadonlyArray<readonly [PartnerType, number]> = [
  ['affiliate', 40],
  ['referral', 25],
  ['agency', 12],
  ['reseller', 12],
  ['technology', 11],
];

export const FRAUD_REASONS = [
  'bot: datacenter IP range',
  'click flood from one fingerprint',
  'known proxy network',
];
export const TIERS = ['bronze', 'silver', 'gold'];

/** A list of items to draw from with fixed relative weights (a few very active partners, many quiet ones). */
export const weightedPicker = <T>(items: readonly T[], random: Random): (() => T | undefined) => {
  const cumulative: number[] = [];
  let total = 0;
  items.forEach((_, rank) => {
    // Only +, * and / (correctly rounded in IEEE 754, so the same on every machine): no pow, no sin.
    total += 1 / (rank + 3);
    cumulative.push(total);
  });
  return () => {
    if (items.length === 0) return undefined;
    const r = random.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return items[lo]!;
  };
};

/** The day's reference rates from `currency` into the program's other currencies, the same on every machine. */
export const fx = (currency: CurrencyCode, at: string) => {
  const day = Math.floor(Date.parse(at) / DAY);
  // A triangle wave of +-2% over 36 days, shifted per currency: exact arithmetic, the same everywhere.
  const wobble = (code: string) => {
    const phase = (day + code.charCodeAt(0)) % 36;
    return 1 + (0.02 * (phase < 18 ? phase - 9 : 27 - phase)) / 9;
  };
  const usd = (code: string) => BASE_USD_RATE[code]! * wobble(code);
  return CURRENCIES.filter((c) => c !== currency).map((to) => ({
    from: currency,
    to,
    rate: (usd(currency) / usd(to)).toFixed(6),
    source: 'simulated daily reference rate',
    date: `${at.slice(0, 10)}T00:00:00.000Z`,
  }));
};
