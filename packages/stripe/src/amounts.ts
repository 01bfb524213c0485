import * as E from 'fp-ts/Either';
import {
  LedgerDecimal,
  describeAmountProblem,
  formatAmount,
  isCurrencyCode,
  minorUnitsOf,
  parseAmount,
} from '@partner-ledger/events';
import type { CurrencyCode, DecimalString } from '@partner-ledger/events';

// Stripe gives every amount as an integer count of the currency's minor unit, and its exponents are its own,
// not always ISO 4217's (https://docs.stripe.com/currencies): most currencies are two-decimal, a list is
// zero-decimal, five are three-decimal, and ISK and UGX are zero-decimal in ISO 4217 but two-decimal in the
// API (for backwards compatibility), with the decimals always 00. MGA is the other way round: two-decimal in
// ISO 4217, zero-decimal at Stripe.

/** Currencies that Stripe treats as zero-decimal: an amount of 500 JPY is 500 yen. */
export const STRIPE_ZERO_DECIMAL: ReadonlySet<string> = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);

/** Currencies that Stripe treats as three-decimal: 5124 BHD is 5.124 dinars. */
export const STRIPE_THREE_DECIMAL: ReadonlySet<string> = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/**
 * The number of decimals of Stripe's minor unit for a currency (lowercase, as Stripe spells it): 0, 2 or 3.
 * ISK and UGX are 2 here (zero-decimal in ISO 4217, but the API counts hundredths that are always 00).
 */
export const stripeExponentOf = (currency: string): number =>
  STRIPE_ZERO_DECIMAL.has(currency) ? 0 : STRIPE_THREE_DECIMAL.has(currency) ? 3 : 2;

/** An amount of Stripe's converted into the ledger's form: a decimal string and an ISO 4217 code. */
export interface LedgerMoney {
  /** In the ledger's minor units for the currency ("1999.00" ISK from Stripe's 199900). */
  readonly amount: DecimalString;
  /** The ISO 4217 code, uppercase (Stripe's `usd` is `USD`). */
  readonly currency: CurrencyCode;
}

/** Why an amount of Stripe's cannot be recorded: named by its field in the Stripe object. */
export interface StripeAmountProblem {
  /** The field of the Stripe object, `data.object.amount_paid`. */
  readonly field: string;
  readonly message: string;
}

/**
 * Converts an amount in Stripe's minor units to the ledger's decimal string, exactly (decimal.js, never a
 * float): `minor / 10^(Stripe's exponent)`, which must fit the ledger's (ISO 4217) decimals for the
 * currency. Refused (Left): an amount that is not a non-negative safe integer, a currency the ledger does
 * not know, and an amount that the ledger cannot represent (199950 ISK is 1999.50 ISK at Stripe, but ISK
 * has no decimals), never rounded.
 */
export const fromStripeAmount = (
  minor: unknown,
  stripeCurrency: unknown,
  field: string,
  currencyField: string,
): E.Either<StripeAmountProblem, LedgerMoney> => {
  if (typeof stripeCurrency !== 'string' || !/^[a-z]{3}$/.test(stripeCurrency))
    return E.left({
      field: currencyField,
      message: `expected a three-letter lowercase currency code, got ${JSON.stringify(stripeCurrency)}`,
    });
  const currency = stripeCurrency.toUpperCase();
  if (!isCurrencyCode(currency))
    return E.left({
      field: currencyField,
      message: `the ledger does not know the currency ${JSON.stringify(stripeCurrency)}`,
    });
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 0)
    return E.left({
      field,
      message: `expected a non-negative integer count of minor units, got ${JSON.stringify(minor)}`,
    });
  const exponent = stripeExponentOf(stripeCurrency);
  const value = new LedgerDecimal(minor).div(new LedgerDecimal(10).pow(exponent));
  const decimals = minorUnitsOf(currency);
  if (!value.toDecimalPlaces(decimals).eq(value))
    return E.left({
      field,
      message: `${minor} is ${value.toFixed(exponent)} ${currency} at Stripe (${exponent} decimals), which ${currency} cannot hold with its ${decimals} decimals: refused, never rounded`,
    });
  const amount = formatAmount(value, currency);
  const parsed = parseAmount(amount, currency);
  return E.isLeft(parsed)
    ? E.left({ field, message: describeAmountProblem(parsed.left) })
    : E.right({ amount: parsed.right, currency });
};
