import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import Stripe from 'stripe';
import { minorUnitsOf, toMinorUnits } from '@partner-ledger/events';
import { fromStripeAmount, stripeExponentOf } from './amounts';

const convert = (minor: unknown, currency: unknown) =>
  fromStripeAmount(minor, currency, 'amount', 'currency');

describe("fromStripeAmount: Stripe's minor units into the ledger's amounts", () => {
  it('pins the API version of the stripe package it is built on', () => {
    expect(Stripe.API_VERSION).toBe('2026-11-18.endive');
  });

  it.each([
    [1999, 'usd', '19.99', 'USD'],
    [0, 'eur', '0.00', 'EUR'],
    [500, 'jpy', '500', 'JPY'],
    [5124, 'bhd', '5.124', 'BHD'],
    [12340, 'kwd', '12.340', 'KWD'],
    [7000, 'jod', '7.000', 'JOD'],
    [3210, 'omr', '3.210', 'OMR'],
    [990, 'tnd', '0.990', 'TND'],
    // Zero-decimal in ISO 4217, two-decimal at Stripe with the decimals always 00.
    [199900, 'isk', '1999', 'ISK'],
    [500000, 'ugx', '5000', 'UGX'],
    // Two-decimal in ISO 4217, zero-decimal at Stripe.
    [1000, 'mga', '1000.00', 'MGA'],
    [1234, 'huf', '12.34', 'HUF'],
  ])('%i %s is %s %s', (minor, currency, amount, code) => {
    expect(convert(minor, currency)).toEqual(E.right({ amount, currency: code }));
  });

  it('refuses an amount the ledger cannot represent, never rounds it', () => {
    const problem = convert(199950, 'isk');
    expect(problem).toEqual(
      E.left({ field: 'amount', message: expect.stringContaining('1999.50 ISK at Stripe') }),
    );
    expect(E.isLeft(convert(500050, 'ugx'))).toBe(true);
  });

  it.each([
    [1.5, 'usd', 'amount'],
    [-1, 'usd', 'amount'],
    ['100', 'usd', 'amount'],
    [Number.MAX_SAFE_INTEGER + 1, 'usd', 'amount'],
    [100, 'USD', 'currency'],
    [100, 'xyz', 'currency'],
    [100, null, 'currency'],
  ])('refuses %p %p, naming the field %s', (minor, currency, field) => {
    const result = convert(minor, currency);
    expect(E.isLeft(result) && result.left.field).toBe(field);
  });

  it('has the exponents of Stripe, not of ISO 4217, where they differ', () => {
    expect(['isk', 'ugx', 'mga', 'jpy', 'bhd', 'usd'].map(stripeExponentOf)).toEqual([2, 2, 0, 0, 3, 2]);
  });

  it('converts every integer exactly, or refuses exactly those the ledger cannot hold (property)', () => {
    const currencies = ['usd', 'jpy', 'bhd', 'kwd', 'isk', 'ugx', 'mga', 'eur', 'clp'];
    fc.assert(
      fc.property(
        fc.constantFrom(...currencies),
        fc.bigInt({ min: 0n, max: 10n ** 14n }),
        (currency, minor) => {
          const code = currency.toUpperCase();
          const stripe = stripeExponentOf(currency);
          const ledger = minorUnitsOf(code);
          const result = convert(Number(minor), currency);
          // Representable exactly when the hundredths Stripe counts beyond the ledger's decimals are zero.
          const representable = stripe <= ledger || minor % 10n ** BigInt(stripe - ledger) === 0n;
          expect(E.isRight(result)).toBe(representable);
          if (E.isRight(result))
            // The ledger's minor units, scaled back to Stripe's, are the integer Stripe sent.
            expect(
              stripe <= ledger
                ? toMinorUnits(result.right.amount, code) === minor * 10n ** BigInt(ledger - stripe)
                : toMinorUnits(result.right.amount, code) * 10n ** BigInt(stripe - ledger) === minor,
            ).toBe(true);
        },
      ),
    );
  });
});
