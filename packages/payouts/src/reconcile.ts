import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import type { Ledger } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { parseCsvRecord } from './formats';
import { readPayoutFacts } from './read';

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
};

/** Provider statuses that are not final: such a line is read, and nothing is recorded for it. */
export const PENDING_STATUSES: readonly string[] = [
  'pending',
  'unclaimed',
  'onhold',
  'processing',
  'incoming_payment_waiting',
  'funds_converted',
];

/** One line of a result file, read and checked. */
export interface PayoutResultLine {
  /** The line's number in the file (1: the header). */
  readonly line: number;
  readonly payoutId: string;
  /** Undefined for a status that is not final yet. */
  readonly status: PayoutResultStatus | undefined;
  readonly reason: string | undefined;
  readonly providerReference: string | undefined;
  /** When it happened, as an RFC 3339 UTC timestamp; undefined when the file gives no date. */
  readonly at: string | undefined;
}

/** A problem with a result file, naming its line and column. */
export interface ResultFileProblem {
  readonly line: number;
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

const toTimestamp = (text: string): string | undefined => {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? new Date(`${text}T00:00:00.000Z`)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)
      ? new Date(text)
      : undefined;
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date.toISOString();
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
    return E.left([{ line: 1, field: 'header', message: 'expected a header row naming the columns' }]);
  const index: Partial<Record<string, number>> = {};
  header.forEach((name, i) => {
    const column = COLUMNS[normalise(name)];
    if (column !== undefined && index[column] === undefined) index[column] = i;
  });
  for (const required of ['payoutId', 'status'])
    if (index[required] === undefined)
      problems.push({
        line: 1,
        field: 'header',
        message: `no ${required} column in ${JSON.stringify(lines[0])}`,
      });
  if (problems.length > 0) return E.left(problems);
  const read: PayoutResultLine[] = [];
  lines.slice(1).forEach((text, i) => {
    const line = i + 2;
    if (text.trim() === '') return;
    const fields = parseCsvRecord(text);
    if (fields === undefined) {
      problems.push({ line, field: '(line)', message: 'not a CSV record (a quote is not closed)' });
      return;
    }
    const cell = (column: string): string | undefined => {
      const at = index[column];
      const value = at === undefined ? undefined : fields[at]?.trim();
      return value === undefined || value === '' ? undefined : value;
    };
    const payoutId = cell('payoutId');
    if (payoutId === undefined) problems.push({ line, field: 'payoutId', message: 'missing' });
    const statusText = cell('status')?.toLowerCase();
    const status = statusText === undefined ? undefined : RESULT_STATUSES[statusText];
    if (statusText === undefined) problems.push({ line, field: 'status', message: 'missing' });
    else if (status === undefined && !PENDING_STATUSES.includes(statusText))
      problems.push({
        line,
        field: 'status',
        message: `unknown status ${JSON.stringify(cell('status'))} (expected one of ${[...Object.keys(RESULT_STATUSES), ...PENDING_STATUSES].join(', ')})`,
      });
    const dateText = cell('date');
    const at = dateText === undefined ? undefined : toTimestamp(dateText);
    if (dateText !== undefined && at === undefined)
      problems.push({
        line,
        field: 'date',
        message: `expected a date (2026-03-31) or an RFC 3339 time, got ${JSON.stringify(dateText)}`,
      });
    if (payoutId !== undefined)
      read.push({
        line,
        payoutId,
        status,
        reason: cell('reason'),
        providerReference: cell('providerReference'),
        at,
      });
  });
  return problems.length > 0 ? E.left(problems) : E.right(read);
};

/** What `reconcilePayouts` needs: the ledger that records the results, its store, and the file's text. */
export interface ReconcilePayoutsOptions {
  readonly ledger: Pick<Ledger, 'confirmPayout' | 'recordPayoutFailure'>;
  readonly store: EventStore;
  /** The result file's text (see `parseResultFile`). */
  readonly text: string;
  /** The ledger's clock: a line's date may not be later. Default: the system clock. */
  readonly now?: () => Date;
}

/** What a reconciliation recorded. */
export interface ReconcileSummary {
  readonly confirmed: number;
  readonly failed: number;
  readonly returned: number;
  /** Lines whose result the ledger already holds (a file read again, a status repeated). */
  readonly alreadyRecorded: number;
  /** Lines with a status that is not final yet. */
  readonly pending: number;
}

interface Known {
  confirmed: boolean;
  failed: boolean;
}

/**
 * Records a provider's results: a paid payout is confirmed (PayoutConfirmed), a failed or returned one fails
 * (PayoutFailed, reason prefixed `returned: ` for a return), which makes its amount payable again. Every
 * line is checked first, against the file and the ledger: a bad line (unknown payout, unknown status, bad
 * date, a payout that failed reported paid) is a Left naming it, and nothing is recorded. Idempotent: a line
 * whose result the ledger holds records nothing, so a file may be read again, and a later file (Wise
 * returns transfers weeks after) may repeat earlier lines.
 */
export const reconcilePayouts =
  (options: ReconcilePayoutsOptions): TE.TaskEither<ResultFileProblem[], ReconcileSummary> =>
  async () => {
    const parsed = parseResultFile(options.text);
    if (E.isLeft(parsed)) return parsed;
    const facts = await readPayoutFacts(options.store);
    const now = (options.now ?? (() => new Date()))().toISOString();
    const problems: ResultFileProblem[] = [];
    const known = new Map<string, Known>();
    const plan: Array<PayoutResultLine & { partnerId: string; record: boolean }> = [];
    for (const line of parsed.right) {
      const payout = facts.book.payout(line.payoutId);
      if (payout === undefined) {
        problems.push({
          line: line.line,
          field: 'payoutId',
          message: `no payout ${JSON.stringify(line.payoutId)} was prepared`,
        });
        continue;
      }
      if (line.at !== undefined && line.at > now) {
        problems.push({ line: line.line, field: 'date', message: `${line.at} is in the future` });
        continue;
      }
      if (line.at !== undefined && line.at < payout.issuedAt) {
        problems.push({
          line: line.line,
          field: 'date',
          message: `${line.at} is before payout ${line.payoutId} was issued (${payout.issuedAt})`,
        });
        continue;
      }
      const state = known.get(line.payoutId) ?? {
        confirmed: payout.confirmed !== null,
        failed: payout.failed !== null,
      };
      known.set(line.payoutId, state);
      let record = false;
      if (line.status === 'paid') {
        if (!state.confirmed && state.failed)
          problems.push({
            line: line.line,
            field: 'status',
            message: `payout ${line.payoutId} failed before it was paid (${payout.failed?.reason ?? 'in this file'}): it cannot be confirmed`,
          });
        record = !state.confirmed && !state.failed;
        state.confirmed = true;
      } else if (line.status !== undefined) {
        record = !state.failed;
        state.failed = true;
      }
      plan.push({ ...line, partnerId: payout.partnerId, record });
    }
    if (problems.length > 0) return E.left(problems);
    const summary = { confirmed: 0, failed: 0, returned: 0, alreadyRecorded: 0, pending: 0 };
    for (const line of plan) {
      if (line.status === undefined) {
        summary.pending += 1;
        continue;
      }
      if (!line.record) {
        summary.alreadyRecorded += 1;
        continue;
      }
      const when = line.at === undefined ? {} : { occurredAt: line.at };
      const outcome =
        line.status === 'paid'
          ? await options.ledger.confirmPayout({
              payoutId: line.payoutId,
              partnerId: line.partnerId,
              providerReference: line.providerReference ?? null,
              ...when,
            })()
          : await options.ledger.recordPayoutFailure({
              payoutId: line.payoutId,
              partnerId: line.partnerId,
              reason: `${line.status === 'returned' ? 'returned' : 'failed'}: ${line.reason ?? 'no reason given'}`,
              ...when,
            })();
      // Checked above against the same state: a refusal here is another writer's, met halfway through.
      if (E.isLeft(outcome))
        return E.left([
          {
            line: line.line,
            field: 'status',
            message: `refused by the ledger: ${outcome.left.code}: ${outcome.left.message}`,
          },
        ]);
      if (outcome.right.alreadyRecorded) summary.alreadyRecorded += 1;
      else if (line.status === 'paid') summary.confirmed += 1;
      else if (line.status === 'failed') summary.failed += 1;
      else summary.returned += 1;
    }
    return E.right(summary);
  };
