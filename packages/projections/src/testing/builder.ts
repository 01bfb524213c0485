import { newEvent } from '@partner-ledger/events';
import type { EventData, EventType, NewLedgerEvent } from '@partner-ledger/events';
import type { SimulatedEvent } from './simulator';

/**
 * Builds events by hand for worked examples: each `add` is one event of one stream, at the time last set
 * with `at` (recorded one second after it happened, unless told otherwise).
 */
export interface EventBuilder {
  at(occurredAt: string): EventBuilder;
  add<T extends EventType>(
    stream: string,
    type: T,
    data: EventData<T>,
    times?: { readonly occurredAt?: string; readonly recordedAt?: string },
  ): EventBuilder;
  readonly events: readonly SimulatedEvent[];
}

export const createEventBuilder = (): EventBuilder => {
  const events: SimulatedEvent[] = [];
  let occurredAt = '2026-01-01T00:00:00.000Z';
  let lastRecorded = 0;
  const builder: EventBuilder = {
    at: (time) => {
      occurredAt = time;
      return builder;
    },
    add: (stream, type, data, times = {}) => {
      const happened = times.occurredAt ?? occurredAt;
      // recordedAt never goes backwards: the ledger learns facts in append order.
      lastRecorded = Math.max(lastRecorded + 1, Date.parse(happened) + 1000);
      const recordedAt = times.recordedAt ?? new Date(lastRecorded).toISOString();
      const event = newEvent(type, data, {
        id: `evt-${events.length + 1}`,
        occurredAt: happened,
        recordedAt,
        actor: 'test:builder',
        correlationId: `corr-${events.length + 1}`,
        causationId: null,
      }) as NewLedgerEvent;
      events.push({ stream, event });
      return builder;
    },
    events,
  };
  return builder;
};

/** A ProgramConfigured with ordinary settings, reporting in `currency`. */
export const programConfigured = (currency = 'USD'): EventData<'ProgramConfigured'> => ({
  programId: 'program',
  name: 'Program',
  currency,
  attribution: {
    model: 'lastTouch',
    clickWindowDays: 30,
    halfLifeDays: 7,
    precedence: ['dealRegistration', 'coupon', 'clicks'],
  },
  minimumPayout: '50.00',
  minClickToConversionSeconds: 0,
});

export const partnerJoined = (
  partnerId: string,
  partnerType: EventData<'PartnerJoined'>['partnerType'],
): EventData<'PartnerJoined'> => ({
  partnerId,
  name: partnerId,
  partnerType,
  planId: 'standard',
  parentPartnerId: null,
  payoutCurrency: 'USD',
  couponCodes: [],
  ownAccountIds: [],
});

type Line = EventData<'ConversionAttributed'>['commissions'][number];

/** A revenue-share commission line of plan `standard` v1, in USD. */
export const commissionLine = (
  lineId: string,
  partnerId: string,
  fields: { base: string; rate: string; amount: string; payableAt: string; status?: 'pending' | 'held' },
): Line => ({
  lineId,
  partnerId,
  planId: 'standard',
  planVersion: 1,
  rule: 'revenueShare',
  tier: null,
  base: fields.base,
  rate: fields.rate,
  amount: fields.amount,
  currency: 'USD',
  uncappedAmount: null,
  payableAt: fields.payableAt,
  status: fields.status ?? 'pending',
  holdReason: fields.status === 'held' ? 'self-referral' : null,
  overrideOf: null,
});

/** A conversion with the given credits (the first is the sourced one), influencers, rates and lines. */
export const conversion = (fields: {
  conversionId: string;
  amount: string;
  currency?: string;
  kind?: EventData<'ConversionAttributed'>['kind'];
  accountId?: string | null;
  credits?: ReadonlyArray<readonly [partnerId: string, revenueCredit: string]>;
  influencers?: readonly string[];
  fx?: EventData<'ConversionAttributed'>['fx'];
  commissions?: Line[];
}): EventData<'ConversionAttributed'> => {
  const credits = fields.credits ?? [];
  return {
    conversionId: fields.conversionId,
    customerId: `customer-of-${fields.conversionId}`,
    accountId: fields.accountId ?? null,
    visitorId: null,
    kind: fields.kind ?? 'order',
    amount: fields.amount,
    currency: fields.currency ?? 'USD',
    couponCode: null,
    attribution: {
      basis: credits.length === 0 ? 'none' : 'clicks',
      model: 'linear',
      clickWindowDays: 30,
      halfLifeDays: 7,
      registrationId: null,
    },
    credits: credits.map(([partnerId, revenueCredit], i) => ({
      partnerId,
      weight: '1/2',
      revenueCredit,
      role: i === 0 ? ('sourced' as const) : ('influenced' as const),
      touchIds: [],
    })),
    influencers: (fields.influencers ?? []).map((partnerId) => ({ partnerId, touchIds: [] })),
    fx: fields.fx ?? [],
    commissions: fields.commissions ?? [],
  };
};
