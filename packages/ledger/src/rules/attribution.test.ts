import * as fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { ATTRIBUTION_MODELS, Credit } from '@partner-ledger/events';
import type { AttributionModel } from '@partner-ledger/events';
import { attribute } from './attribution';
import { add, compare, fraction, parseRatio, sum, ONE, ZERO, mul, parseDecimal, sub, toMinor } from './exact';
import {
  CONVERSION_AT,
  click,
  coupon,
  daysBefore,
  influence,
  registration,
  settings,
} from './testing/fixtures';
import type { AttributionInput, Touch } from './types';

const conversion = (touches: Touch[], over: Partial<AttributionInput> = {}): AttributionInput => ({
  amount: '100.00',
  currency: 'USD',
  occurredAt: CONVERSION_AT,
  settings: settings(),
  touches,
  customerBinding: null,
  isRenewal: false,
  ...over,
});

const withModel = (model: AttributionModel, touches: Touch[], amount = '100.00') =>
  attribute(conversion(touches, { amount, settings: settings({ model }) }));

/** partnerId -> [weight, revenueCredit, role] */
const summary = (credits: readonly Credit[]) =>
  Object.fromEntries(credits.map((c) => [c.partnerId, [c.weight, c.revenueCredit, c.role]]));

describe('attribution models', () => {
  const threeClicks = [click('k1', 'alice', 10), click('k2', 'bob', 5), click('k3', 'alice', 1)];

  it('last touch: everything to the last eligible click; the other clicker is an influencer', () => {
    const decision = withModel('lastTouch', threeClicks);
    expect(decision.basis).toBe('clicks');
    expect(summary(decision.credits)).toEqual({ alice: ['1', '100.00', 'sourced'] });
    expect(decision.credits[0]!.touchIds).toEqual(['k3']);
    expect(decision.influencers).toEqual([{ partnerId: 'bob', touchIds: ['k2'] }]);
    expect(decision.sourcedPartnerId).toBe('alice');
  });

  it('first touch: everything to the first eligible click', () => {
    const decision = withModel('firstTouch', [click('k1', 'bob', 10), click('k2', 'alice', 1)]);
    expect(summary(decision.credits)).toEqual({ bob: ['1', '100.00', 'sourced'] });
    expect(decision.influencers).toEqual([{ partnerId: 'alice', touchIds: ['k2'] }]);
  });

  it("linear: 1/n per click, a partner's clicks add up (2/3 and 1/3 of 100.00 = 66.67 and 33.33)", () => {
    const decision = withModel('linear', threeClicks);
    expect(summary(decision.credits)).toEqual({
      alice: ['2/3', '66.67', 'sourced'],
      bob: ['1/3', '33.33', 'influenced'],
    });
    expect(decision.credits[0]!.touchIds).toEqual(['k1', 'k3']);
    expect(decision.influencers).toEqual([]);
  });

  it('linear: three partners share 100.00 as 33.34, 33.33, 33.33 (the odd cent to the first touch)', () => {
    const decision = withModel('linear', [click('k1', 'a', 3), click('k2', 'b', 2), click('k3', 'c', 1)]);
    expect(decision.credits.map((c) => c.revenueCredit)).toEqual(['33.34', '33.33', '33.33']);
    expect(decision.credits.map((c) => c.role)).toEqual(['sourced', 'influenced', 'influenced']);
  });

  it('position-based: 40% first, 40% last, 20% shared by the middle', () => {
    const decision = withModel('positionBased', [
      click('k1', 'a', 4),
      click('k2', 'b', 3),
      click('k3', 'c', 2),
      click('k4', 'd', 1),
    ]);
    expect(summary(decision.credits)).toEqual({
      a: ['0.4', '40.00', 'sourced'], // ties with d: the earlier touch sources
      b: ['0.1', '10.00', 'influenced'],
      c: ['0.1', '10.00', 'influenced'],
      d: ['0.4', '40.00', 'influenced'],
    });
  });

  it('position-based: five clicks of three partners (7/15, 7/15, 1/15 of 100.00 = 46.67, 46.67, 6.66)', () => {
    const decision = withModel('positionBased', [
      click('k1', 'alice', 5),
      click('k2', 'bob', 4),
      click('k3', 'alice', 3),
      click('k4', 'carol', 2),
      click('k5', 'bob', 1),
    ]);
    expect(summary(decision.credits)).toEqual({
      alice: ['7/15', '46.67', 'sourced'],
      bob: ['7/15', '46.67', 'influenced'],
      carol: ['1/15', '6.66', 'influenced'],
    });
  });

  it('position-based: one click takes all, two clicks take half each', () => {
    expect(summary(withModel('positionBased', [click('k1', 'a', 1)]).credits)).toEqual({
      a: ['1', '100.00', 'sourced'],
    });
    expect(summary(withModel('positionBased', [click('k1', 'a', 2), click('k2', 'b', 1)]).credits)).toEqual({
      a: ['0.5', '50.00', 'sourced'],
      b: ['0.5', '50.00', 'influenced'],
    });
  });

  it('time decay: clicks 14, 7 and 0 days before with a 7-day half-life weigh 1/4, 1/2, 1 -> 1/7, 2/7, 4/7', () => {
    const decision = withModel(
      'timeDecay',
      [click('k1', 'alice', 14), click('k2', 'bob', 7), click('k3', 'carol', 0)],
      '70.00',
    );
    expect(summary(decision.credits)).toEqual({
      alice: ['0.142857142857142857142857142857', '10.00', 'influenced'],
      bob: ['0.285714285714285714285714285714', '20.00', 'influenced'],
      carol: ['0.571428571428571428571428571429', '40.00', 'sourced'],
    });
    const weights = decision.credits.map((c) => parseRatio(c.weight));
    expect(compare(sum(weights), ONE)).toBe(0);
  });

  it('time decay: a click two half-lives older weighs a quarter of a fresh one', () => {
    const decision = withModel('timeDecay', [click('k1', 'a', 14), click('k2', 'b', 0)]);
    expect(summary(decision.credits)).toEqual({
      a: ['0.2', '20.00', 'influenced'],
      b: ['0.8', '80.00', 'sourced'],
    });
  });

  it('time decay uses the configured half-life', () => {
    const decision = attribute(
      conversion([click('k1', 'a', 10), click('k2', 'b', 0)], {
        settings: settings({ model: 'timeDecay', halfLifeDays: 10 }),
      }),
    );
    expect(summary(decision.credits)).toEqual({
      a: ['0.333333333333333333333333333333', '33.33', 'influenced'],
      b: ['0.666666666666666666666666666667', '66.67', 'sourced'],
    });
  });

  it('orders clicks at the same instant by touch id', () => {
    const at = { at: daysBefore(1) };
    const decision = withModel('lastTouch', [click('k2', 'bob', 0, at), click('k1', 'alice', 0, at)]);
    expect(decision.credits[0]!.partnerId).toBe('bob');
    expect(
      withModel('firstTouch', [click('k2', 'bob', 0, at), click('k1', 'alice', 0, at)]).credits[0]!.partnerId,
    ).toBe('alice');
  });

  it('splits JPY (0 decimals) and BHD (3 decimals) in their own minor units', () => {
    const clicks = [click('k1', 'a', 3), click('k2', 'b', 2), click('k3', 'c', 1)];
    const jpy = attribute(
      conversion(clicks, { amount: '1000', currency: 'JPY', settings: settings({ model: 'linear' }) }),
    );
    expect(jpy.credits.map((c) => c.revenueCredit)).toEqual(['334', '333', '333']);
    const bhd = attribute(
      conversion(clicks, { amount: '1.000', currency: 'BHD', settings: settings({ model: 'linear' }) }),
    );
    expect(bhd.credits.map((c) => c.revenueCredit)).toEqual(['0.334', '0.333', '0.333']);
  });

  it('splits one minor unit and zero exactly', () => {
    const clicks = [click('k1', 'a', 2), click('k2', 'b', 1)];
    expect(withModel('linear', clicks, '0.01').credits.map((c) => c.revenueCredit)).toEqual(['0.01', '0.00']);
    expect(withModel('linear', clicks, '0.00').credits.map((c) => c.revenueCredit)).toEqual(['0.00', '0.00']);
  });
});

describe('eligibility', () => {
  it('counts a click exactly clickWindowDays before the conversion, not one a millisecond older', () => {
    const edge = attribute(conversion([click('k1', 'a', 30)]));
    expect(edge.credits.map((c) => c.partnerId)).toEqual(['a']);
    const older = attribute(
      conversion([click('k1', 'a', 30, { at: new Date(Date.parse(daysBefore(30)) - 1).toISOString() })]),
    );
    expect(older).toMatchObject({ basis: 'none', credits: [], influencers: [] });
  });

  it('uses the configured window', () => {
    const input = conversion([click('k1', 'a', 60)], { settings: settings({ clickWindowDays: 90 }) });
    expect(attribute(input).credits.map((c) => c.partnerId)).toEqual(['a']);
  });

  it('ignores clicks after the conversion', () => {
    const decision = attribute(conversion([click('k1', 'a', 2), click('k2', 'b', -1)]));
    expect(decision.credits.map((c) => c.partnerId)).toEqual(['a']);
    expect(decision.influencers).toEqual([]);
  });

  it('excludes fraud-flagged touches and touches of partners that were not active, even as influence', () => {
    const decision = attribute(
      conversion([
        click('k1', 'honest', 3),
        click('k2', 'fraudster', 1, { fraudulent: true }),
        click('k3', 'suspended', 1, { partnerActiveAt: false }),
        registration('r1', 'lapsed', 5, { partnerActiveAt: false }),
      ]),
    );
    expect(decision.basis).toBe('clicks');
    expect(summary(decision.credits)).toEqual({ honest: ['1', '100.00', 'sourced'] });
    expect(decision.influencers).toEqual([]);
  });

  it('ignores a deal registration that has expired by the conversion time', () => {
    const expired = attribute(
      conversion([registration('r1', 'reseller', 40, { expiresAt: CONVERSION_AT }), click('k1', 'aff', 1)]),
    );
    expect(expired.basis).toBe('clicks');
    const live = attribute(
      conversion([registration('r1', 'reseller', 40, { expiresAt: daysBefore(-1) }), click('k1', 'aff', 1)]),
    );
    expect(live).toMatchObject({
      basis: 'dealRegistration',
      registrationId: 'r1',
      sourcedPartnerId: 'reseller',
    });
  });
});

describe('precedence', () => {
  const everything = [
    click('k1', 'affiliate', 3),
    coupon('SAVE10', 'creator', 0),
    registration('r1', 'reseller', 20),
    influence('i1', 'techco', 50),
  ];

  it('an approved registration takes all the sourced credit; everyone else is an influencer', () => {
    const decision = attribute(conversion(everything));
    expect(decision).toMatchObject({
      basis: 'dealRegistration',
      registrationId: 'r1',
      sourcedPartnerId: 'reseller',
    });
    expect(decision.credits).toEqual([
      { partnerId: 'reseller', weight: '1', revenueCredit: '100.00', role: 'sourced', touchIds: ['r1'] },
    ]);
    expect(decision.influencers).toEqual([
      { partnerId: 'techco', touchIds: ['i1'] },
      { partnerId: 'affiliate', touchIds: ['k1'] },
      { partnerId: 'creator', touchIds: ['SAVE10'] },
    ]);
  });

  it("without a registration, a coupon's owner sources the conversion over clicks", () => {
    const decision = attribute(conversion(everything.filter((t) => t.kind !== 'dealRegistration')));
    expect(decision).toMatchObject({ basis: 'coupon', registrationId: null, sourcedPartnerId: 'creator' });
    expect(decision.credits[0]!.touchIds).toEqual(['SAVE10']);
    expect(decision.influencers.map((i) => i.partnerId)).toEqual(['techco', 'affiliate']);
  });

  it('follows the configured order', () => {
    const decision = attribute(
      conversion(everything, {
        settings: settings({ precedence: ['clicks', 'coupon', 'dealRegistration'] }),
      }),
    );
    expect(decision).toMatchObject({ basis: 'clicks', sourcedPartnerId: 'affiliate', registrationId: null });
    expect(decision.influencers.map((i) => i.partnerId)).toEqual(['techco', 'reseller', 'creator']);
  });

  it('never lets a source left out of the precedence list take credit', () => {
    const decision = attribute(
      conversion([click('k1', 'affiliate', 3)], {
        settings: settings({ precedence: ['dealRegistration', 'coupon'] }),
      }),
    );
    expect(decision).toMatchObject({ basis: 'none', credits: [], sourcedPartnerId: null });
    expect(decision.influencers).toEqual([{ partnerId: 'affiliate', touchIds: ['k1'] }]);
  });

  it('influence touches alone credit nobody: the technology partner is an influencer', () => {
    const decision = attribute(conversion([influence('i1', 'techco', 100)]));
    expect(decision).toMatchObject({ basis: 'none', credits: [], sourcedPartnerId: null });
    expect(decision.influencers).toEqual([{ partnerId: 'techco', touchIds: ['i1'] }]);
  });

  it('lists the other touches of a credited partner in neither list', () => {
    const decision = attribute(conversion([registration('r1', 'reseller', 20), click('k1', 'reseller', 1)]));
    expect(decision.credits[0]!.touchIds).toEqual(['r1']);
    expect(decision.influencers).toEqual([]);
  });
});

describe('renewals', () => {
  it('credit the partner the customer is bound to, without a touch, ahead of any registration', () => {
    const decision = attribute(
      conversion([registration('r1', 'reseller', 20), click('k1', 'affiliate', 1)], {
        isRenewal: true,
        customerBinding: { partnerId: 'original' },
      }),
    );
    expect(decision).toMatchObject({
      basis: 'customerBinding',
      registrationId: null,
      sourcedPartnerId: 'original',
    });
    expect(decision.credits).toEqual([
      { partnerId: 'original', weight: '1', revenueCredit: '100.00', role: 'sourced', touchIds: [] },
    ]);
    expect(decision.influencers.map((i) => i.partnerId)).toEqual(['reseller', 'affiliate']);
  });

  it('are attributed like any conversion when the customer is bound to nobody', () => {
    const decision = attribute(conversion([click('k1', 'affiliate', 1)], { isRenewal: true }));
    expect(decision.basis).toBe('clicks');
  });

  it('a binding does not apply to a conversion that is not a renewal', () => {
    const decision = attribute(
      conversion([click('k1', 'affiliate', 1)], { customerBinding: { partnerId: 'original' } }),
    );
    expect(decision.sourcedPartnerId).toBe('affiliate');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const CURRENCIES = [
  ['JPY', 0],
  ['USD', 2],
  ['BHD', 3],
] as const;

const amountIn = (units: bigint, decimals: number): string => {
  if (decimals === 0) return units.toString();
  const digits = units.toString().padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
};

const arbitraryConversion = fc
  .record({
    currency: fc.constantFrom(...CURRENCIES),
    units: fc.oneof(fc.constantFrom(0n, 1n, 2n, 3n), fc.bigInt({ min: 0n, max: 10n ** 14n })),
    model: fc.constantFrom(...ATTRIBUTION_MODELS),
    halfLifeDays: fc.integer({ min: 1, max: 365 }),
    clicks: fc.array(
      fc.record({
        partner: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        // minutes before the conversion, inside a 30-day window
        minutes: fc.integer({ min: 0, max: 30 * 24 * 60 }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
  })
  .map(({ currency: [currency, decimals], units, model, halfLifeDays, clicks }) =>
    conversion(
      clicks.map((c, i) => click(`k${i}`, c.partner, c.minutes / (24 * 60))),
      { amount: amountIn(units, decimals), currency, settings: settings({ model, halfLifeDays }) },
    ),
  );

describe('attribution properties', () => {
  it('with any mix of touch kinds, flags and precedence: all or nothing, summing exactly, one source', () => {
    const anyTouch = fc.record({
      kind: fc.constantFrom('click', 'coupon', 'dealRegistration', 'influence' as const),
      partner: fc.constantFrom('a', 'b', 'c'),
      days: fc.integer({ min: -2, max: 40 }),
      fraudulent: fc.boolean(),
      partnerActiveAt: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(anyTouch, { maxLength: 10 }),
        fc.subarray(['dealRegistration', 'coupon', 'clicks'] as const),
        fc.constantFrom(...ATTRIBUTION_MODELS),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        (touches, precedence, model, cents) => {
          const input = conversion(
            touches.map((t, i) => ({
              kind: t.kind,
              touchId: `t${i}`,
              partnerId: t.partner,
              at: daysBefore(t.days),
              fraudulent: t.fraudulent,
              partnerActiveAt: t.partnerActiveAt,
            })),
            {
              amount: `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`,
              settings: settings({ model, precedence: [...precedence] }),
            },
          );
          const decision = attribute(input);
          const eligibleSources = input.touches.filter(
            (t) =>
              !t.fraudulent &&
              t.partnerActiveAt &&
              t.at <= CONVERSION_AT &&
              (t.kind !== 'click' || t.at >= daysBefore(30)),
          );
          if (decision.basis === 'none') expect(decision.credits).toEqual([]);
          else {
            expect(decision.credits.reduce((acc, c) => acc + toMinor(c.revenueCredit, 'USD'), 0n)).toBe(
              cents,
            );
            expect(decision.credits.filter((c) => c.role === 'sourced')).toHaveLength(1);
          }
          // every eligible partner is either credited or an influencer, never both; nobody else appears
          const credited = decision.credits.map((c) => c.partnerId);
          const influencers = decision.influencers.map((i) => i.partnerId);
          expect(new Set([...credited, ...influencers])).toEqual(
            new Set(eligibleSources.map((t) => t.partnerId)),
          );
          expect(credited.filter((p) => influencers.includes(p))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('credits sum exactly to the amount, in any currency, for any amount, model and touches', () => {
    fc.assert(
      fc.property(arbitraryConversion, (input) => {
        const { credits } = attribute(input);
        const total = credits.reduce((acc, c) => add(acc, parseDecimal(c.revenueCredit)), ZERO);
        expect(compare(total, parseDecimal(input.amount))).toBe(0);
        for (const credit of credits) {
          expect(E.isRight(Credit.decode(credit))).toBe(true);
          // Largest remainder: each credit is within one minor unit of amount x weight.
          const exact = mul(parseDecimal(input.amount), parseRatio(credit.weight));
          const gap = sub(exact, parseDecimal(credit.revenueCredit));
          const unit = fraction(1n, 10n ** BigInt(credit.revenueCredit.split('.')[1]?.length ?? 0));
          expect(compare(gap.n < 0n ? fraction(-gap.n, gap.d) : gap, unit)).toBe(-1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('weights are exact, positive and sum to exactly one; exactly one partner sources', () => {
    fc.assert(
      fc.property(arbitraryConversion, (input) => {
        const { credits, sourcedPartnerId } = attribute(input);
        expect(credits.length).toBeGreaterThan(0);
        const weights = credits.map((c) => parseRatio(c.weight));
        expect(weights.every((w) => w.n > 0n)).toBe(true);
        expect(compare(sum(weights), ONE)).toBe(0);
        expect(credits.filter((c) => c.role === 'sourced').map((c) => c.partnerId)).toEqual([
          sourcedPartnerId,
        ]);
        const largest = weights.reduce((a, b) => (compare(a, b) >= 0 ? a : b));
        const sourced = credits.find((c) => c.role === 'sourced')!;
        expect(compare(parseRatio(sourced.weight), largest)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('time-decay weights sum to one and favour the more recent of two clicks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 365 }),
        fc.integer({ min: 0, max: 30 * 24 }),
        fc.integer({ min: 1, max: 30 * 24 }),
        (halfLifeDays, recentHours, olderByHours) => {
          const decision = attribute(
            conversion(
              [click('old', 'a', (recentHours + olderByHours) / 24), click('new', 'b', recentHours / 24)],
              { settings: settings({ model: 'timeDecay', halfLifeDays, clickWindowDays: 365 }) },
            ),
          );
          const weights = decision.credits.map((c) => parseRatio(c.weight));
          expect(compare(sum(weights), ONE)).toBe(0);
          expect(compare(weights[1]!, weights[0]!)).toBe(1);
        },
      ),
    );
  });

  it('does not depend on the order the touches are given in', () => {
    const withShuffled = arbitraryConversion.chain((input) =>
      fc
        .shuffledSubarray([...input.touches], {
          minLength: input.touches.length,
          maxLength: input.touches.length,
        })
        .map((touches) => [input, touches] as const),
    );
    fc.assert(
      fc.property(withShuffled, ([input, touches]) => {
        expect(attribute({ ...input, touches })).toEqual(attribute(input));
      }),
      { numRuns: 100 },
    );
  });
});
