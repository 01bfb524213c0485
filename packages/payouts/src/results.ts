import * as E from 'fp-ts/Either';
import { parseTimestamp } from '@partner-ledger/events';
import { parseCsvRecord } from './formats';

// What a provider says became of each payout, read from a result file (CSV, this file) or from the
// provider's own documents (JSON, provider-documents.ts), before anything is checked against the ledger.

/** What a provider says became of a payout: paid, failed (never paid), or returned after it was paid. */
export type PayoutResultStatus = 'paid' | 'failed' | 'returned';

/**
 * The provider statuses a result file may give, lower-cased, and what each means; the others (PayPal's
 * PENDING, UNCLAIMED, ONHOLD, Wise's processing states) are not final and are left for a later file.
 */
export const RESULT_STATUSES: Readonly<Record<string, PayoutResultStatus>> = {
  paid: 'paid',
  success: 'paid',
  succeeded: 'paid',
  completed: 'paid',
  sent: 'paid',
  outgoing_payment_sent: 'paid',
  failed: 'failed',
  denied: 'failed',
  blocked: 'failed',
  cancelled: 'failed',
  canceled: 'failed',
  returned: 'returned',
  refunded: 'returned',
  reversed: 'returned',
  bounced_back: 'returned',
  funds_refunded: 'returned',
  charged_back: 'returned',
};

/** Provider statuses that are not final: such a line is read, and nothing is recorded for it. */
export const PENDING_STATUSES: readonly string[] = [
  'pending',
  'unclaimed',
  'onhold',
  'processing',
  'incoming_payment_waiting',
  'incoming_payment_initiated',
  'funds_converted',
  'waiting_recipient_input_to_proceed',
  'unknown',
];

/**
 * What a provider's status (lower case) means: `{ final }` with the result, or `{ final: undefined }` for a
 * status that is not final yet; undefined for a status this reader does not know.
 */
export const statusOf = (status: string): { final: PayoutResultStatus | undefined } | undefined =>
  Object.hasOwn(RESULT_STATUSES, status)
    ? { final: RESULT_STATUSES[status] }
    : PENDING_STATUSES.includes(status)
      ? { final: undefined }
      : undefined;

/** One result (a line of a result file, an item of a provider's document), read and checked. */
export interface PayoutResultLine {
  /** Where it is: `line 3` in a file; `items[2] (sender_item_id po-...)`, `[0] (transfer 123, ...)` in JSON. */
  readonly where: string;
  /** Undefined when only the provider's id names it (Wise's webhook): see `wiseTransferId`. */
  readonly payoutId: string | undefined;
  /** The Wise transfer's id, when the result is a Wise document's. */
  readonly wiseTransferId: string | undefined;
  /** The status as the provider wrote it. */
  readonly providerStatus: string;
  /** Undefined for a status that is not final yet. */
  readonly status: PayoutResultStatus | undefined;
  readonly reason: string | undefined;
  readonly providerReference: string | undefined;
  /** When it happened, as an RFC 3339 UTC timestamp; undefined when the file gives no date. */
  readonly at: string | undefined;
  /**
   * True when the file gave a day without a time (`2026-03-31`): `at` is then that day's first instant,
   * which says less than it seems (see reconcilePayouts).
   */
  readonly dayOnly?: boolean;
  /** The amount the provider says it paid, when its document gives one: checked against the payout. */
  readonly amount: { readonly value: string; readonly currency: string } | undefined;
}

/** A problem with a result file or document, naming where it is (`line 3`, `items[2]`) and the field. */
export interface ResultFileProblem {
  readonly where: string;
  readonly field: string;
  readonly message: string;
}

/** The columns a result file may have, by their normalised header name (lower case, letters and digits). */
const COLUMNS: Readonly<Record<string, 'payoutId' | 'status' | 'reason' | 'providerReference' | 'date'>> = {
  payoutid: 'payoutId',
  itemid: 'payoutId',
  senderitemid: 'payoutId',
  customerid: 'payoutId',
  paymentreference: 'payoutId',
  status: 'status',
  reason: 'reason',
  errormessage: 'reason',
  providerreference: 'providerReference',
  transactionid: 'providerReference',
  transferid: 'providerReference',
  date: 'date',
};

const normalise = (header: string): string => header.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * A provider's date (a day, UTC) or time with its zone (seconds optional, up to 9 decimals, cut to the
 * millisecond), as the stored timestamp; undefined when it is not one. Read by the ledger's own parser, so
 * that a date that does not exist (30 February, 24:00) is refused instead of rolled over by Date, as is one
 * outside the ledger's range.
 */
export const toTimestamp = (text: string): string | undefined => {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : undefined;
  const time = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const normal =
    day ??
    (time === null
      ? undefined
      : `${time[1]}${time[2] ?? ':00'}${time[3] === undefined ? '' : `.${time[3].slice(0, 3)}`}${time[4]}`);
  if (normal === undefined) return undefined;
  const parsed = parseTimestamp(normal);
  return E.isRight(parsed) ? parsed.right : undefined;
};

/**
 * Reads a result file: CSV with a header row naming its columns (any order; names compared without case,
 * spaces or punctuation): the payout's id (`payoutId`, or PayPal's `Item ID` / `Customer ID`, or Wise's
 * `paymentReference`), `status`, and optionally `reason`, `providerReference` (`Transaction ID`,
 * `Transfer ID`) and `date`. Left with every problem, each naming its line, when any line is bad.
 */
export const parseResultFile = (text: string): E.Either<ResultFileProblem[], PayoutResultLine[]> => {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const problems: ResultFileProblem[] = [];
  const header = lines.length > 0 ? parseCsvRecord(lines[0]!.replace(/^\uFEFF/, '')) : undefined;
  if (header === undefined)
    return E.left([
      { where: 'line 1', field: 'header', message: 'expected a header row naming the columns' },
    ]);
  const index: Partial<Record<string, number>> = {};
  header.forEach((name, i) => {
    const column = COLUMNS[normalise(name)];
    if (column !== undefined && index[column] === undefined) index[column] = i;
  });
  for (const required of ['payoutId', 'status'])
    if (index[required] === undefined)
      problems.push({
        where: 'line 1',
        field: 'header',
        message: `no ${required} column in ${JSON.stringify(lines[0])}`,
      });
  if (problems.length > 0) return E.left(problems);
  const read: PayoutResultLine[] = [];
  lines.slice(1).forEach((text, i) => {
    const line = `line ${i + 2}`;
    if (text.trim() === '') return;
    const fields = parseCsvRecord(text);
    if (fields === undefined) {
      problems.push({ where: line, field: '(line)', message: 'not a CSV record (a quote is not closed)' });
      return;
    }
    // More cells than the header names means a comma out of place (an unquoted name or reason): the cells
    // after it no longer sit under their columns, so the status read might be another column's.
    if (fields.length > header.length) {
      problems.push({
        where: line,
        field: '(line)',
        message: `${fields.length} fields, but the header names ${header.length} columns (is a comma in a value not quoted?)`,
      });
      return;
    }
    const cell = (column: string): string | undefined => {
      const at = index[column];
      const value = at === undefined ? undefined : fields[at]?.trim();
      return value === undefined || value === '' ? undefined : value;
    };
    const payoutId = cell('payoutId');
    if (payoutId === undefined) problems.push({ where: line, field: 'payoutId', message: 'missing' });
    const statusText = cell('status')?.toLowerCase();
    const status = statusText === undefined ? undefined : statusOf(statusText);
    if (statusText === undefined) problems.push({ where: line, field: 'status', message: 'missing' });
    else if (status === undefined)
      problems.push({
        where: line,
        field: 'status',
        message: `unknown status ${JSON.stringify(cell('status'))} (expected one of ${[...Object.keys(RESULT_STATUSES), ...PENDING_STATUSES].join(', ')})`,
      });
    const dateText = cell('date');
    const at = dateText === undefined ? undefined : toTimestamp(dateText);
    if (dateText !== undefined && at === undefined)
      problems.push({
        where: line,
        field: 'date',
        message: `expected a date (2026-03-31) or an RFC 3339 time, got ${JSON.stringify(dateText)}`,
      });
    if (payoutId !== undefined && statusText !== undefined && status !== undefined)
      read.push({
        where: line,
        payoutId,
        wiseTransferId: undefined,
        providerStatus: cell('status')!,
        status: status.final,
        reason: cell('reason'),
        providerReference: cell('providerReference'),
        at,
        ...(dateText !== undefined && /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(dateText) ? { dayOnly: true } : {}),
        amount: undefined,
      });
  });
  return problems.length > 0 ? E.left(problems) : E.right(read);
};
