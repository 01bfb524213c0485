import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import { LedgerDecimal } from '@partner-ledger/events';
import type { Ledger } from '@partner-ledger/ledger';
import type { EventStore } from '@partner-ledger/store';
import { parseProviderDocument, providerDocumentNotes } from './provider-documents';
import { AMBIGUOUS_REFERENCE, readPayoutFacts } from './read';
import { parseResultFile } from './results';
import type { PayoutResultLine, PayoutResultStatus, ResultFileProblem } from './results';

/** What `reconcilePayouts` needs: the ledger that records the results, its store, and the results' text. */
export interface ReconcilePayoutsOptions {
  readonly ledger: Pick<Ledger, 'confirmPayout' | 'recordPayoutFailure'>;
  readonly store: EventStore;
  /**
   * The results: a result file (CSV, see `parseResultFile`) or a provider's JSON document (see
   * `parseResults`).
   */
  readonly text: string;
  /** The ledger's clock: a result's date may not be later. Default: the system clock. */
  readonly now?: () => Date;
}

/** A result whose status is not final yet: read, listed, nothing recorded. */
export interface PendingResult {
  readonly where: string;
  /** Undefined when a Wise webhook names a transfer no confirmed payout carries yet. */
  readonly payoutId: string | undefined;
  readonly status: string;
}

/** What a reconciliation recorded. */
export interface ReconcileSummary {
  readonly confirmed: number;
  readonly failed: number;
  readonly returned: number;
  /** Results the ledger already holds (a file read again, a status repeated). */
  readonly alreadyRecorded: number;
  /** Results with a status that is not final yet. */
  readonly pending: number;
  /** Those results, each with where it is and its status. */
  readonly pendingResults: readonly PendingResult[];
  /** What to know beyond the results (a PayPal batch page with more pages). */
  readonly notes: readonly string[];
}

const isJson = (text: string): boolean => /^\uFEFF?\s*[[{]/.test(text);

/**
 * Reads results: a provider's JSON document when the text is JSON (it starts with `{` or `[`), otherwise a
 * result file (CSV with a header row).
 */
export const parseResults = (text: string): E.Either<ResultFileProblem[], PayoutResultLine[]> =>
  isJson(text) ? parseProviderDocument(text.replace(/^\uFEFF/, '')) : parseResultFile(text);

interface Known {
  confirmed: boolean;
  failed: boolean;
}

interface Planned {
  readonly result: PayoutResultLine;
  readonly payoutId: string;
  readonly partnerId: string;
  /** What is recorded: a failure after a confirmation is a return. */
  readonly outcome: PayoutResultStatus;
  readonly record: boolean;
}

/**
 * Records a provider's results: a paid payout is confirmed (PayoutConfirmed), a failed or returned one fails
 * (PayoutFailed, reason prefixed `returned: ` for a return, or for a failure reported after the payout was
 * confirmed), which makes its amount payable again. Every result is checked first, against the document and
 * the ledger: a bad one (unknown payout, unknown status, bad date, an amount or currency other than the
 * payout's, a payout that failed reported paid) is a Left naming it, and nothing is recorded. Idempotent: a
 * result the ledger holds records nothing, so a file may be read again, and a later one (Wise returns
 * transfers weeks after) may repeat earlier results.
 */
export const reconcilePayouts =
  (options: ReconcilePayoutsOptions): TE.TaskEither<ResultFileProblem[], ReconcileSummary> =>
  async () => {
    const parsed = parseResults(options.text);
    if (E.isLeft(parsed)) return parsed;
    const facts = await readPayoutFacts(options.store);
    const now = (options.now ?? (() => new Date()))().toISOString();
    const problems: ResultFileProblem[] = [];
    const known = new Map<string, Known>();
    const plan: Planned[] = [];
    const pendingResults: PendingResult[] = [];
    for (const result of parsed.right) {
      const { where } = result;
      // A Wise file or transfer names the payout by its reference (`wiseReferenceOf`), or by its id.
      const named = result.payoutId;
      const byReference =
        named === undefined || facts.book.payout(named) !== undefined
          ? undefined
          : facts.wiseReferences.get(named.toUpperCase());
      if (byReference === AMBIGUOUS_REFERENCE) {
        problems.push({
          where,
          field: 'reference',
          message: `${named} is the Wise reference of two payouts: reconcile them by payout id`,
        });
        continue;
      }
      const payoutId =
        byReference ??
        named ??
        (result.wiseTransferId === undefined ? undefined : facts.wiseTransfers.get(result.wiseTransferId));
      if (result.status === undefined) {
        pendingResults.push({ where, payoutId, status: result.providerStatus });
        if (payoutId === undefined || facts.book.payout(payoutId) !== undefined) continue;
      }
      if (payoutId === undefined) {
        problems.push({
          where,
          field: 'data.resource.id',
          message: `no payout was confirmed with Wise transfer ${result.wiseTransferId ?? '?'}: reconcile the transfer itself (GET /v1/transfers/${result.wiseTransferId ?? '{id}'}), whose reference names the payout`,
        });
        continue;
      }
      const payout = facts.book.payout(payoutId);
      if (payout === undefined) {
        problems.push({
          where,
          field: 'payoutId',
          message: `no payout ${JSON.stringify(payoutId)} was prepared`,
        });
        continue;
      }
      if (result.status === undefined) continue;
      if (result.amount !== undefined) {
        if (result.amount.currency.toUpperCase() !== payout.currency)
          problems.push({
            where,
            field: 'currency',
            message: `${result.amount.currency} is not the currency of payout ${payoutId} (${payout.currency})`,
          });
        else if (
          !/^-?[0-9]+(\.[0-9]+)?$/.test(result.amount.value) ||
          !new LedgerDecimal(result.amount.value).eq(payout.amount)
        )
          problems.push({
            where,
            field: 'amount',
            message: `${result.amount.value} ${result.amount.currency} is not the amount of payout ${payoutId} (${payout.amount} ${payout.currency})`,
          });
      }
      // A day without a time (PayPal's report gives one) says "some time that day": on the day the payout
      // was issued, that time was after the issue, so the result is dated when the payout was issued rather
      // than refused for preceding it.
      const at =
        result.dayOnly === true &&
        result.at !== undefined &&
        result.at < payout.issuedAt &&
        payout.issuedAt.slice(0, 10) === result.at.slice(0, 10)
          ? payout.issuedAt
          : result.at;
      if (at !== undefined && at > now) {
        problems.push({ where, field: 'date', message: `${at} is in the future` });
        continue;
      }
      if (at !== undefined && at < payout.issuedAt) {
        problems.push({
          where,
          field: 'date',
          message: `${at} is before payout ${payoutId} was issued (${payout.issuedAt})`,
        });
        continue;
      }
      const state = known.get(payoutId) ?? {
        confirmed: payout.confirmed !== null,
        failed: payout.failed !== null,
      };
      known.set(payoutId, state);
      let record: boolean;
      let outcome: PayoutResultStatus = result.status;
      if (result.status === 'paid') {
        if (!state.confirmed && state.failed)
          problems.push({
            where,
            field: 'status',
            message: `payout ${payoutId} failed before it was paid (${payout.failed?.reason ?? 'in this file'}): it cannot be confirmed`,
          });
        record = !state.confirmed && !state.failed;
        state.confirmed = true;
      } else {
        // Wise cancels a transfer after it bounced back: once paid, any failure is a return.
        if (state.confirmed) outcome = 'returned';
        record = !state.failed;
        state.failed = true;
      }
      plan.push({ result: { ...result, at }, payoutId, partnerId: payout.partnerId, outcome, record });
    }
    if (problems.length > 0) return E.left(problems);
    const summary = { confirmed: 0, failed: 0, returned: 0, alreadyRecorded: 0 };
    for (const { result, payoutId, partnerId, outcome, record } of plan) {
      if (!record) {
        summary.alreadyRecorded += 1;
        continue;
      }
      const when = result.at === undefined ? {} : { occurredAt: result.at };
      const recorded =
        outcome === 'paid'
          ? await options.ledger.confirmPayout({
              payoutId,
              partnerId,
              providerReference: result.providerReference ?? null,
              ...when,
            })()
          : await options.ledger.recordPayoutFailure({
              payoutId,
              partnerId,
              reason: `${outcome}: ${result.reason ?? 'no reason given'}`,
              ...when,
            })();
      // Checked above against the same state: a refusal here is another writer's, met halfway through.
      if (E.isLeft(recorded))
        return E.left([
          {
            where: result.where,
            field: 'status',
            message: `refused by the ledger: ${recorded.left.code}: ${recorded.left.message}`,
          },
        ]);
      if (recorded.right.alreadyRecorded) summary.alreadyRecorded += 1;
      else if (outcome === 'paid') summary.confirmed += 1;
      else if (outcome === 'failed') summary.failed += 1;
      else summary.returned += 1;
    }
    return E.right({
      ...summary,
      pending: pendingResults.length,
      pendingResults,
      notes: isJson(options.text) ? providerDocumentNotes(options.text.replace(/^\uFEFF/, '')) : [],
    });
  };
