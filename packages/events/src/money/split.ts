import { LedgerDecimal } from './decimal';

/**
 * Splits `total` minor units over `weights` exactly: the shares sum to `total`, always.
 *
 * Largest remainder (Hamilton) method: each share first gets the floor of total * weight / sum(weights);
 * the minor units left over go one each to the largest remainders, ties broken by position (the earlier
 * weight wins), which is the touch order when the weights come from attribution.
 *
 * Weights are Decimals (exact for fractions such as 2/5, 60 significant digits for time decay); they need
 * not sum to one, only be non-negative with a positive sum. Works for negative totals too (a reversal):
 * the magnitudes are split and the sign is kept.
 */
export const splitExactly = (total: bigint, weights: readonly LedgerDecimal[]): bigint[] => {
  if (weights.length === 0) throw new Error('splitExactly needs at least one weight');
  if (weights.some((w) => w.isNegative() || !w.isFinite()))
    throw new Error('weights must be finite and >= 0');
  const sum = weights.reduce((acc, w) => acc.plus(w), new LedgerDecimal(0));
  if (sum.isZero()) throw new Error('weights must not all be zero');
  const sign = total < 0n ? -1n : 1n;
  const magnitude = total * sign;
  const exact = weights.map((w) => new LedgerDecimal(magnitude.toString()).mul(w).div(sum));
  const shares = exact.map((value) => BigInt(value.floor().toFixed(0)));
  let left = magnitude - shares.reduce((acc, s) => acc + s, 0n);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value.minus(value.floor()) }))
    .sort((a, b) => b.remainder.comparedTo(a.remainder) || a.index - b.index);
  for (let i = 0; left > 0n; i = (i + 1) % byRemainder.length, left -= 1n) {
    const target = byRemainder[i]!.index;
    shares[target] = shares[target]! + 1n;
  }
  return shares.map((share) => share * sign);
};
