import * as fc from 'fast-check';
import { LedgerDecimal } from './decimal';
import { splitExactly } from './split';

const d = (value: string | number) => new LedgerDecimal(value);

describe('splitExactly', () => {
  it('splits 100 cents three ways as 34, 33, 33: the first weight takes the odd cent', () => {
    expect(splitExactly(100n, [d(1), d(1), d(1)])).toEqual([34n, 33n, 33n]);
  });

  it('gives the leftover units to the largest remainders', () => {
    // 10 over 0.15 / 0.35 / 0.5 -> 1.5, 3.5, 5: floors 1, 3, 5; one unit left, tie 0.5 vs 0.5: earlier wins
    expect(splitExactly(10n, [d('0.15'), d('0.35'), d('0.5')])).toEqual([2n, 3n, 5n]);
  });

  it('breaks ties exactly for fractions with no decimal form', () => {
    // 4 over 1/6, 1/6, 2/3 -> 0.667, 0.667, 2.667: floors 0, 0, 2; two units left, three equal remainders
    expect(splitExactly(4n, ['1/6', '1/6', '2/3'])).toEqual([1n, 1n, 2n]);
    expect(splitExactly(100n, ['1/3', '1/3', '1/3'])).toEqual([34n, 33n, 33n]);
    expect(splitExactly(10n, ['0.15', '0.35', '0.5'])).toEqual([2n, 3n, 5n]);
  });

  it('splits one minor unit and zero', () => {
    expect(splitExactly(1n, [d(1), d(1)])).toEqual([1n, 0n]);
    expect(splitExactly(0n, [d(2), d(3)])).toEqual([0n, 0n]);
  });

  it('keeps the sign of a negative total', () => {
    expect(splitExactly(-100n, [d(1), d(1), d(1)])).toEqual([-34n, -33n, -33n]);
  });

  it('rejects weights that cannot split anything', () => {
    expect(() => splitExactly(10n, [])).toThrow('at least one weight');
    expect(() => splitExactly(10n, [d(0), d(0)])).toThrow('must not all be zero');
    expect(() => splitExactly(10n, [d(-1), d(2)])).toThrow('>= 0');
    expect(() => splitExactly(10n, ['1e3'])).toThrow('not a weight: "1e3"');
  });

  it('equals a brute-force largest remainder over exact fractions (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 5000n }),
        fc
          .array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 12 })), {
            minLength: 1,
            maxLength: 6,
          })
          .filter((w) => w.some(([n]) => n > 0)),
        (total, pairs) => {
          // Reference: scale every fraction by the product of denominators, then plain integer Hamilton.
          const product = pairs.reduce((acc, [, den]) => acc * BigInt(den), 1n);
          const ints = pairs.map(([num, den]) => (BigInt(num) * product) / BigInt(den));
          const sum = ints.reduce((a, b) => a + b, 0n);
          const floors = ints.map((w) => (total * w) / sum);
          const order = ints
            .map((w, i) => ({ i, r: (total * w) % sum }))
            .sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
          let left = total - floors.reduce((a, b) => a + b, 0n);
          for (let k = 0; left > 0n; k += 1, left -= 1n) floors[order[k]!.i]! += 1n;
          expect(
            splitExactly(
              total,
              pairs.map(([n, den]) => `${n}/${den}`),
            ),
          ).toEqual(floors);
        },
      ),
    );
  });

  it('always sums to the total, and each share is within one unit of its exact value (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }),
        fc
          .array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 20 })
          .filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const decimals = weights.map((w) => d(w));
          const shares = splitExactly(total, decimals);
          expect(shares.reduce((a, b) => a + b, 0n)).toBe(total);
          const sum = decimals.reduce((a, b) => a.plus(b), d(0));
          shares.forEach((share, i) => {
            const exact = d(total.toString()).mul(decimals[i]!).div(sum);
            expect(exact.minus(share.toString()).abs().lt(1)).toBe(true);
          });
        },
      ),
    );
  });
});
