import { newEvent } from '@partner-ledger/events';
import type { EventData, EventType, NewEvent } from '@partner-ledger/events';
import { createInMemoryStore } from '@partner-ledger/store';
import { checkInvariants } from './invariants';

// Histories the ledger would never write, appended straight to a store (whose hash links are then intact):
// only the invariants can tell that the numbers are wrong.

let n = 0;
const event = <T extends EventType>(
  type: T,
  data: EventData<T>,
  occurredAt = '2026-01-10T00:00:00.000Z',
): NewEvent =>
  newEvent(type, data, {
    id: `evt-${(n += 1)}`,
    occurredAt,
    recordedAt: occurredAt,
    actor: 'test',
    correlationId: 'c',
    causationId: null,
  });

const conversion = (credits: readonly string[], amount = '100.00') =>
  event('ConversionAttributed', {
    conversionId: 'o-1',
    customerId: 'k-1',
    accountId: null,
    visitorId: 'v-1',
    kind: 'order',
    amount,
    currency: 'USD',
    couponCode: null,
    attribution: {
      basis: 'clicks',
      model: 'linear',
      clickWindowDays: 30,
      halfLifeDays: 7,
      registrationId: null,
    },
    credits: credits.map((revenueCredit, i) => ({
      partnerId: `p-${i + 1}`,
      weight: `1/${credits.length}`,
      revenueCredit,
      role: i === 0 ? ('sourced' as const) : ('influenced' as const),
      touchIds: [`c-${i + 1}`],
    })),
    influencers: [],
    fx: [],
    commissions: [
      {
        lineId: 'o-1/p-1/0',
        partnerId: 'p-1',
        planId: 'plan',
        planVersion: 1,
        rule: 'revenueShare',
        tier: null,
        base: credits[0]!,
        rate: '0.2',
        amount: '10.00',
        currency: 'USD',
        uncappedAmount: null,
        payableAt: '2026-02-09T00:00:00.000Z',
        status: 'pending',
        holdReason: null,
        overrideOf: null,
      },
    ],
  });

const payout = (amount: string, settled: string, occurredAt: string) =>
  event(
    'PayoutIssued',
    {
      payoutId: `pay-${n}`,
      partnerId: 'p-1',
      amount,
      currency: 'USD',
      method: 'paypal',
      externalReference: null,
      settles: [{ kind: 'commission', id: 'o-1/p-1/0', amount: settled }],
    },
    occurredAt,
  );

const reversal = (lineAmount: string) =>
  event('ConversionReversed', {
    reversalId: `r-${n}`,
    conversionId: 'o-1',
    customerId: 'k-1',
    kind: 'refund',
    amount: '50.00',
    currency: 'USD',
    credits: [
      { partnerId: 'p-1', revenueCredit: '25.00' },
      { partnerId: 'p-2', revenueCredit: '25.00' },
    ],
    lines: [{ lineId: 'o-1/p-1/0', partnerId: 'p-1', amount: lineAmount, currency: 'USD' }],
    reason: null,
  });

const check = async (...events: NewEvent[]) => {
  const store = createInMemoryStore();
  for (const e of events) await store.append('s', [e]);
  return checkInvariants(store);
};

describe('the invariants verify checks', () => {
  it('accepts a consistent history: credits, a partial refund, a payout of what was payable', async () => {
    expect(
      await check(
        conversion(['50.00', '50.00']),
        reversal('5.00'),
        payout('5.00', '5.00', '2026-02-10T00:00:00.000Z'),
      ),
    ).toBeNull();
  });

  it('names a conversion whose credits do not sum to its amount', async () => {
    const problem = await check(conversion(['50.00', '49.99']));
    expect(problem).toMatchObject({ rule: 'creditsSumToAmount', position: 0 });
    expect(problem?.message).toContain('sum to 9999 minor units of USD, not to its amount 10000');
  });

  it('names a reversal that takes back more than a line earned', async () => {
    expect(await check(conversion(['50.00', '50.00']), reversal('8.00'), reversal('8.00'))).toMatchObject({
      rule: 'linesSumToAccruedMinusReversed',
      position: 2,
    });
  });

  it('names a payout of a line before it is payable, or of more than is left of it', async () => {
    expect(
      await check(conversion(['50.00', '50.00']), payout('10.00', '10.00', '2026-02-01T00:00:00.000Z')),
    ).toMatchObject({
      rule: 'payoutWithinPayable',
      message: expect.stringContaining('not payable before 2026-02-09'),
    });
    expect(
      await check(
        conversion(['50.00', '50.00']),
        reversal('5.00'),
        payout('10.00', '10.00', '2026-02-10T00:00:00.000Z'),
      ),
    ).toMatchObject({
      rule: 'payoutWithinPayable',
      message: expect.stringContaining('only 500 minor units were left'),
    });
    expect(
      await check(conversion(['50.00', '50.00']), payout('10.00', '9.00', '2026-02-10T00:00:00.000Z')),
    ).toMatchObject({
      rule: 'payoutWithinPayable',
      message: expect.stringContaining('not to its amount'),
    });
  });
});
