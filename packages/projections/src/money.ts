import { minorUnitsOf } from '@partner-ledger/events';
import type { CurrencyCode } from '@partner-ledger/events';

/**
 * Money arithmetic of the read side, in integer minor units (bigint). Amounts arrive as decimal strings that
 * decoding has already checked against their currency's minor units, so converting them is string work, not
 * Decimal arithmetic: a replay adds up millions of amounts and pays for every allocation.
 */

const unitsCache = new Map<string, number>();

export const unitsOf = (currency: string): number => {
  let units = unitsCache.get(currency);
  if (units === undefined) {
    units = minorUnitsOf(currency as CurrencyCode);
    unitsCache.set(currency, units);
  }
  return units;
};

const zeros = (n: number): string => (n > 0 ? '0'.repeat(n) : '');

/** "12.5" USD -> 1250n; "-3" JPY -> -3n. The amount must not have more decimals than the currency has. */
export const toMinor = (amount: string, currency: string): bigint => {
  const units = unitsOf(currency);
  const dot = amount.indexOf('.');
  if (dot < 0) return BigInt(amount + zeros(units));
  const fraction = amount.length - dot - 1;
  if (fraction > units) throw new Error(`${amount} has more decimals than ${currency} allows`);
  return BigInt(amount.slice(0, dot) + amount.slice(dot + 1) + zeros(units - fraction));
};

/** Each currency's zero ("0.00", "0" for JPY), formatted once. */
const zeroCache = new Map<string, string>();

/** 1250n USD -> "12.50"; the fixed decimals of the currency, "-" for negatives, never "-0". */
export const formatMinor = (value: bigint, currency: string): string => {
  // Zero is the commonest figure of a balances report (nothing rejected, failed, adjusted, pending or held
  // for most accounts): one lookup instead of a toString, a pad and two slices each time.
  if (value === 0n) {
    let zero = zeroCache.get(currency);
    if (zero === undefined) zeroCache.set(currency, (zero = formatNonZero(0n, currency)));
    return zero;
  }
  return formatNonZero(value, currency);
};

const formatNonZero = (value: bigint, currency: string): string => {
  const units = unitsOf(currency);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(units + 1, '0');
  const text = units === 0 ? digits : `${digits.slice(0, -units)}.${digits.slice(-units)}`;
  return negative ? `-${text}` : text;
};

/**
 * numerator / denominator rounded half to even (the ledger's one rounding rule), for operands of any sign
 * (denominator non-zero). The sign of the quotient is worked out first and the rounding done on magnitudes:
 * rounding a negative quotient as if it were positive would move -0.99995 to -0.9999 instead of -1.0000.
 */
export const divideHalfEven = (numerator: bigint, denominator: bigint): bigint => {
  if (denominator === 0n) throw new RangeError('divideHalfEven: division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const magnitude = numerator < 0n ? -numerator : numerator;
  const divisor = denominator < 0n ? -denominator : denominator;
  let quotient = magnitude / divisor;
  const twice = (magnitude % divisor) * 2n;
  if (twice > divisor || (twice === divisor && quotient % 2n === 1n)) quotient += 1n;
  return negative ? -quotient : quotient;
};

/** A decimal rate string ("1.0834") as an exact fraction. */
export interface Rate {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

export const parseRate = (rate: string): Rate => {
  const dot = rate.indexOf('.');
  if (dot < 0) return { numerator: BigInt(rate), denominator: 1n };
  return {
    numerator: BigInt(rate.slice(0, dot) + rate.slice(dot + 1)),
    denominator: 10n ** BigInt(rate.length - dot - 1),
  };
};

/**
 * Converts `minor` units of `from` into minor units of `to` at `rate` (1 `from` = rate `to`), rounded once,
 * half to even. Exact integer arithmetic: no intermediate rounding.
 */
export const convertMinor = (minor: bigint, from: string, to: string, rate: Rate): bigint => {
  const fromUnits = unitsOf(from);
  const toUnits = unitsOf(to);
  return divideHalfEven(
    minor * rate.numerator * 10n ** BigInt(toUnits),
    rate.denominator * 10n ** BigInt(fromUnits),
  );
};

/**
 * Splits `total` over non-negative `weights` exactly (largest remainder, ties to the earlier weight), so
 * that the shares sum to the total. Used to carry a conversion's credits into the reporting currency: the
 * converted credits then add up to the converted conversion, cent for cent.
 */
export const splitByWeights = (total: bigint, weights: readonly bigint[]): bigint[] => {
  const sum = weights.reduce((acc, w) => acc + w, 0n);
  if (sum === 0n) {
    // No weight at all (a zero-amount conversion): everything to the first share, if any.
    return weights.map((_, i) => (i === 0 ? total : 0n));
  }
  const negative = total < 0n;
  const magnitude = negative ? -total : total;
  const shares = weights.map((w) => (magnitude * w) / sum);
  let left = magnitude - shares.reduce((acc, s) => acc + s, 0n);
  if (left > 0n) {
    const order = weights
      .map((w, index) => ({ index, remainder: (magnitude * w) % sum }))
      .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
    for (let i = 0; left > 0n; i = (i + 1) % order.length, left -= 1n) {
      const target = order[i]!.index;
      shares[target] = shares[target]! + 1n;
    }
  }
  return negative ? shares.map((s) => -s) : shares;
};

/** part / whole as a decimal string with `decimals` places, half to even, either sign; null when whole is zero. */
export const ratio = (part: bigint, whole: bigint, decimals = 4): string | null => {
  if (whole === 0n) return null;
  const scaled = divideHalfEven(part * 10n ** BigInt(decimals), whole);
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return negative ? `-${text}` : text;
};

/** An amount per unit (commission per click): minor units / count, in major units with 4 decimals. */
export const perUnit = (minor: bigint, count: number, currency: string): string | null => {
  if (count === 0) return null;
  return ratio(minor, BigInt(count) * 10n ** BigInt(unitsOf(currency)), 4);
};
