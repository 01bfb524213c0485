import * as E from 'fp-ts/Either';
import { decodeEvent, formatProblems, toMinorUnits } from '@partner-ledger/events';
import type { CurrencyCode, LedgerEvent, RecordedEvent } from '@partner-ledger/events';
import { commissionBalances, createSession } from '@partner-ledger/projections';
import { eachEvent } from '@partner-ledger/store';
import type { EventStore } from '@partner-ledger/store';

/** The invariants verify checks, by the names its messages use (docs/auditing.md explains each). */
export type InvariantRule =
  | 'decodes'
  | 'creditsSumToAmount'
  | 'reversalWithinConversion'
  | 'linesSumToAccruedMinusReversed'
  | 'payoutWithinPayable'
  | 'postingsBalance';

/** An invariant the history breaks, with the event where it first shows. */
export interface InvariantProblem {
  readonly rule: InvariantRule;
  readonly position: number;
  readonly eventId: string;
  readonly stream: string;
  readonly message: string;
}

interface LineState {
  readonly partnerId: string;
  readonly currency: CurrencyCode;
  readonly amount: bigint;
  readonly payableAt: string;
  reversed: bigint;
  settled: bigint;
  held: boolean;
  rejected: boolean;
}

interface ConversionState {
  readonly currency: CurrencyCode;
  readonly amount: bigint;
  reversed: bigint;
}

/** The problem of a rule at an event (built only when there is one). */
const problemAt = (raw: RecordedEvent, rule: InvariantRule, message: string): InvariantProblem => ({
  rule,
  position: raw.position,
  eventId: raw.id,
  stream: raw.stream,
  message: `${rule}: ${message}`,
});

const minor = (amount: string, currency: CurrencyCode): bigint => toMinorUnits(amount, currency);

/**
 * Replays the history once and checks, event by event, the invariants of docs/auditing.md that can be
 * told from the events themselves, independently of the projections:
 * - every event decodes against the catalogue (a known type, valid fields, amounts within their currency);
 * - the revenue credits of each conversion, and of each reversal, sum exactly to its amount;
 * - a conversion is never reversed by more than its amount;
 * - per partner, commission lines sum to accrued minus reversed: each reversed line exists, belongs to the
 *   same partner and currency, and is never reversed by more than it earned;
 * - no payout exceeded the balance payable at its time: its amount is the sum of what it settles, and each
 *   commission line it settles was the partner's, released from any hold, payable by the payout's time, and
 *   not settled beyond what is left of it (a failed payout returns its lines to payable);
 * - the double-entry postings of the balances projection (commission expense, partner payable, cash) sum to
 *   zero per currency (the trial balance), checked at the end of the same pass.
 * Memory grows with conversions and commission lines, not with clicks and other events.
 */
export const checkInvariants = async (
  store: EventStore,
  options: { readonly upToPosition?: number; readonly onProgress?: (eventsDone: number) => void } = {},
): Promise<InvariantProblem | null> => {
  const conversions = new Map<string, ConversionState>();
  const lines = new Map<string, LineState>();
  const payouts = new Map<string, Array<{ lineId: string; amount: bigint }>>();
  const postings = createSession({ balances: commissionBalances() });
  let last: RecordedEvent | undefined;
  let done = 0;
  /** The first invariant the event breaks, or null; `last` is the event when it decodes. */
  const check = (raw: RecordedEvent): InvariantProblem | null => {
    const decoded = decodeEvent(raw);
    if (E.isLeft(decoded))
      return problemAt(raw, 'decodes', formatProblems(decoded.left).replace(/\n/g, '; '));
    const event: LedgerEvent = decoded.right;
    postings.handle(raw, event);
    last = raw;
    switch (event.type) {
      case 'ConversionAttributed': {
        const d = event.data;
        const amount = minor(d.amount, d.currency);
        if (d.credits.length > 0) {
          const credited = d.credits.reduce((sum, c) => sum + minor(c.revenueCredit, d.currency), 0n);
          if (credited !== amount)
            return problemAt(
              raw,
              'creditsSumToAmount',
              `the credits of conversion ${JSON.stringify(d.conversionId)} sum to ${credited} minor units of ${d.currency}, not to its amount ${amount}`,
            );
        }
        if (!conversions.has(d.conversionId))
          conversions.set(d.conversionId, { currency: d.currency, amount, reversed: 0n });
        for (const line of d.commissions) {
          lines.set(line.lineId, {
            partnerId: line.partnerId,
            currency: line.currency,
            amount: minor(line.amount, line.currency),
            payableAt: line.payableAt,
            reversed: 0n,
            settled: 0n,
            held: line.status === 'held',
            rejected: false,
          });
        }
        break;
      }
      case 'ConversionReversed': {
        const d = event.data;
        const conversion = conversions.get(d.conversionId);
        if (conversion === undefined)
          return problemAt(
            raw,
            'reversalWithinConversion',
            `reverses conversion ${JSON.stringify(d.conversionId)}, which is not in the ledger before it`,
          );
        const amount = minor(d.amount, d.currency);
        conversion.reversed += amount;
        if (conversion.reversed > conversion.amount)
          return problemAt(
            raw,
            'reversalWithinConversion',
            `conversion ${JSON.stringify(d.conversionId)} is reversed by ${conversion.reversed} minor units in all, more than its amount ${conversion.amount}`,
          );
        if (d.credits.length > 0) {
          const credited = d.credits.reduce((sum, c) => sum + minor(c.revenueCredit, d.currency), 0n);
          if (credited !== amount)
            return problemAt(
              raw,
              'creditsSumToAmount',
              `the reversed credits of ${JSON.stringify(d.reversalId)} sum to ${credited} minor units of ${d.currency}, not to its amount ${amount}`,
            );
        }
        for (const reversed of d.lines) {
          const line = lines.get(reversed.lineId);
          if (
            line === undefined ||
            line.partnerId !== reversed.partnerId ||
            line.currency !== reversed.currency
          )
            return problemAt(
              raw,
              'linesSumToAccruedMinusReversed',
              `reverses commission line ${JSON.stringify(reversed.lineId)} of partner ${JSON.stringify(reversed.partnerId)} in ${reversed.currency}, which no conversion accrued`,
            );
          line.reversed += minor(reversed.amount, line.currency);
          if (line.reversed > line.amount)
            return problemAt(
              raw,
              'linesSumToAccruedMinusReversed',
              `commission line ${JSON.stringify(reversed.lineId)} is reversed by ${line.reversed} minor units in all, more than the ${line.amount} it accrued`,
            );
        }
        break;
      }
      case 'CommissionHeld':
      case 'CommissionReleased':
      case 'CommissionRejected': {
        const line = lines.get(event.data.lineId);
        if (line === undefined) break;
        if (event.type === 'CommissionHeld') line.held = true;
        else if (event.type === 'CommissionReleased') line.held = false;
        else line.rejected = true;
        break;
      }
      case 'PayoutIssued': {
        const d = event.data;
        const total = d.settles.reduce((sum, s) => sum + minor(s.amount, d.currency), 0n);
        if (total !== minor(d.amount, d.currency))
          return problemAt(
            raw,
            'payoutWithinPayable',
            `payout ${JSON.stringify(d.payoutId)} of ${d.amount} ${d.currency} settles items that sum to ${total} minor units, not to its amount`,
          );
        const settled: Array<{ lineId: string; amount: bigint }> = [];
        for (const item of d.settles) {
          if (item.kind !== 'commission') continue;
          const line = lines.get(item.id);
          const amount = minor(item.amount, d.currency);
          const why =
            line === undefined
              ? 'which no conversion accrued'
              : line.partnerId !== d.partnerId
                ? `which belongs to partner ${JSON.stringify(line.partnerId)}`
                : line.currency !== d.currency
                  ? `which is in ${line.currency}`
                  : line.held
                    ? 'which is on hold'
                    : line.rejected
                      ? 'which was rejected'
                      : line.payableAt > event.occurredAt
                        ? `which is not payable before ${line.payableAt}`
                        : line.settled + amount > line.amount - line.reversed
                          ? `of which only ${line.amount - line.reversed - line.settled} minor units were left to pay`
                          : null;
          if (why !== null)
            return problemAt(
              raw,
              'payoutWithinPayable',
              `payout ${JSON.stringify(d.payoutId)} settles ${item.amount} ${d.currency} of commission line ${JSON.stringify(item.id)}, ${why}`,
            );
          line!.settled += amount;
          settled.push({ lineId: item.id, amount });
        }
        payouts.set(d.payoutId, settled);
        break;
      }
      case 'PayoutFailed': {
        for (const { lineId, amount } of payouts.get(event.data.payoutId) ?? []) {
          const line = lines.get(lineId);
          if (line !== undefined) line.settled -= amount;
        }
        payouts.delete(event.data.payoutId);
        break;
      }
      default:
        break;
    }
    return null;
  };
  // Typed wide: TypeScript cannot see the callback below assign it.
  let found = null as InvariantProblem | null;
  // A page at a time when the store offers pages (the file store does): a promise per event cost about as
  // much as the checks themselves on a log of small clicks.
  await eachEvent(
    store,
    options.upToPosition === undefined ? {} : { asKnownAt: { position: options.upToPosition } },
    (raw) => {
      done += 1;
      if (done % 5_000 === 0) options.onProgress?.(done);
      found = check(raw);
      return found === null;
    },
  );
  if (found !== null) return found;
  options.onProgress?.(done);
  for (const [currency, trial] of Object.entries(postings.results().balances.trialBalance).sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    if (last !== undefined && trial.debits !== trial.credits)
      return {
        rule: 'postingsBalance',
        position: last.position,
        eventId: last.id,
        stream: last.stream,
        message: `postingsBalance: the double-entry postings in ${currency} do not balance after the last event: debits ${trial.debits}, credits ${trial.credits}`,
      };
  }
  return null;
};
