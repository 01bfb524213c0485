/**
 * Exact rational arithmetic on bigints, for weights and money products.
 *
 * Weights such as 1/3 or 1/15 have no finite decimal form, and a product such as 100.00 x 1/3 x 0.15 must
 * be rounded once, at the end, from its exact value. A Decimal with 60 significant digits is almost always
 * close enough, but "almost" is not a property a ledger can test; a fraction of two bigints is exact, so
 * every floor, remainder and half-way comparison below is decided on the true value.
 */
import { minorUnitsOf } from '@partner-ledger/events';

/** n / d, reduced, with d > 0. */
export interface Fraction {
  readonly n: bigint;
  readonly d: bigint;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

const gcd = (a: bigint, b: bigint): bigint => {
  let x = abs(a);
  let y = abs(b);
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
};

export const fraction = (n: bigint, d: bigint = 1n): Fraction => {
  if (d === 0n) throw new Error('a fraction needs a non-zero denominator');
  const sign = d < 0n ? -1n : 1n;
  const g = gcd(n, d) || 1n;
  return { n: (sign * n) / g, d: (sign * d) / g };
};

export const ZERO = fraction(0n);
export const ONE = fraction(1n);

const DECIMAL = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const RATIO_FRACTION = /^([0-9]+)\/([1-9][0-9]*)$/;

/** The exact value of a plain decimal string ("-12.345"). Throws on anything else: inputs are decoded first. */
export const parseDecimal = (text: string): Fraction => {
  const match = DECIMAL.exec(text);
  if (!match) throw new Error(`expected a decimal string, got ${JSON.stringify(text)}`);
  const decimals = match[3] ?? '';
  const digits = BigInt(`${match[2]!}${decimals}`);
  return fraction(match[1] === '-' ? -digits : digits, 10n ** BigInt(decimals.length));
};

/** The exact value of a Ratio string: a fraction ("1/3") or a decimal ("0.25"). */
export const parseRatio = (text: string): Fraction => {
  const match = RATIO_FRACTION.exec(text);
  return match ? fraction(BigInt(match[1]!), BigInt(match[2]!)) : parseDecimal(text);
};

export const add = (a: Fraction, b: Fraction): Fraction => fraction(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Fraction, b: Fraction): Fraction => fraction(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Fraction, b: Fraction): Fraction => fraction(a.n * b.n, a.d * b.d);
export const div = (a: Fraction, b: Fraction): Fraction => fraction(a.n * b.d, a.d * b.n);
export const compare = (a: Fraction, b: Fraction): -1 | 0 | 1 => {
  const left = a.n * b.d;
  const right = b.n * a.d;
  return left < right ? -1 : left > right ? 1 : 0;
};
export const min = (a: Fraction, b: Fraction): Fraction => (compare(a, b) <= 0 ? a : b);
export const max = (a: Fraction, b: Fraction): Fraction => (compare(a, b) >= 0 ? a : b);
export const isZero = (a: Fraction): boolean => a.n === 0n;
export const sum = (values: readonly Fraction[]): Fraction => values.reduce(add, ZERO);

const floorDiv = (n: bigint, d: bigint): bigint => {
  const q = n / d;
  return n % d !== 0n && n < 0n !== d < 0n ? q - 1n : q;
};

export const floor = (a: Fraction): bigint => floorDiv(a.n, a.d);

/**
 * The ledger's one rounding rule: half to even, to the currency's minor unit. Returns minor units.
 * (Same rule as `roundToCurrency` in events, applied to an exact value instead of a 60-digit Decimal.)
 */
export const roundHalfEvenToMinorUnits = (value: Fraction, currency: string): bigint =>
  roundHalfEven(mul(value, fraction(10n ** BigInt(minorUnitsOf(currency)))));

/** The nearest integer, half to even. */
export const roundHalfEven = (value: Fraction): bigint => {
  const q = floorDiv(value.n, value.d);
  const twiceRemainder = 2n * (value.n - q * value.d);
  if (twiceRemainder > value.d) return q + 1n;
  if (twiceRemainder < value.d) return q;
  return q % 2n === 0n ? q : q + 1n;
};

/** Minor units as an exact fraction of the currency's unit. */
export const fromMinor = (units: bigint, currency: string): Fraction =>
  fraction(units, 10n ** BigInt(minorUnitsOf(currency)));

/** An amount's minor units; throws if it has more decimals than the currency allows (a caller bug). */
export const toMinor = (amount: string, currency: string): bigint => {
  const scaled = mul(parseDecimal(amount), fraction(10n ** BigInt(minorUnitsOf(currency))));
  if (scaled.d !== 1n) throw new Error(`${amount} has more decimals than ${currency} allows`);
  return scaled.n;
};

/** Minor units as the stored decimal string: "12.30", "0.000", "1200", "-0.05". */
export const formatMinor = (units: bigint, currency: string): string => {
  const decimals = minorUnitsOf(currency);
  const digits = abs(units)
    .toString()
    .padStart(decimals + 1, '0');
  const sign = units < 0n ? '-' : '';
  return decimals === 0
    ? `${sign}${digits}`
    : `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
};

/**
 * A weight or rate as an exact Ratio string: a decimal when it has a finite decimal form ("0.4", "1",
 * "0.000123"), otherwise the reduced fraction ("1/3", "2/15"). Never rounded.
 */
export const formatRatio = (value: Fraction): string => {
  if (value.n < 0n) throw new Error('a ratio cannot be negative');
  let twos = 0n;
  let fives = 0n;
  let rest = value.d;
  while (rest % 2n === 0n) [rest, twos] = [rest / 2n, twos + 1n];
  while (rest % 5n === 0n) [rest, fives] = [rest / 5n, fives + 1n];
  if (rest !== 1n) return `${value.n}/${value.d}`;
  const places = twos > fives ? twos : fives;
  const scaled = (value.n * 10n ** places) / value.d;
  if (places === 0n) return scaled.toString();
  const digits = scaled.toString().padStart(Number(places) + 1, '0');
  const whole = digits.slice(0, -Number(places));
  const decimals = digits.slice(-Number(places)).replace(/0+$/, '');
  return decimals === '' ? whole : `${whole}.${decimals}`;
};

/**
 * Splits `total` minor units over `weights` exactly (largest remainder): every share is the floor of its
 * exact value, and the units left over go one each to the largest remainders, ties to the earlier weight.
 * The shares sum to `total` and each lies within one unit of its exact value (and never above `total` x
 * weight rounded up). The weights need not sum to one, only be non-negative with a positive sum.
 */
export const largestRemainder = (total: bigint, weights: readonly Fraction[]): bigint[] => {
  if (total < 0n) throw new Error('largestRemainder splits a non-negative total');
  if (weights.some((w) => w.n < 0n)) throw new Error('weights must be >= 0');
  const whole = sum(weights);
  if (isZero(whole)) throw new Error('weights must not all be zero');
  // One share takes the whole total (total * w / w): most conversions credit one partner.
  if (weights.length === 1) return [total];
  const exact = weights.map((w) => div(mul(fraction(total), w), whole));
  const shares = exact.map(floor);
  let left = total - shares.reduce((acc, s) => acc + s, 0n);
  const order = exact
    .map((value, index) => ({ index, remainder: sub(value, fraction(floor(value))) }))
    .sort((a, b) => compare(b.remainder, a.remainder) || a.index - b.index);
  // `left` is the sum of the remainders, each below one, so it is smaller than the number of positive
  // remainders: the extra units go only to shares whose exact value is above their floor.
  for (const { index } of order) {
    if (left === 0n) break;
    shares[index] = shares[index]! + 1n;
    left -= 1n;
  }
  return shares;
};
