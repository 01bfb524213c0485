import { createHash } from 'node:crypto';
import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import { LedgerDecimal, formatAmount, isCurrencyCode } from '@partner-ledger/events';
import type { CurrencyCode } from '@partner-ledger/events';
import type { BookedPayout, Ledger } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { BATCH_FILE_LIMITS, csvRecord, payableDecimals, sendableAmount, wiseReferenceOf } from './formats';
import type { PayoutBatchMethod } from './formats';
import { payeeProblem, readPayoutFacts } from './read';
import type { Payee, PayoutFacts } from './read';

/** What `preparePayouts` needs: the ledger that issues the payouts, the store it reads, and the run's terms. */
export interface PreparePayoutsOptions {
  /** Issues each payout (`issuePayout`): the ledger's own rules decide it, on its own state. */
  readonly ledger: Pick<Ledger, 'issuePayout'>;
  /**
   * The ledger's store, read once for payee details and balances. Give the sealing store (with the keys):
   * without them payee details read as sealed and nobody can be paid.
   */
  readonly store: EventStore;
  /** Pays what is payable at this time (an RFC 3339 UTC timestamp), recorded as the payouts' occurredAt. */
  readonly asOf: string;
  readonly method: PayoutBatchMethod;
  /**
   * The least a payout may be, per currency. Default: the program's minimum payout in the program's currency,
   * and more than zero in any other.
   */
  readonly minimums?: Readonly<Record<string, string>>;
  /** PayPal's note to the recipient. Default "Partner commission payout". */
  readonly note?: string;
  /** Wise's source currency (what you pay the batch with). Default: each file's target currency. */
  readonly sourceCurrency?: string;
  /**
   * Called with every file the run means to write (as if the ledger issues every payout) before anything is
   * recorded: a Left refuses the run, and nothing is recorded. The CLI refuses there to overwrite a file
   * that differs.
   */
  readonly beforeRecording?: (files: readonly BatchFile[]) => Promise<E.Either<PayoutsError, void>>;
}

/** A payout the run issued, and the row written for it. */
export interface PreparedPayout {
  readonly payoutId: string;
  readonly partnerId: string;
  readonly currency: string;
  /** The amount sent, in the ledger's form ("12345.00" HUF); the batch file may write it with fewer decimals. */
  readonly amount: string;
  /** What was payable; the difference to `amount` (a fraction PayPal cannot send) stays payable. */
  readonly payable: string;
  /** The batch file it is written in. */
  readonly file: string;
}

/**
 * A payout an earlier run of the same method and as-of date recorded, still open (neither confirmed nor
 * failed), in a file none of whose payouts the provider has answered: the run writes that file again.
 */
export type ReopenedPayout = Omit<PreparedPayout, 'payable'>;

/** A partner with a payable balance that the run did not pay, and why. */
export interface SkippedPayout {
  readonly partnerId: string;
  readonly currency: string;
  readonly payable: string;
  readonly reason: string;
}

/** A batch file to hand to the provider (upload it as it is). */
export interface BatchFile {
  /** A file name: `<method>-<as-of date>-<currency>-<n>.csv` (the generic CSV: `payouts-<as-of date>.csv`). */
  readonly name: string;
  readonly rows: number;
  readonly content: string;
}

/** What a payout run did. */
export interface PreparedBatch {
  readonly method: PayoutBatchMethod;
  readonly asOf: string;
  readonly payouts: readonly PreparedPayout[];
  /** Partners that reached the minimum but were not paid: no or unusable payee details, erased, refused. */
  readonly skipped: readonly SkippedPayout[];
  /** How many partner balances were positive but below the minimum (left payable for later). */
  readonly belowMinimum: number;
  /**
   * Payouts recorded by an earlier run of the same method and date and still open, whose files are written
   * again, byte for byte (after a crash between recording and writing, say).
   */
  readonly reopened: readonly ReopenedPayout[];
  /** The files, by name: those of `reopened`, then those of `payouts`. */
  readonly files: readonly BatchFile[];
}

/** Why a payout run could not start. */
export interface PayoutsError {
  readonly code: 'PROGRAM_NOT_CONFIGURED' | 'INVALID_OPTION' | 'FILE_CONFLICT';
  readonly message: string;
}

const LEDGER_METHOD = { paypal: 'paypal', wise: 'wise', csv: 'other' } as const;

/**
 * The id of a payout: derived from the run's terms and the partner's balance stream revision, so that the
 * same run repeated (or two at once) names the same payouts, while a run after any payout fact of the
 * partner (a failure giving funds back) names new ones. 18 characters: within PayPal's 30 for an item id;
 * Wise files carry a 10-character reference derived from it (`wiseReferenceOf`).
 */
export const payoutIdOf = (
  method: PayoutBatchMethod,
  asOf: string,
  partnerId: string,
  currency: string,
  revision: number,
): string =>
  `po-${createHash('sha256')
    .update(JSON.stringify([method, asOf, partnerId, currency, revision]))
    .digest('hex')
    .slice(0, 15)}`;

const payeeUnusable = (method: PayoutBatchMethod, payee: Payee): string | undefined => {
  if (method === 'paypal') {
    if (payee.method !== 'paypal') return `payee method is ${payee.method}, not paypal`;
    if (payee.email === undefined) return 'no PayPal e-mail in the payee details';
    // PayPal's receiver: "up to 127 single-byte characters".
    if (Buffer.byteLength(payee.email) > 127)
      return 'PayPal e-mail longer than 127 bytes, more than PayPal takes';
  }
  if (method === 'wise') {
    if (payee.method !== 'wise') return `payee method is ${payee.method}, not wise`;
    if (payee.wiseRecipientId === undefined) return 'no Wise recipient id in the payee details';
  }
  return undefined;
};

const dateOf = (asOf: string): string => asOf.slice(0, 10).replace(/-/g, '');

/** How the files of a run of `method` as of that date start: `paypal-20260331-` or `payouts-20260331`. */
export const batchFilePrefix = (method: PayoutBatchMethod, asOf: string): string =>
  method === 'csv' ? `payouts-${dateOf(asOf)}` : `${method}-${dateOf(asOf)}-`;

interface Row {
  readonly payout: Omit<PreparedPayout, 'file'>;
  readonly payee: Payee;
}

const amountText = (method: PayoutBatchMethod, currency: CurrencyCode, amount: string): string =>
  new LedgerDecimal(amount).toFixed(payableDecimals(method, currency));

const WISE_HEADER = [
  'name',
  'recipientId',
  'recipientEmail',
  'sourceCurrency',
  'targetCurrency',
  'amount',
  'amountCurrency',
  'paymentReference',
];

const CSV_HEADER = [
  'payoutId',
  'partnerId',
  'payeeMethod',
  'currency',
  'amount',
  'email',
  'accountHolderName',
  'iban',
  'wiseRecipientId',
];

const fileRows = (
  method: PayoutBatchMethod,
  rows: readonly Row[],
  options: PreparePayoutsOptions,
): string[] =>
  rows.map(({ payout, payee }) => {
    const currency = payout.currency as CurrencyCode;
    const amount = amountText(method, currency, payout.amount);
    switch (method) {
      case 'paypal':
        return csvRecord([
          payee.email ?? '',
          amount,
          currency,
          payout.payoutId,
          options.note ?? 'Partner commission payout',
          'PAYPAL',
        ]);
      case 'wise':
        return csvRecord([
          payee.accountHolderName ?? '',
          payee.wiseRecipientId ?? '',
          payee.email ?? '',
          options.sourceCurrency ?? currency,
          currency,
          amount,
          'target',
          wiseReferenceOf(payout.payoutId),
        ]);
      case 'csv':
        return csvRecord([
          payout.payoutId,
          payout.partnerId,
          payee.method,
          currency,
          amount,
          payee.email ?? '',
          payee.accountHolderName ?? '',
          payee.iban ?? '',
          payee.wiseRecipientId ?? '',
        ]);
    }
  });

/**
 * The files of a run, by name: for PayPal and Wise one currency a file, at most 5,000 (PayPal) or 1,000 rows
 * (Wise) each; the generic CSV in one file. A name an earlier run of the same method and date gave a file
 * (`used`) is not given again: the numbering goes on (`-2`, ...).
 */
const plannedFiles = (
  method: PayoutBatchMethod,
  asOf: string,
  rows: readonly Row[],
  used: ReadonlySet<string>,
): Map<string, Row[]> => {
  const files = new Map<string, Row[]>();
  const prefix = batchFilePrefix(method, asOf);
  const free = (name: (n: number) => string, from: number): number => {
    let n = from;
    while (used.has(name(n))) n += 1;
    return n;
  };
  if (method === 'csv') {
    const name = (n: number) => (n === 1 ? `${prefix}.csv` : `${prefix}-${n}.csv`);
    if (rows.length > 0) files.set(name(free(name, 1)), [...rows]);
    return files;
  }
  const limit = BATCH_FILE_LIMITS[method];
  const currencies = [...new Set(rows.map((row) => row.payout.currency))].sort();
  for (const currency of currencies) {
    const ofCurrency = rows.filter((row) => row.payout.currency === currency);
    const name = (n: number) => `${prefix}${currency}-${n}.csv`;
    for (let start = 0, n = free(name, 1); start < ofCurrency.length; start += limit, n = free(name, n + 1))
      files.set(name(n), ofCurrency.slice(start, start + limit));
  }
  return files;
};

/**
 * The files earlier runs of the same method and date recorded (the payouts' external references name them),
 * and of those, the ones to write again: every payout in them still open, and their payees still usable.
 * Their rows are in the order a run writes them (by partner, then currency), so the text is the same.
 */
const earlierFiles = (
  facts: PayoutFacts,
  method: PayoutBatchMethod,
  asOf: string,
): { used: Set<string>; reopened: Map<string, Row[]>; skipped: SkippedPayout[] } => {
  const reference = `batch:${batchFilePrefix(method, asOf)}`;
  const byFile = new Map<string, BookedPayout[]>();
  for (const payoutId of facts.payoutIds) {
    const payout = facts.book.payout(payoutId);
    if (payout?.method !== LEDGER_METHOD[method] || payout.externalReference?.startsWith(reference) !== true)
      continue;
    const name = payout.externalReference.slice('batch:'.length);
    byFile.set(name, [...(byFile.get(name) ?? []), payout]);
  }
  const reopened = new Map<string, Row[]>();
  const skipped: SkippedPayout[] = [];
  for (const [name, payouts] of byFile) {
    if (payouts.some((payout) => payout.confirmed !== null || payout.failed !== null)) continue;
    const rows: Row[] = [];
    for (const payout of payouts) {
      const record = facts.payees.get(payout.partnerId);
      const problem =
        payeeProblem(record) ??
        (record?.payee === undefined ? undefined : payeeUnusable(method, record.payee));
      if (problem !== undefined || record?.payee === undefined)
        skipped.push({
          partnerId: payout.partnerId,
          currency: payout.currency,
          payable: payout.amount,
          reason: `payout ${payout.payoutId} is recorded in ${name}, which cannot be written again: ${problem ?? 'no payee details'}`,
        });
      else {
        const { payoutId, partnerId, currency, amount } = payout;
        rows.push({
          payout: { payoutId, partnerId, currency, amount, payable: amount },
          payee: record.payee,
        });
      }
    }
    if (rows.length === payouts.length)
      reopened.set(
        name,
        rows.sort(
          (a, b) =>
            compare(a.payout.partnerId, b.payout.partnerId) || compare(a.payout.currency, b.payout.currency),
        ),
      );
  }
  return { used: new Set(byFile.keys()), reopened, skipped };
};

/** The order of `Array.prototype.sort` without a comparator (UTF-16 code units), as the run sorts partners. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A file's text: PayPal's without a header row, Wise's with its template's header, the generic CSV with one. */
const render = (method: PayoutBatchMethod, rows: readonly Row[], options: PreparePayoutsOptions): string => {
  const header = method === 'wise' ? csvRecord(WISE_HEADER) : method === 'csv' ? csvRecord(CSV_HEADER) : '';
  return header + fileRows(method, rows, options).join('');
};

/**
 * Prepares a payout run: every partner whose payable balance in a currency at `asOf` reaches the minimum is
 * paid what the method can send of it (PayPal sends HUF, JPY and TWD in whole units: the fraction stays
 * payable), through the ledger's `issuePayout` (PayoutIssued, with the batch file's name as its external
 * reference), and written to the provider's batch files. Preparing again pays nothing twice: what a run
 * issued is no longer payable. A run of the same method and as-of date writes again the files of an earlier
 * one whose payouts are all still open (byte for byte: a crash between recording and writing loses no file),
 * and numbers its new files after the ones recorded. Partners whose payee details are missing, erased, sealed or for another
 * method are skipped with the reason. Left only when the run cannot start.
 */
export const preparePayouts =
  (options: PreparePayoutsOptions): TE.TaskEither<PayoutsError, PreparedBatch> =>
  async () => {
    const { method, asOf } = options;
    for (const [currency, amount] of Object.entries(options.minimums ?? {}))
      if (!isCurrencyCode(currency) || !/^[0-9]+(\.[0-9]+)?$/.test(amount))
        return E.left({
          code: 'INVALID_OPTION',
          message: `minimums: expected an amount for an ISO 4217 currency, got ${JSON.stringify(amount)} for ${JSON.stringify(currency)}`,
        });
    // PayPal's note "supports up to 4000 ASCII characters and 1000 non-ASCII characters".
    const note = options.note;
    if (note !== undefined && (/[^\x20-\x7e]/.test(note) ? [...note].length > 1000 : note.length > 4000))
      return E.left({
        code: 'INVALID_OPTION',
        message: `note: PayPal takes at most 4000 ASCII or 1000 other characters, got ${[...note].length}`,
      });
    const facts = await readPayoutFacts(options.store);
    const program = facts.program;
    if (program === undefined)
      return E.left({
        code: 'PROGRAM_NOT_CONFIGURED',
        message: 'The ledger holds no program settings (ProgramConfigured): run `partner-ledger init` first',
      });
    const minimumOf = (currency: string): LedgerDecimal | undefined => {
      const given = options.minimums?.[currency];
      if (given !== undefined) return new LedgerDecimal(given);
      return currency === program.currency ? new LedgerDecimal(program.minimumPayout) : undefined;
    };
    const skipped: SkippedPayout[] = [];
    const rows: Row[] = [];
    let belowMinimum = 0;
    for (const partnerId of [...facts.book.partners()].sort()) {
      for (const currency of facts.book.currencies(partnerId)) {
        if (!isCurrencyCode(currency)) continue;
        const payable = facts.book.payable(partnerId, currency, asOf);
        // Not isPositive(): decimal.js counts zero as positive, and a partner paid all it had is not waiting.
        if (payable.lte(0)) continue;
        const amount = sendableAmount(method, currency, payable);
        const minimum = minimumOf(currency);
        if (amount.lte(0) || (minimum !== undefined && amount.lt(minimum))) {
          belowMinimum += 1;
          continue;
        }
        const payableText = formatAmount(payable, currency);
        const record = facts.payees.get(partnerId);
        const problem =
          payeeProblem(record) ??
          (record?.payee === undefined ? undefined : payeeUnusable(method, record.payee));
        if (problem !== undefined || record?.payee === undefined) {
          skipped.push({ partnerId, currency, payable: payableText, reason: problem ?? 'no payee details' });
          continue;
        }
        const payoutId = payoutIdOf(method, asOf, partnerId, currency, facts.book.revision(partnerId));
        rows.push({
          payout: {
            payoutId,
            partnerId,
            currency,
            amount: formatAmount(amount, currency),
            payable: payableText,
          },
          payee: record.payee,
        });
      }
    }
    // Files are planned first (their names go into each payout's external reference); each holds in the
    // end only the payouts the ledger issued.
    const earlier = earlierFiles(facts, method, asOf);
    skipped.push(...earlier.skipped);
    const planned = plannedFiles(method, asOf, rows, earlier.used);
    const reopenedFiles = [...earlier.reopened].map(([name, ofFile]) => ({
      name,
      rows: ofFile.length,
      content: render(method, ofFile, options),
    }));
    if (options.beforeRecording !== undefined) {
      const allowed = await options.beforeRecording([
        ...reopenedFiles,
        ...[...planned].map(([name, ofFile]) => ({
          name,
          rows: ofFile.length,
          content: render(method, ofFile, options),
        })),
      ]);
      if (E.isLeft(allowed)) return allowed;
    }
    const issued = new Set<string>();
    const prepared: PreparedPayout[] = [];
    for (const [file, ofFile] of planned)
      for (const { payout } of ofFile) {
        const outcome = await options.ledger.issuePayout({
          payoutId: payout.payoutId,
          partnerId: payout.partnerId,
          amount: payout.amount,
          currency: payout.currency as CurrencyCode,
          method: LEDGER_METHOD[method],
          externalReference: `batch:${file}`,
          occurredAt: asOf,
        })();
        const reason = E.isLeft(outcome)
          ? `refused by the ledger: ${outcome.left.code}: ${outcome.left.message}`
          : outcome.right.alreadyRecorded
            ? `already prepared as payout ${payout.payoutId} by another run`
            : undefined;
        if (reason === undefined) {
          issued.add(payout.payoutId);
          prepared.push({ ...payout, file });
        } else
          skipped.push({
            partnerId: payout.partnerId,
            currency: payout.currency,
            payable: payout.payable,
            reason,
          });
      }
    const files: BatchFile[] = [...reopenedFiles];
    for (const [name, ofFile] of planned) {
      const kept = ofFile.filter((row) => issued.has(row.payout.payoutId));
      if (kept.length > 0) files.push({ name, rows: kept.length, content: render(method, kept, options) });
    }
    return E.right({
      method,
      asOf,
      payouts: prepared,
      skipped,
      belowMinimum,
      reopened: [...earlier.reopened].flatMap(([file, ofFile]) =>
        ofFile.map(({ payout: { payable: _payable, ...payout } }) => ({ ...payout, file })),
      ),
      files,
    });
  };
