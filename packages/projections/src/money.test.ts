import fc from 'fast-check';
import { LedgerDecimal } from '@partner-ledger/events';
import { divideHalfEven, formatMinor, ratio } from './money';

/** The same quotient computed by decimal.js, rounded half to even: the reference the bigint code must match. */
const expectedQuotient = (n: bigint, d: bigint): bigint =>
  BigInt(
    new LedgerDecimal(n.toString())
      .div(d.toString())
      .toDecimalPlaces(0, LedgerDecimal.ROUND_HALF_EVEN)
      .toFixed(0),
  );

const expectedRatio = (part: bigint, whole: bigint, decimals: number): string => {
  const text = new LedgerDecimal(part.toString())
    .div(whole.toString())
    .toDecimalPlaces(decimals, LedgerDecimal.ROUND_HALF_EVEN)
    .toFixed(decimals);
  return text.startsWith('-') && /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
};

const nonZero = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).filter((d) => d !== 0n);
const anyInt = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });

describe('ratios round half to even whatever the signs of their operands', () => {
  it('worked figures: a negative program total (a refund-only month)', () => {
    expect(ratio(-1000n, -1000n)).toBe('1.0000');
    expect(ratio(0n, -1000n)).toBe('0.0000');
    expect(ratio(10000n, -5000n)).toBe('-2.0000');
    expect(ratio(-1n, 3n)).toBe('-0.3333');
    expect(ratio(1n, -3n)).toBe('-0.3333');
    expect(ratio(2n, -3n)).toBe('-0.6667');
    expect(ratio(1n, -20000n * 2n, 4)).toBe('0.0000'); // -0.000025 -> -0.0000, shown without a minus
  });

  it('divideHalfEven matches decimal.js half-even for any signs', () => {
    fc.assert(
      fc.property(anyInt, nonZero, (n, d) => {
        expect(divideHalfEven(n, d)).toBe(expectedQuotient(n, d));
      }),
      { numRuns: 2000 },
    );
  });

  it('ratio matches decimal.js half-even for any signs, with any number of decimals', () => {
    fc.assert(
      fc.property(anyInt, nonZero, fc.integer({ min: 0, max: 6 }), (part, whole, decimals) => {
        expect(ratio(part, whole, decimals)).toBe(expectedRatio(part, whole, decimals));
      }),
      { numRuns: 2000 },
    );
  });

  it('ratio(x, x) is exactly one and ratio(-x, x) exactly minus one', () => {
    fc.assert(
      fc.property(nonZero, (x) => {
        expect(ratio(x, x)).toBe('1.0000');
        expect(ratio(-x, x)).toBe('-1.0000');
      }),
    );
  });
});

describe('formatMinor', () => {
  it("formats zero with the currency's decimals, the same on every call (zero is looked up, not formatted)", () => {
    for (let round = 0; round < 2; round += 1) {
      expect(formatMinor(0n, 'USD')).toBe('0.00');
      expect(formatMinor(0n, 'JPY')).toBe('0');
      expect(formatMinor(0n, 'BHD')).toBe('0.000');
    }
  });

  it('formats any amount as decimal.js does, zero among them', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.constantFrom('USD', 'JPY', 'BHD'),
        (minor, currency) => {
          const units = currency === 'JPY' ? 0 : currency === 'BHD' ? 3 : 2;
          const expected = new LedgerDecimal(minor.toString()).div(10 ** units).toFixed(units);
          expect(formatMinor(minor, currency)).toBe(
            expected === `-${(0).toFixed(units)}` ? expected.slice(1) : expected,
          );
        },
      ),
    );
  });
});
