/**
 * Builders for the rules' tests: a conversion at a fixed time, touches some days before it, plans, partners.
 * Test-only (imported by *.test.ts), kept out of the package's API.
 */
import type { AttributionSettings } from '@partner-ledger/events';
import type { PeriodStats, PlanVersion, RatedPartner, RatingInput, Touch } from '../types';

export const CONVERSION_AT = '2026-03-31T12:00:00.000Z';
const DAY = 86_400_000;

/** The time `days` (may be fractional) before the conversion. */
export const daysBefore = (days: number, from: string = CONVERSION_AT): string =>
  new Date(Date.parse(from) - Math.round(days * DAY)).toISOString();

export const settings = (over: Partial<AttributionSettings> = {}): AttributionSettings => ({
  model: 'lastTouch',
  clickWindowDays: 30,
  halfLifeDays: 7,
  precedence: ['dealRegistration', 'coupon', 'clicks'],
  ...over,
});

const touch =
  (kind: Touch['kind']) =>
  (touchId: string, partnerId: string, days: number, over: Partial<Touch> = {}): Touch => ({
    kind,
    touchId,
    partnerId,
    at: daysBefore(days),
    fraudulent: false,
    partnerActiveAt: true,
    ...over,
  });

export const click = touch('click');
export const coupon = touch('coupon');
export const registration = touch('dealRegistration');
export const influence = touch('influence');

export const plan = (over: Partial<PlanVersion> = {}): PlanVersion => ({
  planId: 'standard',
  version: 1,
  name: 'Standard',
  currency: 'USD',
  holdDays: 30,
  effectiveFrom: '2026-01-01T00:00:00.000Z',
  rules: [{ kind: 'revenueShare', rate: '0.2' }],
  recurringMaxMonths: null,
  caps: { perConversion: null, perPartnerPerPeriod: null },
  twoTierOverrideRate: null,
  ...over,
});

export const partner = (
  partnerId: string,
  planId = 'standard',
  over: Partial<RatedPartner> = {},
): RatedPartner => ({ partnerId, planId, parentPartnerId: null, active: true, ...over });

export const NO_STATS: PeriodStats = { revenue: '0', conversions: 0, commission: '0' };

export const soleCredit = (partnerId: string, revenueCredit: string) => ({
  partnerId,
  weight: '1',
  revenueCredit,
  role: 'sourced' as const,
  touchIds: [],
});

export const ratingInput = (over: Partial<RatingInput> = {}): RatingInput => ({
  conversionId: 'conv-1',
  occurredAt: CONVERSION_AT,
  kind: 'order',
  currency: 'USD',
  credits: [soleCredit('alice', '100.00')],
  partners: new Map([['alice', partner('alice')]]),
  plans: new Map([['standard', plan()]]),
  fx: [],
  periodStats: () => NO_STATS,
  customerFirstConversionAt: null,
  hold: { reasons: [] },
  nextLineId: (partnerId, index) => `conv-1/${partnerId}/${index}`,
  ...over,
});
