import { createHash } from 'node:crypto';
import { LedgerDecimal, minorUnitsOf } from '@partner-ledger/events';
import type { CurrencyCode } from '@partner-ledger/events';

/** The payout methods a batch can be prepared for: a provider's file, or a generic CSV for anything else. */
export type PayoutBatchMethod = 'paypal' | 'wise' | 'csv';

/** The batch methods, in the order the CLI lists them. */
export const PAYOUT_BATCH_METHODS: readonly PayoutBatchMethod[] = ['paypal', 'wise', 'csv'];

/**
 * Currencies PayPal pays in whole units only, though ISO 4217 gives two of them decimals (HUF, TWD; JPY has
 * none in ISO either). A fraction of them is never sent: it stays payable for a later run.
 */
export const PAYPAL_WHOLE_UNIT_CURRENCIES: readonly string[] = ['HUF', 'JPY', 'TWD'];

/** At most so many rows in one file: PayPal Payouts Web takes 5,000 payments a file, Wise 1,000 transfers. */
export const BATCH_FILE_LIMITS: Readonly<Record<PayoutBatchMethod, number>> = {
  paypal: 5000,
  wise: 1000,
  csv: Number.POSITIVE_INFINITY,
};

/**
 * The length of a Wise payment reference: what Wise passes on to the recipient's bank is as short as 10
 * characters (USD; 12 SEK, 14 NGN, 16 GBP and INR, 18 AUD and ZAR, 35 EUR), so a payout id (18) would be cut.
 */
export const WISE_REFERENCE_LENGTH = 10;

/**
 * The payment reference a Wise batch file gives a payout: 10 characters, digits and capital letters, derived
 * from the payout id (51 bits of its SHA-256), so that the transfer's `reference` leads back to the payout.
 */
export const wiseReferenceOf = (payoutId: string): string =>
  (createHash('sha256').update(payoutId).digest().readBigUInt64BE(0) % 36n ** 10n)
    .toString(36)
    .toUpperCase()
    .padStart(WISE_REFERENCE_LENGTH, '0');

/** The decimals a method can send in a currency: PayPal's exceptions, otherwise the currency's own. */
export const payableDecimals = (method: PayoutBatchMethod, currency: CurrencyCode): number =>
  method === 'paypal' && PAYPAL_WHOLE_UNIT_CURRENCIES.includes(currency) ? 0 : minorUnitsOf(currency);

/** The part of `amount` the method can send: rounded down (never up) to its decimals. */
export const sendableAmount = (
  method: PayoutBatchMethod,
  currency: CurrencyCode,
  amount: LedgerDecimal,
): LedgerDecimal => amount.toDecimalPlaces(payableDecimals(method, currency), LedgerDecimal.ROUND_DOWN);

/** One CSV field: quoted when it holds a comma, a quote or a line break (quotes doubled), as RFC 4180 says. */
export const csvField = (value: string): string =>
  /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;

/** One CSV record, CRLF-terminated (RFC 4180). */
export const csvRecord = (fields: readonly string[]): string => `${fields.map(csvField).join(',')}\r\n`;

/**
 * Splits one CSV record's text into fields (RFC 4180 quoting); undefined when a quote is left open or
 * text follows a closing quote.
 */
export const parseCsvRecord = (line: string): string[] | undefined => {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += line[i];
        i += 1;
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ',') return undefined;
      i += 1;
    } else {
      const end = line.indexOf(',', i);
      if (end < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
};
