import type { EventData } from '@partner-ledger/events';
import type { AnyGivenEvent, GivenEvent } from './spec';

// Builders of given events for the specs: valid catalogue events with sensible defaults.

export const programConfigured = (
  overrides: Partial<EventData<'ProgramConfigured'>> = {},
  occurredAt?: string,
): GivenEvent<'ProgramConfigured'> => ({
  type: 'ProgramConfigured',
  data: {
    programId: 'acme',
    name: 'Acme partners',
    currency: 'USD',
    attribution: {
      model: 'lastTouch',
      clickWindowDays: 30,
      halfLifeDays: 7,
      precedence: ['dealRegistration', 'coupon', 'clicks'],
    },
    minimumPayout: '50.00',
    minClickToConversionSeconds: 10,
    ...overrides,
  },
  ...(occurredAt ? { occurredAt } : {}),
});

export const planPublished = (
  overrides: Partial<EventData<'CommissionPlanPublished'>> = {},
  occurredAt?: string,
): GivenEvent<'CommissionPlanPublished'> => ({
  type: 'CommissionPlanPublished',
  data: {
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
    ...overrides,
  },
  ...(occurredAt ? { occurredAt } : {}),
});

export const partnerJoined = (
  partnerId: string,
  overrides: Partial<EventData<'PartnerJoined'>> = {},
  occurredAt = '2026-01-01T00:00:00.000Z',
): GivenEvent<'PartnerJoined'> => ({
  type: 'PartnerJoined',
  data: {
    partnerId,
    name: `Partner ${partnerId}`,
    partnerType: 'affiliate',
    planId: 'standard',
    parentPartnerId: null,
    payoutCurrency: 'USD',
    couponCodes: [],
    ownAccountIds: [],
    ...overrides,
  },
  occurredAt,
});

export const clickTracked = (
  clickId: string,
  partnerId: string,
  visitorId: string,
  occurredAt: string,
  overrides: Partial<EventData<'ClickTracked'>> = {},
): GivenEvent<'ClickTracked'> => ({
  type: 'ClickTracked',
  data: {
    clickId,
    partnerId,
    visitorId,
    landing: { campaign: null, url: null },
    ipFingerprint: null,
    userAgentFingerprint: null,
    fraudReason: null,
    ...overrides,
  },
  occurredAt,
});

export const dealRegistered = (
  registrationId: string,
  partnerId: string,
  accountId: string,
  expiresAt: string,
  occurredAt = '2026-02-01T00:00:00.000Z',
): GivenEvent<'DealRegistered'> => ({
  type: 'DealRegistered',
  data: { registrationId, partnerId, accountId, expectedValue: '10000.00', currency: 'USD', expiresAt },
  occurredAt,
});

export const registrationApproved = (
  registrationId: string,
  partnerId: string,
  accountId: string,
  occurredAt = '2026-02-02T00:00:00.000Z',
): GivenEvent<'DealRegistrationApproved'> => ({
  type: 'DealRegistrationApproved',
  data: { registrationId, partnerId, accountId },
  occurredAt,
});

/** A program, the standard plan (20% revenue share, 30-day hold) and partners on it. */
export const basicProgram = (...partnerIds: string[]): AnyGivenEvent[] => [
  programConfigured(),
  planPublished(),
  ...partnerIds.map((id) => partnerJoined(id)),
];

/** A conversion credited wholly to one partner, with one revenue-share line (20% unless given). */
export const conversionAttributed = (options: {
  readonly conversionId: string;
  readonly partnerId: string;
  readonly amount: string;
  readonly commission: string;
  readonly payableAt: string;
  readonly occurredAt?: string;
  readonly status?: 'pending' | 'held';
  readonly customerId?: string;
  readonly currency?: string;
}): GivenEvent<'ConversionAttributed'> => {
  const currency = options.currency ?? 'USD';
  return {
    type: 'ConversionAttributed',
    data: {
      conversionId: options.conversionId,
      customerId: options.customerId ?? `customer-${options.conversionId}`,
      accountId: null,
      visitorId: null,
      kind: 'order',
      amount: options.amount,
      currency,
      couponCode: null,
      attribution: {
        basis: 'clicks',
        model: 'lastTouch',
        clickWindowDays: 30,
        halfLifeDays: 7,
        registrationId: null,
      },
      credits: [
        {
          partnerId: options.partnerId,
          weight: '1',
          revenueCredit: options.amount,
          role: 'sourced',
          touchIds: ['c'],
        },
      ],
      influencers: [],
      fx: [],
      commissions: [
        {
          lineId: `${options.conversionId}/${options.partnerId}/0`,
          partnerId: options.partnerId,
          planId: 'standard',
          planVersion: 1,
          rule: 'revenueShare',
          tier: null,
          base: options.amount,
          rate: '0.2',
          amount: options.commission,
          currency,
          uncappedAmount: null,
          payableAt: options.payableAt,
          status: options.status ?? 'pending',
          holdReason: options.status === 'held' ? 'review' : null,
          overrideOf: null,
        },
      ],
    },
    occurredAt: options.occurredAt ?? '2026-01-10T00:00:00.000Z',
  };
};
