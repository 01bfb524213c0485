import * as fc from 'fast-check';
import type { EventData, EventType } from '../catalogue/events';

/**
 * fast-check arbitraries for valid data of every event type, used by the codec round-trip properties.
 * Amounts are generated in minor units of a fixed currency per event, so they always fit its decimals.
 */
const id = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
// eslint-disable-next-line no-control-regex
const text = fc.string({ maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
const timestamp = fc
  .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) })
  .map((ms) => new Date(ms).toISOString());
const usd = fc
  .bigInt({ min: 0n, max: 10n ** 12n })
  .map((c) => `${c / 100n}.${(c % 100n).toString().padStart(2, '0')}`);
const signedUsd = fc.tuple(usd, fc.boolean()).map(([a, neg]) => (neg && a !== '0.00' ? `-${a}` : a));
const ratio = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 10, max: 12 })).map(([n, d]) => `${n}/${d}`),
  fc.integer({ min: 0, max: 100 }).map((p) => (p === 100 ? '1' : `0.${p.toString().padStart(2, '0')}`)),
);
const nullableOf = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const fingerprint = fc.stringMatching(/^[0-9a-f]{64}$/);
const partnerType = fc.constantFrom('affiliate', 'referral', 'reseller', 'technology', 'agency' as const);
const model = fc.constantFrom('lastTouch', 'firstTouch', 'linear', 'positionBased', 'timeDecay' as const);
const reg = { registrationId: id, partnerId: id, accountId: id };
const lineRef = { lineId: id, partnerId: id, conversionId: id };

const commissionLine = fc.record({
  lineId: id,
  partnerId: id,
  planId: id,
  planVersion: fc.integer({ min: 1, max: 50 }),
  rule: fc.constantFrom('flat', 'revenueShare', 'tieredRevenueShare', 'twoTierOverride' as const),
  tier: nullableOf(text),
  base: usd,
  rate: nullableOf(ratio),
  amount: usd,
  currency: fc.constant('USD'),
  uncappedAmount: nullableOf(usd),
  payableAt: timestamp,
  status: fc.constantFrom('pending', 'held' as const),
  holdReason: nullableOf(text),
  overrideOf: nullableOf(id),
});

const arbitraries: { [T in EventType]: fc.Arbitrary<EventData<T>> } = {
  ProgramConfigured: fc.record({
    programId: id,
    name: text,
    currency: fc.constant('USD'),
    attribution: fc.record({
      model,
      clickWindowDays: fc.integer({ min: 1, max: 365 }),
      halfLifeDays: fc.integer({ min: 1, max: 365 }),
      precedence: fc.subarray(['dealRegistration', 'coupon', 'clicks'] as const),
    }),
    minimumPayout: usd,
    minClickToConversionSeconds: fc.nat(),
  }) as fc.Arbitrary<EventData<'ProgramConfigured'>>,
  PartnerJoined: fc.record({
    partnerId: id,
    name: text,
    partnerType,
    planId: id,
    parentPartnerId: nullableOf(id),
    payoutCurrency: fc.constantFrom('USD', 'EUR', 'JPY'),
    couponCodes: fc.array(id, { maxLength: 3 }),
    ownAccountIds: fc.array(id, { maxLength: 3 }),
  }) as fc.Arbitrary<EventData<'PartnerJoined'>>,
  PartnerContactDetailsChanged: fc.record(
    {
      partnerId: id,
      name: text,
      contactEmail: text,
      payee: fc.record(
        { method: fc.constantFrom('paypal', 'wise', 'manual' as const), email: text, iban: text },
        { requiredKeys: ['method'] },
      ),
      taxId: text,
    },
    { requiredKeys: ['partnerId'] },
  ) as never,
  PersonalDataErased: fc.record({
    subject: fc.record({ kind: fc.constantFrom('partner', 'visitor' as const), id }),
    keyId: nullableOf(id),
    requestedBy: text,
    reason: text,
  }) as never,
  PartnerPlanChanged: fc.record({ partnerId: id, planId: id, previousPlanId: id }) as never,
  PartnerTierChanged: fc.record({
    partnerId: id,
    tier: text,
    previousTier: nullableOf(text),
    reason: text,
  }) as never,
  PartnerStatusChanged: fc.record({
    partnerId: id,
    status: fc.constantFrom('active', 'suspended', 'terminated' as const),
    previousStatus: fc.constantFrom('active', 'suspended', 'terminated' as const),
    reason: text,
  }) as never,
  CommissionPlanPublished: fc.record({
    planId: id,
    version: fc.integer({ min: 1, max: 99 }),
    name: text,
    currency: fc.constant('USD'),
    holdDays: fc.integer({ min: 0, max: 90 }),
    effectiveFrom: timestamp,
    rules: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('flat' as const), amount: usd }),
        fc.record({ kind: fc.constant('revenueShare' as const), rate: ratio }),
        fc.record({
          kind: fc.constant('tieredRevenueShare' as const),
          period: fc.constantFrom('month', 'quarter' as const),
          measure: fc.constantFrom('revenue', 'conversions' as const),
          tiers: fc.array(fc.record({ name: text, from: usd, rate: ratio }), { maxLength: 3 }),
        }),
      ),
      { maxLength: 3 },
    ),
    recurringMaxMonths: nullableOf(fc.nat({ max: 36 })),
    caps: fc.record({
      perConversion: nullableOf(usd),
      perPartnerPerPeriod: nullableOf(
        fc.record({ amount: usd, period: fc.constantFrom('month', 'quarter' as const) }),
      ),
    }),
    twoTierOverrideRate: nullableOf(ratio),
  }) as never,
  ClickTracked: fc.record({
    clickId: id,
    partnerId: id,
    visitorId: id,
    landing: fc.record({ campaign: nullableOf(text), url: nullableOf(text) }),
    ipFingerprint: nullableOf(fingerprint),
    userAgentFingerprint: nullableOf(fingerprint),
    fraudReason: nullableOf(text),
  }) as never,
  InfluenceTouchRecorded: fc.record({
    touchId: id,
    partnerId: id,
    accountId: id,
    kind: fc.constantFrom('integrationInstalled', 'coSelling', 'introduction', 'servicesEngagement' as const),
    note: nullableOf(text),
  }) as never,
  DealRegistered: fc.record({
    ...reg,
    expectedValue: usd,
    currency: fc.constant('USD'),
    expiresAt: timestamp,
  }) as never,
  DealRegistrationApproved: fc.record(reg) as never,
  DealRegistrationRejected: fc.record({ ...reg, reason: text }) as never,
  DealRegistrationExtended: fc.record({
    ...reg,
    previousExpiresAt: timestamp,
    expiresAt: timestamp,
  }) as never,
  DealRegistrationExpired: fc.record(reg) as never,
  ConversionAttributed: fc.record({
    conversionId: id,
    customerId: id,
    accountId: nullableOf(id),
    visitorId: nullableOf(id),
    kind: fc.constantFrom('order', 'invoice', 'renewal', 'closedWon' as const),
    amount: usd,
    currency: fc.constant('USD'),
    couponCode: nullableOf(id),
    attribution: fc.record({
      basis: fc.constantFrom('dealRegistration', 'coupon', 'clicks', 'customerBinding', 'none' as const),
      model,
      clickWindowDays: fc.integer({ min: 1, max: 90 }),
      halfLifeDays: fc.integer({ min: 1, max: 30 }),
      registrationId: nullableOf(id),
    }),
    credits: fc.array(
      fc.record({
        partnerId: id,
        weight: ratio,
        revenueCredit: usd,
        role: fc.constantFrom('sourced', 'influenced' as const),
        touchIds: fc.array(id, { maxLength: 3 }),
      }),
      { maxLength: 4 },
    ),
    influencers: fc.array(fc.record({ partnerId: id, touchIds: fc.array(id, { maxLength: 2 }) }), {
      maxLength: 2,
    }),
    fx: fc.array(
      fc.record({
        from: fc.constant('USD'),
        to: fc.constant('EUR'),
        rate: fc.constantFrom('0.92', '1.1', '0.000123'),
        source: text,
        date: timestamp,
      }),
      { maxLength: 1 },
    ),
    commissions: fc.array(commissionLine, { maxLength: 4 }),
  }) as never,
  ConversionReversed: fc.record({
    reversalId: id,
    conversionId: id,
    customerId: id,
    kind: fc.constantFrom('refund', 'chargeback', 'fraud' as const),
    amount: usd,
    currency: fc.constant('USD'),
    credits: fc.array(fc.record({ partnerId: id, revenueCredit: usd }), { maxLength: 3 }),
    lines: fc.array(fc.record({ lineId: id, partnerId: id, amount: usd, currency: fc.constant('USD') }), {
      maxLength: 3,
    }),
    reason: nullableOf(text),
  }) as never,
  CommissionHeld: fc.record({ ...lineRef, reason: text }) as never,
  CommissionReleased: fc.record({ ...lineRef, note: nullableOf(text) }) as never,
  CommissionRejected: fc.record({ ...lineRef, reason: text }) as never,
  ManualAdjustmentRecorded: fc.record({
    adjustmentId: id,
    partnerId: id,
    amount: signedUsd,
    currency: fc.constant('USD'),
    reason: text,
  }) as never,
  PayoutIssued: fc.record({
    payoutId: id,
    partnerId: id,
    amount: usd,
    currency: fc.constant('USD'),
    method: fc.constantFrom('bankTransfer', 'paypal', 'wise', 'stripe', 'check', 'other' as const),
    externalReference: nullableOf(text),
    settles: fc.array(
      fc.record({
        kind: fc.constantFrom('commission', 'adjustment', 'reversal' as const),
        id,
        amount: signedUsd,
      }),
      { maxLength: 3 },
    ),
  }) as never,
  PayoutConfirmed: fc.record({
    payoutId: id,
    partnerId: id,
    amount: usd,
    currency: fc.constant('USD'),
    providerReference: fc.option(text, { nil: null }),
  }) as never,
  PayoutFailed: fc.record({
    payoutId: id,
    partnerId: id,
    amount: usd,
    currency: fc.constant('USD'),
    reason: text,
  }) as never,
};

/** A generated event body of any type of the catalogue. */
export const anyEventBody = fc
  .constantFrom(...(Object.keys(arbitraries) as EventType[]))
  .chain((type) => (arbitraries[type] as fc.Arbitrary<unknown>).map((data) => ({ type, data })));
