import * as fc from 'fast-check';
import * as E from 'fp-ts/Either';
import {
  describeAmountProblem,
  formatAmount,
  fromMinorUnits,
  parseAmount,
  parseDecimalString,
  roundToCurrency,
  toMinorUnits,
} from './amount';
import type { CurrencyCode } from './currency';
import { currencyCodes, isCurrencyCode, minorUnitsOf } from './currency';
import { LedgerDecimal } from './decimal';
import Decimal from 'decimal.js';

const USD = 'USD' as CurrencyCode;
const JPY = 'JPY' as CurrencyCode;
const BHD = 'BHD' as CurrencyCode;

const problem = (value: unknown, currency: CurrencyCode = USD, signed = false): string => {
  const result = parseAmount(value, currency, { signed });
  if (E.isRight(result)) throw new Error(`expected ${String(value)} to be rejected`);
  return describeAmountProblem(result.left);
};

describe('currencies', () => {
  it('knows the minor units of ISO 4217 currencies', () => {
    expect(minorUnitsOf(JPY)).toBe(0);
    expect(minorUnitsOf(USD)).toBe(2);
    expect(minorUnitsOf(BHD)).toBe(3);
    expect(minorUnitsOf('CLF' as CurrencyCode)).toBe(4);
    expect(isCurrencyCode('EUR')).toBe(true);
    expect(currencyCodes().length).toBeGreaterThan(150);
  });

  it('rejects codes that are not ISO 4217', () => {
    expect(isCurrencyCode('usd')).toBe(false);
    expect(isCurrencyCode('XXX1')).toBe(false);
    expect(isCurrencyCode(840)).toBe(false);
    expect(() => minorUnitsOf('ABC' as CurrencyCode)).toThrow('Unknown currency "ABC"');
  });
});

describe('parsing amounts', () => {
  it('accepts plain decimal strings within the currency minor units', () => {
    expect(parseAmount('1234.50', USD)).toEqual(E.right('1234.50'));
    expect(parseAmount('0', USD)).toEqual(E.right('0'));
    expect(parseAmount('1500', JPY)).toEqual(E.right('1500'));
    expect(parseAmount('0.125', BHD)).toEqual(E.right('0.125'));
    expect(parseAmount('-3.25', USD, { signed: true })).toEqual(E.right('-3.25'));
  });

  it('never accepts a JavaScript number, and says why', () => {
    expect(problem(12.5)).toBe('expected a decimal string (money is never a JavaScript number), got 12.5');
    expect(problem(NaN)).toBe('expected a decimal string (money is never a JavaScript number), got NaN');
    expect(problem(undefined)).toContain('got nothing (the field is missing)');
  });

  it.each([
    'NaN',
    'Infinity',
    '1e3',
    '1E3',
    '+1',
    '01',
    '.5',
    '1.',
    '1,000.00',
    ' 1',
    '0x10',
    '',
    '--1',
    '-0',
  ])('rejects the malformed decimal %j', (text) => {
    expect(problem(text)).toBe(
      `expected a decimal string such as "1234.50" (no exponent, no sign other than "-"), got ${JSON.stringify(text)}`,
    );
  });

  it('rejects more decimals than the currency has, instead of rounding', () => {
    expect(problem('12.345')).toBe('expected a decimal string with at most 2 decimals for USD, got 12.345');
    expect(problem('1.5', JPY)).toBe('expected a decimal string with at most 0 decimals for JPY, got 1.5');
    expect(problem('0.1234', BHD)).toBe(
      'expected a decimal string with at most 3 decimals for BHD, got 0.1234',
    );
  });

  it('rejects amounts past the sane bound of 10^15', () => {
    expect(problem('1000000000000000')).toBe(
      'expected an amount below 10^15 in magnitude, got 1000000000000000',
    );
    expect(parseAmount('999999999999999.99', USD)).toEqual(E.right('999999999999999.99'));
  });

  it('rejects negative amounts unless the field is signed', () => {
    expect(problem('-1.00')).toBe('expected an amount of zero or more, got -1.00');
    expect(E.isRight(parseDecimalString('-1.00', { signed: true }))).toBe(true);
  });
});

describe('minor units and formatting', () => {
  it('converts to and from minor units exactly', () => {
    expect(toMinorUnits('1234.50' as never, USD)).toBe(123450n);
    expect(toMinorUnits('1500' as never, JPY)).toBe(1500n);
    expect(toMinorUnits('0.001' as never, BHD)).toBe(1n);
    expect(fromMinorUnits(123450n, USD).toFixed(2)).toBe('1234.50');
    expect(() => toMinorUnits('0.001' as never, USD)).toThrow('more decimals than USD allows');
  });

  it('formats with the currency decimals and never prints -0', () => {
    expect(formatAmount(new LedgerDecimal('12.5'), USD)).toBe('12.50');
    expect(formatAmount(new LedgerDecimal('-0'), USD)).toBe('0.00');
    expect(formatAmount(new LedgerDecimal('7'), BHD)).toBe('7.000');
    expect(() => formatAmount(new LedgerDecimal('0.005'), USD)).toThrow('round it first');
  });

  it('rounds once, half to even, at the minor unit', () => {
    expect(roundToCurrency(new LedgerDecimal('0.125'), USD).toFixed(2)).toBe('0.12');
    expect(roundToCurrency(new LedgerDecimal('0.135'), USD).toFixed(2)).toBe('0.14');
    expect(roundToCurrency(new LedgerDecimal('2.5'), JPY).toFixed(0)).toBe('2');
  });

  it('does not change the global Decimal configuration of the host application', () => {
    expect(Decimal.precision).toBe(20);
    expect(LedgerDecimal.precision).toBe(60);
  });
});

const currencyArb = fc.constantFrom(USD, JPY, BHD, 'EUR' as CurrencyCode, 'CLF' as CurrencyCode);
const minorArb = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });

describe('money arithmetic (properties)', () => {
  it('minor units -> amount -> minor units is the identity', () => {
    fc.assert(
      fc.property(minorArb, currencyArb, (units, currency) => {
        const amount = formatAmount(fromMinorUnits(units, currency), currency);
        expect(toMinorUnits(amount, currency)).toBe(units);
      }),
    );
  });

  it('formatted amounts parse back to themselves', () => {
    fc.assert(
      fc.property(minorArb, currencyArb, (units, currency) => {
        const amount = formatAmount(fromMinorUnits(units, currency), currency);
        const parsed = parseAmount(amount, currency, { signed: true });
        if (new LedgerDecimal(amount).abs().lt(new LedgerDecimal(10).pow(15)))
          expect(parsed).toEqual(E.right(amount));
      }),
    );
  });

  it('a decimal string gives the minor units of the Decimal product, or its error, however it is spelled', () => {
    // What toMinorUnits computed before its string path, for every string (the reference).
    const byProduct = (amount: string, currency: CurrencyCode): bigint | string => {
      const scaled = new LedgerDecimal(amount).mul(new LedgerDecimal(10).pow(minorUnitsOf(currency)));
      return scaled.isInteger() ? BigInt(scaled.toFixed(0)) : 'more decimals';
    };
    const digits = (max: number) => fc.stringMatching(new RegExp(`^[0-9]{1,${max}}$`));
    const decimalString = fc
      .tuple(fc.boolean(), digits(45), fc.option(digits(8), { nil: undefined }))
      .map(([negative, whole, fraction]) => {
        const integer = whole.replace(/^0+(?=[0-9])/, '');
        return `${negative ? '-' : ''}${integer}${fraction === undefined ? '' : `.${fraction}`}`;
      });
    const check = (amount: string, currency: CurrencyCode): void => {
      const expected = byProduct(amount, currency);
      if (expected === 'more decimals')
        expect(() => toMinorUnits(amount, currency)).toThrow(`more decimals than ${currency} allows`);
      else expect(toMinorUnits(amount, currency)).toBe(expected);
    };
    for (const [amount, currency] of [
      ['1.500', USD],
      ['1.501', USD],
      ['-0', USD],
      ['-0.00', JPY],
      ['0.0010', BHD],
      ['12', BHD],
      ['-7.1', JPY],
    ] as const)
      check(amount, currency);
    fc.assert(fc.property(decimalString, currencyArb, check), { numRuns: 2000 });
  });

  it('adding in LedgerDecimal equals adding in minor units (no float drift)', () => {
    fc.assert(
      fc.property(fc.array(minorArb, { maxLength: 50 }), currencyArb, (items, currency) => {
        const sum = items.reduce((acc, u) => acc.plus(fromMinorUnits(u, currency)), new LedgerDecimal(0));
        expect(toMinorUnits(sum, currency)).toBe(items.reduce((a, b) => a + b, 0n));
      }),
    );
  });
});
