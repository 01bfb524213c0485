import * as fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { ATTRIBUTION_MODELS, decodeEventData } from '@partner-ledger/events';
import { attribute } from './attribution';
import { rateCommissions } from './rating';
import { reverseConversion } from './reversal';
import { formatMinor, toMinor } from './exact';
import { CONVERSION_AT, click, partner, plan, ratingInput, settings } from './testing/fixtures';
import type {
  CommissionLine,
  ConversionAttributedData,
  Credit,
  ReversalDecision,
  ReversalInput,
} from './types';

const line = (lineId: string, partnerId: string, amount: string, currency = 'USD'): CommissionLine => ({
  lineId,
  partnerId,
  planId: 'standard',
  planVersion: 1,
  rule: 'revenueShare',
  tier: null,
  base: amount,
  rate: '0.2',
  amount,
  currency,
  uncappedAmount: null,
  payableAt: '2026-04-30T12:00:00.000Z',
  status: 'pending',
  holdReason: null,
  overrideOf: null,
});

const credit = (partnerId: string, weight: string, revenueCredit: string, role: Credit['role']): Credit => ({
  partnerId,
  weight,
  revenueCredit,
  role,
  touchIds: [],
});

const conversion = (over: Partial<ConversionAttributedData> = {}): ConversionAttributedData => ({
  conversionId: 'conv-1',
  customerId: 'cust-1',
  accountId: null,
  visitorId: null,
  kind: 'order',
  amount: '100.00',
  currency: 'USD',
  couponCode: null,
  attribution: {
    basis: 'clicks',
    model: 'linear',
    clickWindowDays: 30,
    halfLifeDays: 7,
    registrationId: null,
  },
  credits: [credit('alice', '2/3', '66.67', 'sourced'), credit('bob', '1/3', '33.33', 'influenced')],
  influencers: [],
  fx: [],
  commissions: [line('L1', 'alice', '13.33'), line('L2', 'bob', '6.67')],
  ...over,
});

/** What earlier reversals took, as the deciders would sum it from the ConversionReversed events. */
interface SoFar {
  amount: bigint;
  credits: Map<string, bigint>;
  lines: Map<string, bigint>;
}
const nothingYet = (): SoFar => ({ amount: 0n, credits: new Map(), lines: new Map() });

const reverse = (original: ConversionAttributedData, soFar: SoFar, amount: string) =>
  reverseConversion({
    original,
    amount,
    reversedSoFar: {
      amount: formatMinor(soFar.amount, original.currency),
      credits: new Map([...soFar.credits].map(([k, v]) => [k, formatMinor(v, original.currency)])),
      lines: new Map(
        [...soFar.lines].map(([k, v]) => {
          const currency = original.commissions.find((l) => l.lineId === k)!.currency;
          return [k, formatMinor(v, currency)];
        }),
      ),
    },
  });

const record = (
  original: ConversionAttributedData,
  soFar: SoFar,
  amount: string,
  decision: ReversalDecision,
) => {
  soFar.amount += toMinor(amount, original.currency);
  for (const c of decision.credits)
    soFar.credits.set(
      c.partnerId,
      (soFar.credits.get(c.partnerId) ?? 0n) + toMinor(c.revenueCredit, original.currency),
    );
  for (const l of decision.lines)
    soFar.lines.set(l.lineId, (soFar.lines.get(l.lineId) ?? 0n) + toMinor(l.amount, l.currency));
};

const accepted = (result: E.Either<unknown, ReversalDecision>): ReversalDecision => {
  if (E.isLeft(result)) throw new Error(`expected a reversal, got ${JSON.stringify(result.left)}`);
  return result.right;
};

const rejected = (input: Partial<ReversalInput> & { amount: string }) => {
  const result = reverseConversion({
    original: conversion(),
    reversedSoFar: { amount: '0.00', credits: new Map(), lines: new Map() },
    ...input,
  });
  if (E.isRight(result)) throw new Error('expected a rejection');
  return result.left;
};

describe('reversals', () => {
  it('reverse half of 100.00: credits 33.34 + 16.66, lines 6.66 + 3.34; the other half takes the rest', () => {
    const original = conversion();
    const soFar = nothingYet();
    const first = accepted(reverse(original, soFar, '50.00'));
    // credits: 50.00 over 66.67 / 33.33 -> 33.335 and 16.665: one cent left, equal remainders, first wins
    expect(first.credits).toEqual([
      { partnerId: 'alice', revenueCredit: '33.34' },
      { partnerId: 'bob', revenueCredit: '16.66' },
    ]);
    // lines: 13.33 x 1/2 = 6.665 -> 6.66 (half to even); 6.67 x 1/2 = 3.335 -> 3.34
    expect(first.lines).toEqual([
      { lineId: 'L1', partnerId: 'alice', amount: '6.66', currency: 'USD' },
      { lineId: 'L2', partnerId: 'bob', amount: '3.34', currency: 'USD' },
    ]);
    record(original, soFar, '50.00', first);
    const rest = accepted(reverse(original, soFar, '50.00'));
    expect(rest.credits.map((c) => c.revenueCredit)).toEqual(['33.33', '16.67']);
    expect(rest.lines.map((l) => l.amount)).toEqual(['6.67', '3.33']);
  });

  it('reverses a whole conversion in one part', () => {
    const full = accepted(reverse(conversion(), nothingYet(), '100.00'));
    expect(full.credits.map((c) => c.revenueCredit)).toEqual(['66.67', '33.33']);
    expect(full.lines.map((l) => l.amount)).toEqual(['13.33', '6.67']);
  });

  it('takes back the same commission for the same share, in one part or in several', () => {
    const original = conversion();
    const inTwo = nothingYet();
    const thirty = accepted(reverse(original, inTwo, '30.00'));
    record(original, inTwo, '30.00', thirty);
    record(original, inTwo, '20.00', accepted(reverse(original, inTwo, '20.00')));
    const inOne = nothingYet();
    record(original, inOne, '50.00', accepted(reverse(original, inOne, '50.00')));
    expect(inTwo.lines).toEqual(inOne.lines);
  });

  it('reverses lines in their own currency, at their original amounts (not from any plan)', () => {
    const original = conversion({
      currency: 'EUR',
      commissions: [line('L1', 'alice', '1333', 'JPY'), line('L2', 'bob', '0.667', 'BHD')],
    });
    const half = accepted(reverse(original, nothingYet(), '50.00'));
    expect(half.lines).toEqual([
      { lineId: 'L1', partnerId: 'alice', amount: '666', currency: 'JPY' }, // 666.5 -> 666
      { lineId: 'L2', partnerId: 'bob', amount: '0.334', currency: 'BHD' }, // 0.3335 -> 0.334
    ]);
  });

  it('reverses the flat lines of a zero-amount conversion with an amount of zero', () => {
    const original = conversion({
      amount: '0.00',
      credits: [credit('alice', '1', '0.00', 'sourced')],
      commissions: [line('L1', 'alice', '25.00')],
    });
    const result = accepted(reverse(original, nothingYet(), '0.00'));
    expect(result).toEqual({
      credits: [{ partnerId: 'alice', revenueCredit: '0.00' }],
      lines: [{ lineId: 'L1', partnerId: 'alice', amount: '25.00', currency: 'USD' }],
    });
  });

  it('reverses a conversion that credited nobody', () => {
    const original = conversion({ credits: [], commissions: [] });
    expect(accepted(reverse(original, nothingYet(), '40.00'))).toEqual({ credits: [], lines: [] });
  });
});

describe('reversal rejections', () => {
  it('an amount above what is left', () => {
    expect(rejected({ amount: '100.01' })).toMatchObject({
      code: 'REVERSAL_EXCEEDS_REMAINING',
      field: 'amount',
    });
    const soFar = {
      amount: '60.00',
      credits: new Map([
        ['alice', '40.00'],
        ['bob', '20.00'],
      ]),
      lines: new Map(),
    };
    expect(rejected({ amount: '40.01', reversedSoFar: soFar })).toMatchObject({
      code: 'REVERSAL_EXCEEDS_REMAINING',
      message: expect.stringContaining('40.00 USD left'),
    });
  });

  it('a conversion already reversed in full', () => {
    const soFar = {
      amount: '100.00',
      credits: new Map([
        ['alice', '66.67'],
        ['bob', '33.33'],
      ]),
      lines: new Map(),
    };
    expect(rejected({ amount: '1.00', reversedSoFar: soFar }).code).toBe('NOTHING_LEFT_TO_REVERSE');
  });

  it('zero, negative, malformed, or more decimals than the currency has', () => {
    expect(rejected({ amount: '0.00' })).toMatchObject({ code: 'REVERSAL_AMOUNT_INVALID', field: 'amount' });
    expect(rejected({ amount: '-1.00' }).code).toBe('REVERSAL_AMOUNT_INVALID');
    expect(rejected({ amount: '1e2' }).code).toBe('REVERSAL_AMOUNT_INVALID');
    expect(rejected({ amount: '10.005' })).toMatchObject({
      code: 'REVERSAL_AMOUNT_INVALID',
      message: expect.stringContaining('at most 2 decimals for USD'),
    });
  });

  it('a history that does not fit the conversion', () => {
    const tooMuch = { amount: '100.01', credits: new Map(), lines: new Map() };
    expect(rejected({ amount: '1.00', reversedSoFar: tooMuch })).toMatchObject({
      code: 'REVERSAL_HISTORY_INCONSISTENT',
      field: 'reversedSoFar.amount',
    });
    const creditsOff = { amount: '10.00', credits: new Map([['alice', '9.00']]), lines: new Map() };
    expect(rejected({ amount: '1.00', reversedSoFar: creditsOff })).toMatchObject({
      code: 'REVERSAL_HISTORY_INCONSISTENT',
      field: 'reversedSoFar.credits',
    });
    const lineBeyond = { amount: '0.00', credits: new Map(), lines: new Map([['L2', '6.68']]) };
    expect(rejected({ amount: '1.00', reversedSoFar: lineBeyond })).toMatchObject({
      code: 'REVERSAL_HISTORY_INCONSISTENT',
      field: 'reversedSoFar.lines',
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties: a real conversion (attribute + rateCommissions), reversed in random parts.

const CURRENCIES = [
  ['JPY', 0],
  ['USD', 2],
  ['BHD', 3],
] as const;

const arbitraryOriginal = fc
  .record({
    currency: fc.constantFrom(...CURRENCIES),
    planCurrency: fc.constantFrom(...CURRENCIES),
    units: fc.oneof(fc.constantFrom(1n, 2n, 3n, 7n), fc.bigInt({ min: 1n, max: 10n ** 12n })),
    model: fc.constantFrom(...ATTRIBUTION_MODELS),
    partners: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 6 }),
    rateThousandths: fc.integer({ min: 0, max: 1000 }),
    flatUnits: fc.bigInt({ min: 0n, max: 10n ** 6n }),
  })
  .map(
    ({
      currency: [currency, decimals],
      planCurrency: [planCurrency, planDecimals],
      units,
      model,
      partners,
      rateThousandths,
      flatUnits,
    }) => {
      const amount = formatMinor(units, currency);
      const clicks = partners.map((p, i) => click(`k${i}`, p, partners.length - i));
      const decision = attribute({
        amount,
        currency,
        occurredAt: CONVERSION_AT,
        settings: settings({ model }),
        touches: clicks,
        customerBinding: null,
        isRenewal: false,
      });
      const fx =
        currency === planCurrency
          ? []
          : [{ from: currency, to: planCurrency, rate: '1.2345', source: 'test', date: CONVERSION_AT }];
      const lines = rateCommissions(
        ratingInput({
          currency,
          credits: decision.credits,
          partners: new Map(
            ['a', 'b', 'c', 'd'].map((p) => [
              p,
              partner(p, 'standard', { parentPartnerId: p === 'a' ? null : 'a' }),
            ]),
          ),
          plans: new Map([
            [
              'standard',
              plan({
                currency: planCurrency,
                twoTierOverrideRate: '0.05',
                rules: [
                  { kind: 'flat', amount: formatMinor(flatUnits, planCurrency) },
                  { kind: 'revenueShare', rate: String(rateThousandths / 1000) },
                ],
              }),
            ],
          ]),
          fx,
        }),
      );
      if (E.isLeft(lines)) throw new Error(JSON.stringify(lines.left));
      const original: ConversionAttributedData = {
        ...conversion(),
        amount,
        currency,
        attribution: {
          basis: decision.basis,
          model,
          clickWindowDays: 30,
          halfLifeDays: 7,
          registrationId: null,
        },
        credits: decision.credits,
        influencers: decision.influencers,
        fx,
        commissions: lines.right,
      };
      return { original, units, decimals, planDecimals };
    },
  );

/** A random split of `total` into 1 to 6 positive parts. */
const partsOf = (total: bigint) =>
  fc
    .array(fc.bigInt({ min: 1n, max: total }), { maxLength: 5 })
    .map((cuts) =>
      [...new Set([0n, ...cuts.filter((c) => c < total), total])].sort((a, b) =>
        a < b ? -1 : a > b ? 1 : 0,
      ),
    )
    .map((points) => points.slice(1).map((p, i) => p - points[i]!));

describe('reversal properties', () => {
  it('the original event is valid: credits sum to the amount, every amount fits its currency', () => {
    fc.assert(
      fc.property(arbitraryOriginal, ({ original }) => {
        const decoded = decodeEventData('ConversionAttributed', 1, original);
        expect(E.isRight(decoded) ? [] : decoded.left).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('reversals in random parts bring every credit and line back to exactly zero', () => {
    fc.assert(
      fc.property(
        arbitraryOriginal.chain((o) => partsOf(o.units).map((parts) => ({ ...o, parts }))),
        ({ original, parts }) => {
          const soFar = nothingYet();
          for (const part of parts) {
            const amount = formatMinor(part, original.currency);
            const decision = accepted(reverse(original, soFar, amount));
            // each part: credits sum exactly to it, nothing negative, nothing beyond what was left
            const creditSum = decision.credits.reduce(
              (acc, c) => acc + toMinor(c.revenueCredit, original.currency),
              0n,
            );
            expect(creditSum).toBe(original.credits.length > 0 ? part : 0n);
            decision.lines.forEach((l) => expect(toMinor(l.amount, l.currency) >= 0n).toBe(true));
            record(original, soFar, amount, decision);
            original.credits.forEach((c) =>
              expect(soFar.credits.get(c.partnerId)! <= toMinor(c.revenueCredit, original.currency)).toBe(
                true,
              ),
            );
          }
          expect(soFar.amount).toBe(toMinor(original.amount, original.currency));
          for (const c of original.credits)
            expect(formatMinor(soFar.credits.get(c.partnerId)!, original.currency)).toBe(c.revenueCredit);
          for (const l of original.commissions)
            expect(formatMinor(soFar.lines.get(l.lineId)!, l.currency)).toBe(l.amount);
          // and nothing more can be reversed
          expect(E.isLeft(reverse(original, soFar, formatMinor(1n, original.currency)))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('each partial reversal of a line is its original amount times the share reversed, to within one minor unit', () => {
    fc.assert(
      fc.property(
        arbitraryOriginal.chain((o) => fc.bigInt({ min: 1n, max: o.units }).map((part) => ({ ...o, part }))),
        ({ original, units, part }) => {
          const decision = accepted(reverse(original, nothingYet(), formatMinor(part, original.currency)));
          decision.lines.forEach((reversed, i) => {
            const lineUnits = toMinor(original.commissions[i]!.amount, reversed.currency);
            const taken = toMinor(reversed.amount, reversed.currency);
            // |taken x units - line x part| <= units / 2 (rounded to the nearest minor unit)
            const gap = taken * units - lineUnits * part;
            expect((gap < 0n ? -gap : gap) * 2n <= units).toBe(true);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
