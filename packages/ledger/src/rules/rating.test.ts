import * as fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { CommissionLine } from '@partner-ledger/events';
import type { ForeignExchange, Period } from '@partner-ledger/events';
import { rateCommissions } from './rating';
import { CONVERSION_AT, NO_STATS, partner, plan, ratingInput, soleCredit } from './testing/fixtures';
import type { PeriodStats, PlanVersion, RatingInput } from './types';

const rate = (over: Partial<RatingInput> = {}) => {
  const result = rateCommissions(ratingInput(over));
  if (E.isLeft(result)) throw new Error(`expected lines, got ${JSON.stringify(result.left)}`);
  for (const line of result.right) expect(E.isRight(CommissionLine.decode(line))).toBe(true);
  return result.right;
};

const rejection = (over: Partial<RatingInput>) => {
  const result = rateCommissions(ratingInput(over));
  if (E.isRight(result)) throw new Error('expected a rejection');
  return result.left;
};

/** The figures a reader checks: partner, rule, tier, base, rate, amount, uncapped amount. */
const figures = (lines: readonly CommissionLine[]) =>
  lines.map((l) => [l.partnerId, l.rule, l.tier, l.base, l.rate, l.amount, l.uncappedAmount]);

const withPlan = (over: Partial<PlanVersion>): Partial<RatingInput> => ({
  plans: new Map([['standard', plan(over)]]),
});

const split = [
  {
    partnerId: 'alice',
    weight: '2/3',
    revenueCredit: '66.67',
    role: 'sourced' as const,
    touchIds: ['k1', 'k3'],
  },
  { partnerId: 'bob', weight: '1/3', revenueCredit: '33.33', role: 'influenced' as const, touchIds: ['k2'] },
];
const bothPartners = new Map([
  ['alice', partner('alice')],
  ['bob', partner('bob')],
]);

describe('revenue share', () => {
  it('pays the rate times the revenue credit, from the plan version given', () => {
    const [line, ...rest] = rate();
    expect(rest).toEqual([]);
    expect(line).toEqual({
      lineId: 'conv-1/alice/0',
      partnerId: 'alice',
      planId: 'standard',
      planVersion: 1,
      rule: 'revenueShare',
      tier: null,
      base: '100.00',
      rate: '0.2',
      amount: '20.00',
      currency: 'USD',
      uncappedAmount: null,
      payableAt: '2026-04-30T12:00:00.000Z',
      status: 'pending',
      holdReason: null,
      overrideOf: null,
    });
  });

  it('pays each credited partner on its own credit', () => {
    const lines = rate({
      credits: split,
      partners: bothPartners,
      ...withPlan({ rules: [{ kind: 'revenueShare', rate: '0.15' }] }),
    });
    // 66.67 x 0.15 = 10.0005 -> 10.00; 33.33 x 0.15 = 4.9995 -> 5.00
    expect(figures(lines)).toEqual([
      ['alice', 'revenueShare', null, '66.67', '0.15', '10.00', null],
      ['bob', 'revenueShare', null, '33.33', '0.15', '5.00', null],
    ]);
  });

  it('rounds half to even, once: 10.05 x 50% = 5.025 -> 5.02; 10.15 x 50% = 5.075 -> 5.08', () => {
    const half = withPlan({ rules: [{ kind: 'revenueShare', rate: '0.5' }] });
    expect(rate({ credits: [soleCredit('alice', '10.05')], ...half })[0]!.amount).toBe('5.02');
    expect(rate({ credits: [soleCredit('alice', '10.15')], ...half })[0]!.amount).toBe('5.08');
  });

  it('computes in the plan currency with the minor units of that currency (JPY, BHD)', () => {
    const jpy = rate({
      currency: 'JPY',
      credits: [soleCredit('alice', '12345')],
      ...withPlan({ currency: 'JPY', rules: [{ kind: 'revenueShare', rate: '0.1' }] }),
    });
    expect(figures(jpy)).toEqual([['alice', 'revenueShare', null, '12345', '0.1', '1234', null]]); // 1234.5 -> 1234
    const bhd = rate({
      currency: 'BHD',
      credits: [soleCredit('alice', '1.005')],
      ...withPlan({ currency: 'BHD', rules: [{ kind: 'revenueShare', rate: '1/3' }] }),
    });
    expect(figures(bhd)).toEqual([['alice', 'revenueShare', null, '1.005', '1/3', '0.335', null]]);
  });
});

describe('flat (cost per sale)', () => {
  it('pays the flat amount to a sole partner', () => {
    const lines = rate(withPlan({ rules: [{ kind: 'flat', amount: '25.00' }] }));
    expect(figures(lines)).toEqual([['alice', 'flat', null, '25.00', '1', '25.00', null]]);
  });

  it('shares one flat amount between the credited partners by weight (rate = weight)', () => {
    const lines = rate({
      credits: split,
      partners: bothPartners,
      ...withPlan({ rules: [{ kind: 'flat', amount: '10.00' }] }),
    });
    expect(figures(lines)).toEqual([
      ['alice', 'flat', null, '10.00', '2/3', '6.67', null],
      ['bob', 'flat', null, '10.00', '1/3', '3.33', null],
    ]);
  });

  it('writes one line per rule of the plan, numbered per partner', () => {
    const lines = rate(
      withPlan({
        rules: [
          { kind: 'flat', amount: '5.00' },
          { kind: 'revenueShare', rate: '0.1' },
        ],
      }),
    );
    expect(lines.map((l) => [l.lineId, l.rule, l.amount])).toEqual([
      ['conv-1/alice/0', 'flat', '5.00'],
      ['conv-1/alice/1', 'revenueShare', '10.00'],
    ]);
  });
});

describe('tiered revenue share', () => {
  const tiers = {
    kind: 'tieredRevenueShare' as const,
    period: 'month' as const,
    measure: 'revenue' as const,
    tiers: [
      { name: 'Silver', from: '1000.00', rate: '0.15' },
      { name: 'Bronze', from: '0.00', rate: '0.1' },
      { name: 'Gold', from: '5000.00', rate: '0.2' },
    ],
  };
  const statsOf =
    (revenue: string, conversions = 0): RatingInput['periodStats'] =>
    () => ({
      revenue,
      conversions,
      commission: '0',
    });

  it('rates with the tier reached including this conversion (900 + 200 = 1100: Silver, 15%)', () => {
    const lines = rate({
      credits: [soleCredit('alice', '200.00')],
      periodStats: statsOf('900.00'),
      ...withPlan({ rules: [tiers] }),
    });
    expect(figures(lines)).toEqual([
      ['alice', 'tieredRevenueShare', 'Silver', '200.00', '0.15', '30.00', null],
    ]);
  });

  it('does not re-rate: the conversion that crosses into Gold earns Gold on itself only', () => {
    const below = rate({
      credits: [soleCredit('alice', '200.00')],
      periodStats: statsOf('4700.00'),
      ...withPlan({ rules: [tiers] }),
    });
    expect(figures(below)).toEqual([
      ['alice', 'tieredRevenueShare', 'Silver', '200.00', '0.15', '30.00', null],
    ]);
    const crossing = rate({
      credits: [soleCredit('alice', '200.00')],
      periodStats: statsOf('4900.00'),
      ...withPlan({ rules: [tiers] }),
    });
    expect(figures(crossing)).toEqual([
      ['alice', 'tieredRevenueShare', 'Gold', '200.00', '0.2', '40.00', null],
    ]);
  });

  it('reaching a threshold exactly reaches the tier', () => {
    const lines = rate({
      credits: [soleCredit('alice', '100.00')],
      periodStats: statsOf('900.00'),
      ...withPlan({ rules: [tiers] }),
    });
    expect(lines[0]!.tier).toBe('Silver');
  });

  it('counts conversions when the measure is conversions, in the period the rule names', () => {
    const asked: Period[] = [];
    const byCount = {
      kind: 'tieredRevenueShare' as const,
      period: 'quarter' as const,
      measure: 'conversions' as const,
      tiers: [
        { name: 'Starter', from: '0', rate: '0.1' },
        { name: 'Pro', from: '10', rate: '0.2' },
      ],
    };
    const periodStats = (_p: string, _plan: string, period: Period): PeriodStats => {
      asked.push(period);
      return { revenue: '0', conversions: 9, commission: '0' };
    };
    const lines = rate({ periodStats, ...withPlan({ rules: [byCount] }) });
    expect(figures(lines)).toEqual([['alice', 'tieredRevenueShare', 'Pro', '100.00', '0.2', '20.00', null]]);
    expect(asked).toEqual(['quarter']);
  });

  it('below the first tier the rule earns nothing (tier null, rate 0)', () => {
    const high = { ...tiers, tiers: [{ name: 'Silver', from: '1000.00', rate: '0.15' }] };
    const lines = rate({ ...withPlan({ rules: [high] }) });
    expect(figures(lines)).toEqual([['alice', 'tieredRevenueShare', null, '100.00', '0', '0.00', null]]);
  });
});

describe('recurring', () => {
  const renewal = (first: string | null, maxMonths: number | null, occurredAt = CONVERSION_AT) =>
    rate({
      kind: 'renewal',
      occurredAt,
      customerFirstConversionAt: first,
      ...withPlan({ recurringMaxMonths: maxMonths }),
    });

  it('pays renewals within maxMonths of the first conversion, not from the first instant after', () => {
    // first conversion 2026-01-15T12:00Z, maxMonths 2: renewals until 2026-03-15T12:00Z (excluded)
    expect(renewal('2026-01-15T12:00:00.000Z', 2, '2026-03-15T11:59:59.999Z')).toHaveLength(1);
    expect(renewal('2026-01-15T12:00:00.000Z', 2, '2026-03-15T12:00:00.000Z')).toEqual([]);
  });

  it('counts calendar months, clamping to the end of a shorter month', () => {
    expect(renewal('2026-01-31T00:00:00.000Z', 1, '2026-02-27T23:59:59.999Z')).toHaveLength(1);
    expect(renewal('2026-01-31T00:00:00.000Z', 1, '2026-02-28T00:00:00.000Z')).toEqual([]);
  });

  it('0 months: only the first conversion earns; null: renewals earn for ever', () => {
    expect(renewal('2026-03-01T00:00:00.000Z', 0)).toEqual([]);
    expect(renewal(null, 0)).toHaveLength(1);
    expect(renewal('2016-03-01T00:00:00.000Z', null)).toHaveLength(1);
  });

  it('limits renewals only: a repeat order is rated as usual', () => {
    const lines = rate({
      kind: 'order',
      customerFirstConversionAt: '2020-01-01T00:00:00.000Z',
      ...withPlan({ recurringMaxMonths: 0 }),
    });
    expect(lines).toHaveLength(1);
  });
});

describe('caps', () => {
  const big = { credits: [soleCredit('alice', '1000.00')] };

  it('per conversion: 20% of 1000.00 = 200.00 capped at 150.00, recording the uncapped amount', () => {
    const lines = rate({
      ...big,
      ...withPlan({ caps: { perConversion: '150.00', perPartnerPerPeriod: null } }),
    });
    expect(figures(lines)).toEqual([['alice', 'revenueShare', null, '1000.00', '0.2', '150.00', '200.00']]);
  });

  it('per conversion, across the rules of the plan in order', () => {
    const lines = rate({
      ...big,
      ...withPlan({
        rules: [
          { kind: 'flat', amount: '10.00' },
          { kind: 'revenueShare', rate: '0.2' },
        ],
        caps: { perConversion: '150.00', perPartnerPerPeriod: null },
      }),
    });
    expect(figures(lines)).toEqual([
      ['alice', 'flat', null, '10.00', '1', '10.00', null],
      ['alice', 'revenueShare', null, '1000.00', '0.2', '140.00', '200.00'],
    ]);
  });

  it('per partner per period: what is left of the cap after the commission already earned in it', () => {
    const asked: Period[] = [];
    const statsWith = (commission: string) => (_p: string, _plan: string, period: Period) => {
      asked.push(period);
      return { ...NO_STATS, commission };
    };
    const capped = withPlan({
      caps: { perConversion: null, perPartnerPerPeriod: { amount: '500.00', period: 'quarter' } },
    });
    expect(figures(rate({ ...big, ...capped, periodStats: statsWith('450.00') }))).toEqual([
      ['alice', 'revenueShare', null, '1000.00', '0.2', '50.00', '200.00'],
    ]);
    expect(figures(rate({ ...big, ...capped, periodStats: statsWith('600.00') }))).toEqual([
      ['alice', 'revenueShare', null, '1000.00', '0.2', '0.00', '200.00'],
    ]);
    expect(figures(rate({ ...big, ...capped, periodStats: statsWith('100.00') }))).toEqual([
      ['alice', 'revenueShare', null, '1000.00', '0.2', '200.00', null],
    ]);
    expect(asked).toEqual(['quarter', 'quarter', 'quarter']);
  });

  it('does not record an uncapped amount when the cap only trims below the minor unit', () => {
    const lines = rate({
      credits: [soleCredit('alice', '50.02')],
      ...withPlan({ caps: { perConversion: '10.00', perPartnerPerPeriod: null } }),
    });
    // 50.02 x 0.2 = 10.004 -> 10.00 uncapped as well
    expect(figures(lines)).toEqual([['alice', 'revenueShare', null, '50.02', '0.2', '10.00', null]]);
  });
});

describe('two-tier overrides', () => {
  const family = new Map([
    ['alice', partner('alice', 'standard', { parentPartnerId: 'parent' })],
    ['parent', partner('parent', 'other-plan')],
  ]);

  it("pays the parent the override rate of the child's line, as a separate line", () => {
    const lines = rate({ partners: family, ...withPlan({ twoTierOverrideRate: '0.1' }) });
    expect(figures(lines)).toEqual([
      ['alice', 'revenueShare', null, '100.00', '0.2', '20.00', null],
      ['parent', 'twoTierOverride', null, '20.00', '0.1', '2.00', null],
    ]);
    expect(lines[1]).toMatchObject({
      lineId: 'conv-1/parent/0',
      overrideOf: 'conv-1/alice/0',
      planId: 'standard',
      planVersion: 1,
      payableAt: lines[0]!.payableAt,
    });
  });

  it("is earned on the child's capped amount", () => {
    const lines = rate({
      partners: family,
      credits: [soleCredit('alice', '1000.00')],
      ...withPlan({
        twoTierOverrideRate: '0.1',
        caps: { perConversion: '150.00', perPartnerPerPeriod: null },
      }),
    });
    expect(lines.map((l) => [l.partnerId, l.amount])).toEqual([
      ['alice', '150.00'],
      ['parent', '15.00'],
    ]);
  });

  it('pays nothing to an inactive parent, or without an override rate', () => {
    const inactive = new Map([...family, ['parent', partner('parent', 'other-plan', { active: false })]]);
    expect(
      rate({ partners: inactive, ...withPlan({ twoTierOverrideRate: '0.1' }) }).map((l) => l.partnerId),
    ).toEqual(['alice']);
    expect(rate({ partners: family }).map((l) => l.partnerId)).toEqual(['alice']);
  });

  it('rejects a parent it does not know', () => {
    const orphan = new Map([['alice', partner('alice', 'standard', { parentPartnerId: 'ghost' })]]);
    expect(rejection({ partners: orphan, ...withPlan({ twoTierOverrideRate: '0.1' }) })).toMatchObject({
      code: 'PARTNER_MISSING',
      field: 'partners.ghost',
    });
  });
});

describe('hold, payable date and inactive partners', () => {
  it('holds every line, overrides included, when the caller found fraud signals', () => {
    const lines = rate({
      partners: new Map([
        ['alice', partner('alice', 'standard', { parentPartnerId: 'parent' })],
        ['parent', partner('parent')],
      ]),
      hold: { reasons: ['self-referral', 'click-to-conversion 3s'] },
      ...withPlan({ twoTierOverrideRate: '0.1' }),
    });
    expect(lines.map((l) => [l.status, l.holdReason])).toEqual([
      ['held', 'self-referral; click-to-conversion 3s'],
      ['held', 'self-referral; click-to-conversion 3s'],
    ]);
  });

  it('makes lines payable at the conversion time plus the hold period', () => {
    expect(rate(withPlan({ holdDays: 0 }))[0]!.payableAt).toBe(CONVERSION_AT);
    expect(rate(withPlan({ holdDays: 45 }))[0]!.payableAt).toBe('2026-05-15T12:00:00.000Z');
  });

  it('pays nothing to a credited partner that is not active', () => {
    expect(rate({ partners: new Map([['alice', partner('alice', 'standard', { active: false })]]) })).toEqual(
      [],
    );
  });
});

describe('foreign exchange', () => {
  const eurUsd = (rateText: string, date = CONVERSION_AT): ForeignExchange => ({
    from: 'EUR',
    to: 'USD',
    rate: rateText,
    source: 'ECB',
    date,
  });

  it('converts the credit with the rate supplied, and rounds the commission once', () => {
    // 10.00 EUR x 1.0051 = 10.051 USD (recorded base 10.05); x 50% = 5.0255 -> 5.03 (not 10.05 x 50% = 5.02)
    const lines = rate({
      currency: 'EUR',
      credits: [soleCredit('alice', '10.00')],
      fx: [eurUsd('1.0051')],
      ...withPlan({ rules: [{ kind: 'revenueShare', rate: '0.5' }] }),
    });
    expect(figures(lines)).toEqual([['alice', 'revenueShare', null, '10.05', '0.5', '5.03', null]]);
    expect(lines[0]!.currency).toBe('USD');
  });

  it('converts JPY into USD', () => {
    const lines = rate({
      currency: 'JPY',
      credits: [soleCredit('alice', '15000')],
      fx: [{ from: 'JPY', to: 'USD', rate: '0.0067', source: 'ECB', date: '2026-03-31T00:00:00.000Z' }],
    });
    expect(figures(lines)).toEqual([['alice', 'revenueShare', null, '100.50', '0.2', '20.10', null]]);
  });

  it('uses no rate when the currencies are the same, and ignores rates for other pairs', () => {
    expect(rate({ fx: [eurUsd('2')] })[0]!.amount).toBe('20.00');
  });

  it('rejects a missing rate, and names the pair', () => {
    expect(rejection({ currency: 'EUR', credits: [soleCredit('alice', '10.00')] })).toMatchObject({
      code: 'FX_RATE_MISSING',
      field: 'fx',
      message: expect.stringContaining('EUR->USD'),
    });
  });

  it('rejects an inverse rate: the rate must go from the conversion currency to the plan currency', () => {
    const usdEur = { ...eurUsd('0.9'), from: 'USD', to: 'EUR' };
    expect(rejection({ currency: 'EUR', credits: [soleCredit('alice', '10.00')], fx: [usdEur] }).code).toBe(
      'FX_RATE_MISSING',
    );
  });

  it('rejects two different rates for the same pair, and accepts the same rate twice', () => {
    const credits = [soleCredit('alice', '10.00')];
    expect(rejection({ currency: 'EUR', credits, fx: [eurUsd('1.08'), eurUsd('1.09')] }).code).toBe(
      'FX_RATE_AMBIGUOUS',
    );
    expect(rate({ currency: 'EUR', credits, fx: [eurUsd('1.08'), eurUsd('1.080')] })[0]!.amount).toBe('2.16');
  });

  it("rejects a rate dated after the conversion's day (today's rate for a past conversion)", () => {
    const credits = [soleCredit('alice', '10.00')];
    expect(
      rejection({ currency: 'EUR', credits, fx: [eurUsd('1.08', '2026-04-01T00:00:00.000Z')] }).code,
    ).toBe('FX_RATE_AFTER_CONVERSION');
    expect(rate({ currency: 'EUR', credits, fx: [eurUsd('1.08', '2026-03-31T23:00:00.000Z')] })).toHaveLength(
      1,
    );
    expect(rate({ currency: 'EUR', credits, fx: [eurUsd('1.08', '2026-03-30T00:00:00.000Z')] })).toHaveLength(
      1,
    );
  });
});

describe('rejections', () => {
  it('a credited partner that is not known', () => {
    expect(rejection({ partners: new Map() })).toMatchObject({
      code: 'PARTNER_MISSING',
      field: 'credits[0].partnerId',
    });
  });

  it("a partner's plan that is not given", () => {
    expect(rejection({ plans: new Map() })).toMatchObject({ code: 'PLAN_MISSING', field: 'plans.standard' });
  });

  it('a plan version not yet effective at the conversion time, or one of another plan', () => {
    expect(rejection(withPlan({ effectiveFrom: '2026-04-01T00:00:00.000Z' }))).toMatchObject({
      code: 'PLAN_NOT_EFFECTIVE',
      field: 'plans.standard',
    });
    expect(rejection({ plans: new Map([['standard', plan({ planId: 'gold' })]]) }).code).toBe(
      'PLAN_NOT_EFFECTIVE',
    );
  });

  it('rates nothing and rejects nothing when there is no credit', () => {
    expect(rate({ credits: [], partners: new Map(), plans: new Map() })).toEqual([]);
  });
});

describe('rating properties', () => {
  it('rates come from the plan version given, never from anything else', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 99 }),
        fc.bigInt({ min: 0n, max: 10n ** 10n }),
        fc.integer({ min: 0, max: 1000 }),
        (rateBasisPoints, version, cents, otherBasisPoints) => {
          const rateText = (rateBasisPoints / 1000).toString();
          const otherRate = (otherBasisPoints / 1000).toString();
          const credit = `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
          const given = plan({ version, rules: [{ kind: 'revenueShare', rate: rateText }] });
          const decoy = plan({
            planId: 'decoy',
            version: version + 1,
            rules: [{ kind: 'revenueShare', rate: otherRate }],
          });
          const lines = rate({
            credits: [soleCredit('alice', credit)],
            plans: new Map([
              ['decoy', decoy],
              ['standard', given],
            ]),
          });
          expect(lines).toHaveLength(1);
          expect(lines[0]).toMatchObject({ planId: 'standard', planVersion: version, rate: rateText });
          // amount = round_half_even(credit x rate), computed here independently in integers:
          // credit (cents) x rate (thousandths) = hundred-thousandths of a cent.
          const scaled = cents * BigInt(rateBasisPoints);
          const q = scaled / 1000n;
          const r = scaled % 1000n;
          const roundedCents = r > 500n || (r === 500n && q % 2n === 1n) ? q + 1n : q;
          expect(lines[0]!.amount).toBe(
            `${roundedCents / 100n}.${(roundedCents % 100n).toString().padStart(2, '0')}`,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same input gives the same lines', () => {
    const input = {
      credits: split,
      partners: bothPartners,
      ...withPlan({
        rules: [
          { kind: 'flat', amount: '10.00' },
          { kind: 'revenueShare', rate: '0.15' },
        ],
      }),
    };
    expect(rate(input)).toEqual(rate(input));
  });
});
