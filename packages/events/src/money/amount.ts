import * as E from 'fp-ts/Either';
import { LedgerDecimal } from './decimal';
import type { CurrencyCode } from './currency';
import { minorUnitsOf } from './currency';
import { MONEY_ROUNDING } from './decimal';

/** The largest magnitude an amount may have: 10^15 units of any currency, far beyond any real payout. */
export const MAX_AMOUNT_DIGITS = 15;
/** The bound on the magnitude of an amount: 10^MAX_AMOUNT_DIGITS. */
export const MAX_AMOUNT = new LedgerDecimal(10).pow(MAX_AMOUNT_DIGITS);

const DECIMAL_STRING = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** A plain decimal string as stored in JSON: "1234.50", "-3", "0.125". No exponent, no plus sign. */
export type DecimalString = string;

/**
 * Why a value is not an amount: not a string, not a decimal, too large, negative, or more decimals than its
 * currency has.
 */
export type AmountProblem =
  | { readonly kind: 'notAString'; readonly got: unknown }
  | { readonly kind: 'notADecimal'; readonly got: string }
  | { readonly kind: 'tooLarge'; readonly got: string }
  | { readonly kind: 'negative'; readonly got: string }
  | {
      readonly kind: 'tooManyDecimals';
      readonly got: string;
      readonly currency: CurrencyCode;
      readonly allowed: number;
    };

/** Describes a problem in the words that decoding errors use ("expected ..., got ..."). */
export const describeAmountProblem = (problem: AmountProblem): string => {
  switch (problem.kind) {
    case 'notAString':
      return `expected a decimal string (money is never a JavaScript number), got ${describeValue(problem.got)}`;
    case 'notADecimal':
      return `expected a decimal string such as "1234.50" (no exponent, no sign other than "-"), got ${quoteBounded(problem.got)}`;
    case 'tooLarge':
      return `expected an amount below 10^${MAX_AMOUNT_DIGITS} in magnitude, got ${boundedText(problem.got)}`;
    case 'negative':
      return `expected an amount of zero or more, got ${boundedText(problem.got)}`;
    case 'tooManyDecimals':
      return `expected a decimal string with at most ${problem.allowed} decimals for ${problem.currency}, got ${boundedText(problem.got)}`;
  }
};

/**
 * A value of the input as an error message shows it: whole up to 64 characters, else its first 40 and its
 * length, so that a refused line of megabytes is not echoed back on stderr (an id, an amount, a currency).
 */
export const boundedText = (text: string): string =>
  text.length <= 64 ? text : `${text.slice(0, 40)}... (${text.length} characters)`;

/** A string of the input, quoted, as an error message shows it (see {@link boundedText}). */
export const quoteBounded = (text: string): string =>
  text.length <= 64
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 40))}... (${text.length} characters)`;

export const describeValue = (value: unknown): string => {
  if (typeof value === 'string') return quoteBounded(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing (the field is missing)';
  return Array.isArray(value) ? 'an array' : `an ${typeof value}`;
};

/** Checks the form and bound of a decimal string, whatever its currency. */
export const parseDecimalString = (
  value: unknown,
  options: { readonly signed?: boolean } = {},
): E.Either<AmountProblem, DecimalString> => {
  if (typeof value !== 'string') return E.left({ kind: 'notAString', got: value });
  if (!DECIMAL_STRING.test(value) || value === '-0' || /^-0\.0*$/.test(value))
    return E.left({ kind: 'notADecimal', got: value });
  if (!options.signed && value.startsWith('-')) return E.left({ kind: 'negative', got: value });
  // The form has no leading zeros, so |value| < 10^15 exactly when its whole part has at most 15 digits.
  const dot = value.indexOf('.');
  const wholeDigits = (dot < 0 ? value.length : dot) - (value.startsWith('-') ? 1 : 0);
  if (wholeDigits > MAX_AMOUNT_DIGITS) return E.left({ kind: 'tooLarge', got: value });
  return E.right(value as DecimalString);
};

export const decimalsOf = (value: DecimalString): number => {
  const dot = value.indexOf('.');
  return dot < 0 ? 0 : value.length - dot - 1;
};

/**
 * Parses an amount of `currency`: a decimal string with no more decimals than the currency's minor unit.
 * An amount with more decimals is rejected, never rounded.
 */
export const parseAmount = (
  value: unknown,
  currency: CurrencyCode,
  options: { readonly signed?: boolean } = {},
): E.Either<AmountProblem, DecimalString> => {
  const decimal = parseDecimalString(value, options);
  if (E.isLeft(decimal)) return decimal;
  const allowed = minorUnitsOf(currency);
  return decimalsOf(decimal.right) > allowed
    ? E.left({ kind: 'tooManyDecimals', got: decimal.right, currency, allowed })
    : decimal;
};

/** An amount in integer minor units (cents for USD, yen for JPY, fils for BHD). */
export const toMinorUnits = (amount: LedgerDecimal | DecimalString, currency: CurrencyCode): bigint => {
  // A stored amount (a plain decimal string, far within the 60 digits of LedgerDecimal) is scaled by moving
  // its point: the same value as the Decimal product below, about ten times cheaper, and what a replay or a
  // verify does for every amount of every conversion.
  if (typeof amount === 'string' && amount.length <= 40 && DECIMAL_STRING.test(amount)) {
    const units = minorUnitsOf(currency);
    const dot = amount.indexOf('.');
    if (dot < 0) return BigInt(amount + '0'.repeat(units));
    const fraction = amount.length - dot - 1;
    // Decimals past the currency's are allowed only as trailing zeros ("1.500" USD), as the product's
    // isInteger check allows them.
    for (let i = dot + 1 + units; i < amount.length; i += 1)
      if (amount.charCodeAt(i) !== 48)
        throw new Error(`${amount} has more decimals than ${currency} allows; round it first`);
    return BigInt(
      amount.slice(0, dot) +
        amount.slice(dot + 1, dot + 1 + Math.min(fraction, units)) +
        '0'.repeat(Math.max(0, units - fraction)),
    );
  }
  const scaled = new LedgerDecimal(amount).mul(new LedgerDecimal(10).pow(minorUnitsOf(currency)));
  if (!scaled.isInteger()) {
    throw new Error(`${amount.toString()} has more decimals than ${currency} allows; round it first`);
  }
  return BigInt(scaled.toFixed(0));
};

/** An amount from a count of minor units of its currency: 1999n USD is 19.99. */
export const fromMinorUnits = (units: bigint, currency: CurrencyCode): LedgerDecimal =>
  new LedgerDecimal(units.toString()).div(new LedgerDecimal(10).pow(minorUnitsOf(currency)));

/** Rounds once, with the ledger's one rule (half to even), to the currency's minor unit. */
export const roundToCurrency = (value: LedgerDecimal, currency: CurrencyCode): LedgerDecimal =>
  value.toDecimalPlaces(minorUnitsOf(currency), MONEY_ROUNDING);

/** Formats an amount exactly as stored: fixed decimals of the currency, "-" for negatives, no "-0". */
export const formatAmount = (value: LedgerDecimal, currency: CurrencyCode): DecimalString => {
  const units = minorUnitsOf(currency);
  const rounded = value.toDecimalPlaces(units, MONEY_ROUNDING);
  if (!rounded.eq(value)) {
    throw new Error(`${value.toString()} has more decimals than ${currency} allows; round it first`);
  }
  const text = rounded.isZero() ? new LedgerDecimal(0).toFixed(units) : rounded.toFixed(units);
  return text as DecimalString;
};
