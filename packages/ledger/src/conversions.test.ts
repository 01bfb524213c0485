import * as E from 'fp-ts/Either';
import { createInMemoryStore } from '@partner-ledger/store';
import { createLedger } from './ledger';
import {
  basicProgram,
  clickTracked,
  conversionAttributed,
  dealRegistered,
  partnerJoined,
  planPublished,
  programConfigured,
  registrationApproved,
} from './testing/fixtures';
import { SPEC_NOW, appendGiven, ledgerSpec } from './testing/spec';

const spec = ledgerSpec();
const NOW = SPEC_NOW; // 2026-03-15T12:00:00.000Z

const conversion = {
  command: 'recordConversion',
  conversionId: 'o1',
  customerId: 'cust-1',
  visitorId: 'v1',
  kind: 'order',
  amount: '100.00',
  currency: 'USD',
  occurredAt: '2026-03-15T10:00:00.000Z',
};
const clickAt = '2026-03-14T10:00:00.000Z';

describe('recordConversion: attribution', () => {
  it('credits the last click and rates its commission, payable after the hold', () =>
    spec
      .given([
        ...basicProgram('p1', 'p2'),
        clickTracked('c1', 'p1', 'v1', '2026-03-01T10:00:00.000Z'),
        clickTracked('c2', 'p2', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          occurredAt: '2026-03-15T10:00:00.000Z',
          data: {
            conversionId: 'o1',
            attribution: { basis: 'clicks', model: 'lastTouch', clickWindowDays: 30, registrationId: null },
            credits: [
              { partnerId: 'p2', weight: '1', revenueCredit: '100.00', role: 'sourced', touchIds: ['c2'] },
            ],
            influencers: [{ partnerId: 'p1', touchIds: ['c1'] }],
            commissions: [
              {
                lineId: 'o1/p2/0',
                partnerId: 'p2',
                planId: 'standard',
                planVersion: 1,
                rule: 'revenueShare',
                base: '100.00',
                rate: '0.2',
                amount: '20.00',
                payableAt: '2026-04-14T10:00:00.000Z',
                status: 'pending',
              },
            ],
          },
        },
      ]));

  it('splits linear credit exactly to the cent', () =>
    spec
      .given([
        programConfigured({
          attribution: { model: 'linear', clickWindowDays: 30, halfLifeDays: 7, precedence: ['clicks'] },
        }),
        planPublished(),
        partnerJoined('p1'),
        partnerJoined('p2'),
        partnerJoined('p3'),
        clickTracked('c1', 'p1', 'v1', '2026-03-10T10:00:00.000Z'),
        clickTracked('c2', 'p2', 'v1', '2026-03-11T10:00:00.000Z'),
        clickTracked('c3', 'p3', 'v1', '2026-03-12T10:00:00.000Z'),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            credits: [
              { partnerId: 'p1', weight: '1/3', revenueCredit: '33.34' },
              { partnerId: 'p2', weight: '1/3', revenueCredit: '33.33' },
              { partnerId: 'p3', weight: '1/3', revenueCredit: '33.33' },
            ],
          },
        },
      ]));

  it('ignores clicks outside the window', () =>
    spec
      .given([...basicProgram('p1'), clickTracked('c1', 'p1', 'v1', '2026-01-01T10:00:00.000Z')])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: { attribution: { basis: 'none' }, credits: [], commissions: [] },
        },
      ]));

  it('never credits a click flagged as fraud', () =>
    spec
      .given([...basicProgram('p1'), clickTracked('c1', 'p1', 'v1', clickAt, { fraudReason: 'bot' })])
      .when(conversion)
      .then([{ type: 'ConversionAttributed', data: { attribution: { basis: 'none' }, credits: [] } }]));

  it('never credits a partner that was suspended when it touched', () =>
    spec
      .given([
        ...basicProgram('p1'),
        {
          type: 'PartnerStatusChanged',
          data: { partnerId: 'p1', status: 'suspended', previousStatus: 'active', reason: 'review' },
          occurredAt: '2026-03-01T00:00:00.000Z',
        },
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .then([{ type: 'ConversionAttributed', data: { credits: [] } }]));

  it('gives an approved, unexpired deal registration all of the sourced credit; clickers only influence', () =>
    spec
      .given([
        ...basicProgram('p1', 'reseller'),
        clickTracked('c1', 'p1', 'v1', clickAt),
        dealRegistered('r1', 'reseller', 'acme.com', '2026-06-01T00:00:00.000Z'),
        registrationApproved('r1', 'reseller', 'acme.com'),
      ])
      .when({ ...conversion, accountId: 'acme.com', kind: 'closedWon' })
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            attribution: { basis: 'dealRegistration', registrationId: 'r1' },
            credits: [{ partnerId: 'reseller', role: 'sourced', revenueCredit: '100.00' }],
            influencers: [{ partnerId: 'p1', touchIds: ['c1'] }],
          },
        },
      ]));

  it('lets clicks decide once the registration has expired', () =>
    spec
      .given([
        ...basicProgram('p1', 'reseller'),
        clickTracked('c1', 'p1', 'v1', clickAt),
        dealRegistered('r1', 'reseller', 'acme.com', '2026-03-10T00:00:00.000Z'),
        registrationApproved('r1', 'reseller', 'acme.com'),
      ])
      .when({ ...conversion, accountId: 'acme.com' })
      .then([
        {
          type: 'ConversionAttributed',
          data: { attribution: { basis: 'clicks' }, credits: [{ partnerId: 'p1' }] },
        },
      ]));

  it('does not give a pending (unapproved) registration precedence', () =>
    spec
      .given([
        ...basicProgram('p1', 'reseller'),
        clickTracked('c1', 'p1', 'v1', clickAt),
        dealRegistered('r1', 'reseller', 'acme.com', '2026-06-01T00:00:00.000Z'),
      ])
      .when({ ...conversion, accountId: 'acme.com' })
      .then([{ type: 'ConversionAttributed', data: { attribution: { basis: 'clicks' } } }]));

  it('lets a coupon code source the conversion over clicks', () =>
    spec
      .given([
        ...basicProgram('p1'),
        partnerJoined('creator', { couponCodes: ['SPRING'] }),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when({ ...conversion, couponCode: 'SPRING' })
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            couponCode: 'SPRING',
            attribution: { basis: 'coupon' },
            credits: [{ partnerId: 'creator', touchIds: ['SPRING'] }],
          },
        },
      ]));

  it('credits an influence touch as influence only', () =>
    spec
      .given([
        ...basicProgram('p1', 'tech'),
        clickTracked('c1', 'p1', 'v1', clickAt),
        {
          type: 'InfluenceTouchRecorded',
          data: {
            touchId: 't1',
            partnerId: 'tech',
            accountId: 'acme.com',
            kind: 'integrationInstalled',
            note: null,
          },
          occurredAt: '2026-03-02T00:00:00.000Z',
        },
      ])
      .when({ ...conversion, accountId: 'acme.com' })
      .then([
        {
          type: 'ConversionAttributed',
          data: { credits: [{ partnerId: 'p1' }], influencers: [{ partnerId: 'tech', touchIds: ['t1'] }] },
        },
      ]));

  it('credits a renewal to the partner the customer is bound to, without a new click', () =>
    spec
      .given([
        ...basicProgram('p1'),
        conversionAttributed({
          conversionId: 'first',
          partnerId: 'p1',
          amount: '100.00',
          commission: '20.00',
          payableAt: '2026-02-09T00:00:00.000Z',
          customerId: 'cust-1',
        }),
      ])
      .when({ ...conversion, conversionId: 'renewal-1', kind: 'renewal', visitorId: null })
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            attribution: { basis: 'customerBinding' },
            credits: [{ partnerId: 'p1', role: 'sourced' }],
            commissions: [{ partnerId: 'p1', amount: '20.00' }],
          },
        },
      ]));

  it('stops paying renewals after the plan`s recurring months', () =>
    spec
      .given([
        programConfigured(),
        planPublished({ recurringMaxMonths: 1 }),
        partnerJoined('p1'),
        conversionAttributed({
          conversionId: 'first',
          partnerId: 'p1',
          amount: '100.00',
          commission: '20.00',
          payableAt: '2026-02-09T00:00:00.000Z',
          customerId: 'cust-1',
        }),
      ])
      .when({ ...conversion, conversionId: 'renewal-2', kind: 'renewal', visitorId: null })
      .then([{ type: 'ConversionAttributed', data: { credits: [{ partnerId: 'p1' }], commissions: [] } }]));
});

describe('recordConversion: commissions', () => {
  it('rates with the plan version in effect at the conversion, not today`s', () =>
    spec
      .given([
        programConfigured(),
        planPublished(),
        planPublished({
          version: 2,
          effectiveFrom: '2026-03-15T11:00:00.000Z',
          rules: [{ kind: 'revenueShare', rate: '0.5' }],
        }),
        partnerJoined('p1'),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: { commissions: [{ planVersion: 1, rate: '0.2', amount: '20.00' }] },
        },
      ]));

  it('writes a line at tier null, rate 0 below the first tier of a ladder that starts above 0', () =>
    spec
      .given([
        programConfigured(),
        planPublished({
          rules: [
            {
              kind: 'tieredRevenueShare',
              period: 'month',
              measure: 'conversions',
              tiers: [{ name: 'silver', from: '3', rate: '0.1' }],
            },
          ],
        }),
        partnerJoined('p1'),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            commissions: [
              { rule: 'tieredRevenueShare', tier: null, rate: '0', base: '100.00', amount: '0.00' },
            ],
          },
        },
      ]));

  it('rates with the plan the partner was on at the conversion', () =>
    spec
      .given([
        programConfigured(),
        planPublished(),
        planPublished({ planId: 'gold', rules: [{ kind: 'flat', amount: '30.00' }] }),
        partnerJoined('p1'),
        {
          type: 'PartnerPlanChanged',
          data: { partnerId: 'p1', planId: 'gold', previousPlanId: 'standard' },
          occurredAt: '2026-03-02T00:00:00.000Z',
        },
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: { commissions: [{ planId: 'gold', rule: 'flat', amount: '30.00' }] },
        },
      ]));

  it('earns the parent a two-tier override on its sub-partner`s line', () =>
    spec
      .given([
        programConfigured(),
        planPublished({ twoTierOverrideRate: '0.1' }),
        partnerJoined('parent'),
        partnerJoined('child', { parentPartnerId: 'parent' }),
        clickTracked('c1', 'child', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            commissions: [
              { lineId: 'o1/child/0', partnerId: 'child', amount: '20.00' },
              {
                lineId: 'o1/parent/0',
                partnerId: 'parent',
                rule: 'twoTierOverride',
                base: '20.00',
                rate: '0.1',
                amount: '2.00',
                overrideOf: 'o1/child/0',
              },
            ],
          },
        },
      ]));

  it('caps a line per conversion and records the uncapped amount', () =>
    spec
      .given([
        programConfigured(),
        planPublished({ caps: { perConversion: '15.00', perPartnerPerPeriod: null } }),
        partnerJoined('p1'),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: { commissions: [{ amount: '15.00', uncappedAmount: '20.00' }] },
        },
      ]));

  it('caps a partner per period with what it earned earlier in the month', () =>
    spec
      .given([
        programConfigured(),
        planPublished({
          caps: { perConversion: null, perPartnerPerPeriod: { amount: '50.00', period: 'month' } },
        }),
        partnerJoined('p1'),
        conversionAttributed({
          conversionId: 'earlier',
          partnerId: 'p1',
          amount: '200.00',
          commission: '40.00',
          payableAt: '2026-04-01T00:00:00.000Z',
          occurredAt: '2026-03-02T00:00:00.000Z',
        }),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: { commissions: [{ amount: '10.00', uncappedAmount: '20.00' }] },
        },
      ]));

  it('caps a partner per period with what it earned from the conversions the same ledger just recorded', async () => {
    // One ledger, conversion after conversion: each reads the month's figures as the ones before it left them.
    const store = createInMemoryStore();
    await appendGiven(store, [
      programConfigured(),
      planPublished({
        caps: { perConversion: null, perPartnerPerPeriod: { amount: '50.00', period: 'month' } },
      }),
      partnerJoined('p1'),
      ...['v1', 'v2', 'v3', 'v4'].map((visitor) => clickTracked(`c-${visitor}`, 'p1', visitor, clickAt)),
    ]);
    const ledger = createLedger({ store, clock: () => new Date(NOW), ids: () => 'x' });
    const amounts: string[] = [];
    for (const visitor of ['v1', 'v2', 'v3', 'v4']) {
      const result = await ledger.execute({
        ...conversion,
        conversionId: `o-${visitor}`,
        customerId: `cust-${visitor}`,
        visitorId: visitor,
      })();
      if (E.isLeft(result)) throw new Error(JSON.stringify(result.left));
      const [event] = result.right.events;
      if (event?.type !== 'ConversionAttributed') throw new Error(`unexpected ${event?.type}`);
      amounts.push(...event.data.commissions.map((line) => line.amount));
    }
    expect(amounts).toEqual(['20.00', '20.00', '10.00', '0.00']);
  });

  it('rates a tier from the month to date including the conversion, without re-rating earlier ones', () =>
    spec
      .given([
        programConfigured(),
        planPublished({
          rules: [
            {
              kind: 'tieredRevenueShare',
              period: 'month',
              measure: 'revenue',
              tiers: [
                { name: 'base', from: '0.00', rate: '0.1' },
                { name: 'silver', from: '250.00', rate: '0.2' },
              ],
            },
          ],
        }),
        partnerJoined('p1'),
        conversionAttributed({
          conversionId: 'earlier',
          partnerId: 'p1',
          amount: '200.00',
          commission: '20.00',
          payableAt: '2026-04-01T00:00:00.000Z',
          occurredAt: '2026-03-02T00:00:00.000Z',
        }),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            commissions: [{ rule: 'tieredRevenueShare', tier: 'silver', rate: '0.2', amount: '20.00' }],
          },
        },
      ]));
});

describe('recordConversion: foreign exchange', () => {
  const eurPlan = [
    programConfigured(),
    planPublished({ currency: 'EUR' }),
    partnerJoined('p1'),
    clickTracked('c1', 'p1', 'v1', clickAt),
  ];

  it('rejects a conversion in another currency than the plan without a rate, naming the field', () =>
    spec.given(eurPlan).when(conversion).thenRejects('FX_RATE_MISSING', { field: 'fx' }));

  it('records the caller`s rate, its source and date, and rates in the plan currency', () =>
    spec
      .given(eurPlan)
      .when({
        ...conversion,
        fx: [{ from: 'USD', to: 'EUR', rate: '0.9', source: 'ECB', date: '2026-03-15T00:00:00.000Z' }],
      })
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            fx: [{ from: 'USD', to: 'EUR', rate: '0.9', source: 'ECB', date: '2026-03-15T00:00:00.000Z' }],
            commissions: [{ currency: 'EUR', base: '90.00', amount: '18.00' }],
          },
        },
      ]));

  it('rejects two different rates for the same pair', () =>
    spec
      .given(eurPlan)
      .when({
        ...conversion,
        fx: [
          { from: 'USD', to: 'EUR', rate: '0.9', source: 'ECB', date: '2026-03-15T00:00:00.000Z' },
          { from: 'USD', to: 'EUR', rate: '0.91', source: 'bank', date: '2026-03-15T00:00:00.000Z' },
        ],
      })
      .thenRejects('FX_RATE_AMBIGUOUS', { field: 'fx' }));

  it('rejects a rate dated after the conversion', () =>
    spec
      .given(eurPlan)
      .when({
        ...conversion,
        occurredAt: '2026-03-14T12:00:00.000Z',
        fx: [{ from: 'USD', to: 'EUR', rate: '0.9', source: 'ECB', date: '2026-03-15T00:00:00.000Z' }],
      })
      .thenRejects('FX_RATE_AFTER_CONVERSION', { field: 'fx' }));
});

describe('recordConversion: fraud signals hold commissions, never drop them', () => {
  it('holds every line of a self-referral', () =>
    spec
      .given([
        ...basicProgram(),
        partnerJoined('p1', { ownAccountIds: ['acme.com'] }),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when({ ...conversion, accountId: 'acme.com' })
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            commissions: [
              { amount: '20.00', status: 'held', holdReason: expect.stringContaining('selfReferral') },
            ],
          },
        },
      ]));

  it('holds a conversion too soon after its click', () =>
    spec
      .given([...basicProgram('p1'), clickTracked('c1', 'p1', 'v1', '2026-03-15T09:59:55.000Z')])
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            commissions: [
              { status: 'held', holdReason: expect.stringContaining('clickToConversionTooShort') },
            ],
          },
        },
      ]));

  it('does not hold a conversion exactly at the minimum', () =>
    spec
      .given([...basicProgram('p1'), clickTracked('c1', 'p1', 'v1', '2026-03-15T09:59:50.000Z')])
      .when(conversion)
      .then([
        { type: 'ConversionAttributed', data: { commissions: [{ status: 'pending', holdReason: null }] } },
      ]));
});

describe('recordConversion: idempotency and rejections', () => {
  const recorded = conversionAttributed({
    conversionId: 'o1',
    partnerId: 'p1',
    amount: '100.00',
    commission: '20.00',
    payableAt: '2026-04-14T10:00:00.000Z',
    customerId: 'cust-1',
    occurredAt: '2026-03-15T10:00:00.000Z',
  });
  const repeat = { ...recorded, data: { ...recorded.data, visitorId: 'v1' } };

  it('is a repeat when the same conversion is recorded again: the first result, nothing appended', async () => {
    const { result } = await spec
      .given([...basicProgram('p1'), repeat])
      .when(conversion)
      .thenAlreadyRecorded();
    expect(result).toMatchObject({
      right: { events: [{ type: 'ConversionAttributed', data: { conversionId: 'o1' } }] },
    });
  });

  it('rejects the same conversion id with another amount', () =>
    spec
      .given([...basicProgram('p1'), repeat])
      .when({ ...conversion, amount: '99.00' })
      .thenRejects('IDEMPOTENCY_CONFLICT', { field: 'conversionId' }));

  it('rejects a conversion before the program is configured', () =>
    spec
      .given([planPublished(), partnerJoined('p1')])
      .when(conversion)
      .thenRejects('PROGRAM_NOT_CONFIGURED'));

  it('uses the program settings given to createLedger while the store has none', async () => {
    const store = createInMemoryStore();
    await appendGiven(store, [planPublished(), partnerJoined('p1'), clickTracked('c1', 'p1', 'v1', clickAt)]);
    const ledger = createLedger({
      store,
      clock: () => new Date(NOW),
      ids: () => 'x',
      program: programConfigured().data,
    });
    const result = await ledger.execute(conversion)();
    expect(result).toMatchObject({ right: { events: [{ data: { credits: [{ partnerId: 'p1' }] } }] } });
  });

  it('rejects an amount with more decimals than its currency', () =>
    spec
      .given(basicProgram('p1'))
      .when({ ...conversion, currency: 'JPY', amount: '100.5' })
      .thenRejects('INVALID_COMMAND', { field: 'amount' }));

  it('rejects a credited partner whose plan has no version in effect yet', () =>
    spec
      .given([
        programConfigured(),
        planPublished({ effectiveFrom: '2026-03-15T11:00:00.000Z' }),
        partnerJoined('p1'),
        clickTracked('c1', 'p1', 'v1', clickAt),
      ])
      .when(conversion)
      .thenRejects('PLAN_NOT_FOUND'));

  it('returns typed results through the method API too', async () => {
    const store = createInMemoryStore();
    await appendGiven(store, [...basicProgram('p1'), clickTracked('c1', 'p1', 'v1', clickAt)]);
    const ledger = createLedger({ store, clock: () => new Date(NOW), ids: { next: () => 'corr' } });
    const { command: _tag, ...input } = conversion;
    const result = await ledger.recordConversion({ ...input, kind: 'order' })();
    expect(E.isRight(result) && result.right.events[0]!.correlationId).toBe('corr');
  });
});

describe('recordConversion: models at the ledger', () => {
  const withModel = (model: 'positionBased' | 'timeDecay' | 'firstTouch') => [
    programConfigured({
      attribution: { model, clickWindowDays: 30, halfLifeDays: 7, precedence: ['clicks'] },
    }),
    planPublished(),
    partnerJoined('p1'),
    partnerJoined('p2'),
    partnerJoined('p3'),
    clickTracked('c1', 'p1', 'v1', '2026-03-01T10:00:00.000Z'),
    clickTracked('c2', 'p2', 'v1', '2026-03-08T10:00:00.000Z'),
    clickTracked('c3', 'p3', 'v1', '2026-03-15T10:00:00.000Z'),
  ];

  it('first touch credits the first click', () =>
    spec
      .given(withModel('firstTouch'))
      .when(conversion)
      .then([{ type: 'ConversionAttributed', data: { credits: [{ partnerId: 'p1', weight: '1' }] } }]));

  it('position-based gives 40/20/40', () =>
    spec
      .given(withModel('positionBased'))
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            credits: [
              { partnerId: 'p1', weight: '0.4', revenueCredit: '40.00' },
              { partnerId: 'p2', weight: '0.2', revenueCredit: '20.00' },
              { partnerId: 'p3', weight: '0.4', revenueCredit: '40.00' },
            ],
          },
        },
      ]));

  it('time decay halves a click`s weight every half-life (1 : 2 : 4 for clicks 14, 7 and 0 days old)', () =>
    spec
      .given(withModel('timeDecay'))
      .when(conversion)
      .then([
        {
          type: 'ConversionAttributed',
          data: {
            attribution: { model: 'timeDecay', halfLifeDays: 7 },
            credits: [
              { partnerId: 'p1', revenueCredit: '14.29' },
              { partnerId: 'p2', revenueCredit: '28.57' },
              { partnerId: 'p3', revenueCredit: '57.14', role: 'sourced' },
            ],
          },
        },
      ]));

  it('ignores a coupon code that no partner owns', () =>
    spec
      .given([...basicProgram('p1'), clickTracked('c1', 'p1', 'v1', clickAt)])
      .when({ ...conversion, couponCode: 'NOBODY' })
      .then([
        { type: 'ConversionAttributed', data: { couponCode: 'NOBODY', attribution: { basis: 'clicks' } } },
      ]));
});
