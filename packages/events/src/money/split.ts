import { LedgerDecimal } from './decimal';

/** A weight: a Decimal, or an exact ratio string such as "1/3" or "0.4". */
export type SplitWeight = LedgerDecimal | string;

/** The exact value of a weight as a fraction of two integers (a Decimal has finitely many digits). */
const toFraction = (weight: SplitWeight): { numerator: bigint; denominator: bigint } => {
  if (typeof weight === 'string') {
    const fraction = /^([0-9]+)\/([1-9][0-9]*)$/.exec(weight);
    if (fraction) return { numerator: BigInt(fraction[1]!), denominator: BigInt(fraction[2]!) };
    if (!/^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(weight))
      throw new Error(`not a weight: ${JSON.stringify(weight)}`);
    return toFraction(new LedgerDecimal(weight));
  }
  if (!weight.isFinite()) throw new Error('weights must be finite and >= 0');
  const [numerator, denominator] = weight.toFraction() as [LedgerDecimal, LedgerDecimal];
  return { numerator: BigInt(numerator.toFixed(0)), denominator: BigInt(denominator.toFixed(0)) };
};

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * Splits `total` minor units over `weights` exactly: the shares sum to `total`, always.
 *
 * Largest remainder (Hamilton) method, in exact integer arithmetic: each share first gets the floor of
 * total * weight / sum(weights); the units left over go one each to the largest remainders, ties broken by
 * position (the earlier weight wins), which is the touch order when the weights come from attribution.
 * Weights are converted to exact fractions first, so "1/3" and "1/6" tie exactly where they should.
 *
 * Weights need not sum to one, only be non-negative with a positive sum. A negative total (a reversal) is
 * split by magnitude and keeps its sign.
 */
export const splitExactly = (total: bigint, weights: readonly SplitWeight[]): bigint[] => {
  if (weights.length === 0) throw new Error('splitExactly needs at least one weight');
  const fractions = weights.map(toFraction);
  if (fractions.some((f) => f.numerator < 0n)) throw new Error('weights must be finite and >= 0');
  // Bring every weight over one common denominator: integer weights in the same proportions.
  const common = fractions.reduce((acc, f) => (acc / gcd(acc, f.denominator)) * f.denominator, 1n);
  const integers = fractions.map((f) => (f.numerator * common) / f.denominator);
  const sum = integers.reduce((a, b) => a + b, 0n);
  if (sum === 0n) throw new Error('weights must not all be zero');
  const sign = total < 0n ? -1n : 1n;
  const magnitude = total * sign;
  const shares = integers.map((w) => (magnitude * w) / sum);
  const remainders = integers.map((w, index) => ({ index, remainder: (magnitude * w) % sum }));
  remainders.sort((a, b) =>
    a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1,
  );
  let left = magnitude - shares.reduce((a, b) => a + b, 0n);
  for (let i = 0; left > 0n; i += 1, left -= 1n) {
    const target = remainders[i % remainders.length]!.index;
    shares[target] = shares[target]! + 1n;
  }
  return shares.map((share) => share * sign);
};
