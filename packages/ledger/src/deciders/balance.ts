import * as E from 'fp-ts/Either';
import { LedgerDecimal, formatAmount } from '@partner-ledger/events';
import type { CurrencyCode, EventData } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor, streams } from '../naming';
import { reject } from '../rejection';
import type { Resolved } from './common';
import { sameJson, sameTime } from './common';

// A partner's balance: every commission line it earned (from the conversion streams), every adjustment and
// payout (from its own `balance-<id>` stream). Payouts, adjustments and payout failures are decided on the
// balance stream with its expected revision, so two payouts for one partner can never both spend the same
// payable balance: the second one's append fails, it is decided again on the new state, and refused.

/** The refusal of a command naming a payout the partner was never issued (confirmation and failure alike). */
const payoutNotFound = (command: { readonly payoutId: string; readonly partnerId: string }) =>
  reject(
    'PAYOUT_NOT_FOUND',
    `No payout ${JSON.stringify(command.payoutId)} was issued to partner ${JSON.stringify(command.partnerId)}`,
    { field: 'payoutId' },
  );

/**
 * A confirmation or failure dated before the payout was issued: replayed as of a moment in between, the
 * history would hold the effect without its cause (a failure returning to payable what no payout had settled
 * yet shows as a negative amount paid). A return dated before the confirmation is allowed: a confirmation
 * often carries only the time it was reconciled, and the provider's return its own earlier time.
 */
const beforePayout = (
  command: { readonly payoutId: string; readonly at: string },
  what: string,
  earlier: string,
  earlierAt: string,
) =>
  reject(
    'OCCURRED_BEFORE_SUBJECT',
    `Payout ${JSON.stringify(command.payoutId)} cannot be ${what} at ${command.at}: it was ${earlier} at ${earlierAt}`,
    { field: 'occurredAt' },
  );

export type LineStatus = 'pending' | 'held' | 'rejected';

export interface BalanceLine {
  readonly lineId: string;
  readonly conversionId: string;
  readonly currency: CurrencyCode;
  /** Accrued at the conversion. */
  readonly amount: string;
  /** Taken back by reversals so far. */
  readonly reversed: string;
  /** Paid by payouts that did not fail (negative when a clawback was recovered). */
  readonly settled: string;
  readonly payableAt: string;
  readonly status: LineStatus;
  /** Recording order, to tell apart lines that became payable at the same time. */
  readonly seq: number;
}

export interface BalanceAdjustment {
  readonly data: EventData<'ManualAdjustmentRecorded'>;
  readonly at: string;
  readonly eventId: string;
  readonly settled: string;
  readonly seq: number;
}

export interface BalancePayout {
  readonly data: EventData<'PayoutIssued'>;
  readonly at: string;
  readonly eventId: string;
  readonly failure: { readonly eventId: string; readonly reason: string; readonly at: string } | null;
  /** Set when the provider confirmed the payout (a later failure is a return). */
  readonly confirmation: {
    readonly eventId: string;
    readonly providerReference: string | null;
    readonly at: string;
  } | null;
}

export interface BalanceState {
  readonly partnerId: string;
  /** The revision of `balance-<partnerId>`: the expected revision of the next payout or adjustment. */
  readonly revision: number;
  readonly seq: number;
  readonly lines: Readonly<Record<string, BalanceLine>>;
  /**
   * The ids of the lines that still owe something (or are owed back): not rejected, outstanding not zero.
   * A payout reads only these: settled lines stay in `lines` for good, and a long-running partner's payouts
   * would otherwise walk its whole history.
   */
  readonly owed: Readonly<Record<string, true>>;
  readonly adjustments: Readonly<Record<string, BalanceAdjustment>>;
  readonly payouts: Readonly<Record<string, BalancePayout>>;
}

export const initialBalanceState = (partnerId: string): BalanceState => ({
  partnerId,
  revision: -1,
  seq: 0,
  lines: {},
  owed: {},
  adjustments: {},
  payouts: {},
});

const dec = (value: string | LedgerDecimal): LedgerDecimal => new LedgerDecimal(value);
const plus = (a: string, b: string | LedgerDecimal): string => dec(a).plus(b).toFixed();

// A payout reads what every line of the partner still owes: three decimals and two subtractions a line, again
// and again for lines that have not changed. The last figure of each line object is kept with the strings it
// was computed from (the view changes its lines in place, so those are compared on every use).
const outstandingOf = new WeakMap<
  BalanceLine,
  { amount: string; reversed: string; settled: string; value: LedgerDecimal }
>();

/** What a line still owes the partner (negative: what the partner owes back after a clawback). */
export const lineOutstanding = (line: BalanceLine): LedgerDecimal => {
  if (line.status === 'rejected') return new LedgerDecimal(0);
  const known = outstandingOf.get(line);
  if (
    known !== undefined &&
    known.amount === line.amount &&
    known.reversed === line.reversed &&
    known.settled === line.settled
  )
    return known.value;
  const value =
    line.reversed === '0' && line.settled === '0'
      ? dec(line.amount)
      : dec(line.amount).minus(line.reversed).minus(line.settled);
  outstandingOf.set(line, { amount: line.amount, reversed: line.reversed, settled: line.settled, value });
  return value;
};

const lineIsPayable = (line: BalanceLine, at: string): boolean =>
  line.status === 'pending' && line.payableAt <= at;

/** An item a payout can settle: a payable line or an adjustment, with what is still outstanding on it. */
export interface SettleableItem {
  readonly kind: 'commission' | 'adjustment';
  readonly id: string;
  readonly outstanding: LedgerDecimal;
  /** When it became payable: the line's payableAt, the adjustment's time. */
  readonly since: string;
  readonly seq: number;
}

/** Oldest first: by when the item became payable, then in recording order. */
const olderFirst = (a: SettleableItem, b: SettleableItem): number =>
  a.since < b.since ? -1 : a.since > b.since ? 1 : a.seq - b.seq;

/**
 * Everything payable in `currency` at `at`, oldest first. In one pass over the partner's lines and
 * adjustments (every payout reads them all, and a partner's history only grows): the items usually come
 * oldest first already (lines in recording order, payable after the same hold), and are sorted only when
 * one does not.
 */
export const payableItems = (state: BalanceState, currency: string, at: string): SettleableItem[] => {
  const items: SettleableItem[] = [];
  let ordered = true;
  const add = (item: SettleableItem): void => {
    if (item.outstanding.isZero()) return;
    if (ordered && items.length > 0 && olderFirst(items[items.length - 1]!, item) > 0) ordered = false;
    items.push(item);
  };
  // Only the owed lines: any other line's outstanding is zero, and `add` would skip it. Their order may
  // differ from recording order (a line owed again after a failed payout comes last): the sort puts it right.
  for (const lineId in state.owed) {
    const line = state.lines[lineId]!;
    if (line.currency === currency && lineIsPayable(line, at))
      add({
        kind: 'commission',
        id: line.lineId,
        outstanding: lineOutstanding(line),
        since: line.payableAt,
        seq: line.seq,
      });
  }
  for (const adjustmentId in state.adjustments) {
    const a = state.adjustments[adjustmentId]!;
    if (a.data.currency === currency && a.at <= at)
      add({
        kind: 'adjustment',
        id: a.data.adjustmentId,
        outstanding: dec(a.data.amount).minus(a.settled),
        since: a.at,
        seq: a.seq,
      });
  }
  return ordered ? items : items.sort(olderFirst);
};

/** The balance payable in `currency` at `at`: payable lines and adjustments, less what was paid (can be < 0). */
export const payableBalance = (state: BalanceState, currency: string, at: string): LedgerDecimal =>
  payableItems(state, currency, at).reduce((sum, item) => sum.plus(item.outstanding), new LedgerDecimal(0));

/**
 * Everything the partner has earned in `currency` and not been paid, whatever its state (pending, held,
 * payable): accrued less reversed and rejected, plus adjustments, less payouts that did not fail.
 */
export const totalBalance = (state: BalanceState, currency: string): LedgerDecimal => {
  let sum = new LedgerDecimal(0);
  for (const line of Object.values(state.lines))
    if (line.currency === currency) sum = sum.plus(lineOutstanding(line));
  for (const a of Object.values(state.adjustments))
    if (a.data.currency === currency) sum = sum.plus(a.data.amount).minus(a.settled);
  return sum;
};

/**
 * What a payout of `amount` settles: every clawback and negative adjustment first (later payouts recover
 * them first), then commissions and adjustments oldest first, the last one in part if need be. The settled
 * amounts sum to `amount`. Undefined when `amount` exceeds the payable balance.
 */
export const settle = (
  items: readonly SettleableItem[],
  amount: LedgerDecimal,
): { kind: 'commission' | 'adjustment' | 'reversal'; id: string; amount: LedgerDecimal }[] | undefined => {
  const negatives = items.filter((item) => item.outstanding.isNegative());
  const positives = items.filter((item) => item.outstanding.isPositive());
  let left = amount.minus(negatives.reduce((sum, item) => sum.plus(item.outstanding), new LedgerDecimal(0)));
  const taken: { kind: 'commission' | 'adjustment' | 'reversal'; id: string; amount: LedgerDecimal }[] =
    negatives.map((item) => ({
      kind: item.kind === 'commission' ? 'reversal' : 'adjustment',
      id: item.id,
      amount: item.outstanding,
    }));
  for (const item of positives) {
    if (left.isZero()) break;
    const part = LedgerDecimal.min(left, item.outstanding);
    taken.push({ kind: item.kind, id: item.id, amount: part });
    left = left.minus(part);
  }
  return left.isZero() ? taken : undefined;
};

export interface PayoutFacts {
  readonly partnerJoined: boolean;
  /** The program's minimum payout and its currency (the minimum applies to payouts in that currency). */
  readonly minimumPayout: { readonly amount: string; readonly currency: string };
}

export type BalanceCommand =
  | Resolved<'recordManualAdjustment', { readonly partnerJoined: boolean }>
  | Resolved<'issuePayout', PayoutFacts>
  | Resolved<'confirmPayout'>
  | Resolved<'recordPayoutFailure'>;

/** Keeps `owed` in step with a line that just changed (computed afresh: drafts are not cached). */
const track = (draft: { owed: Record<string, true> }, line: BalanceLine): void => {
  const owes =
    line.status !== 'rejected' &&
    !(
      line.reversed === '0' && line.settled === '0'
        ? dec(line.amount)
        : dec(line.amount).minus(line.reversed).minus(line.settled)
    ).isZero();
  if (owes) draft.owed[line.lineId] = true;
  else if (line.lineId in draft.owed) delete draft.owed[line.lineId];
};

const applySettles = (
  draft: {
    lines: Record<string, BalanceLine & { settled: string }>;
    owed: Record<string, true>;
    adjustments: Record<string, { settled: string }>;
  },
  settles: EventData<'PayoutIssued'>['settles'],
  sign: 1 | -1,
): void => {
  for (const item of settles) {
    if (item.kind === 'adjustment') {
      const target = draft.adjustments[item.id];
      if (target) target.settled = plus(target.settled, dec(item.amount).mul(sign));
    } else {
      const target = draft.lines[item.id];
      if (target) {
        target.settled = plus(target.settled, dec(item.amount).mul(sign));
        track(draft, target);
      }
    }
  }
};

export const balanceDecider: Decider<BalanceCommand, BalanceState> = {
  initialState: initialBalanceState(''),
  evolveDraft: (draft, event) => {
    const partnerId = draft.partnerId;
    if (event.stream === streams.balance(partnerId)) draft.revision = event.revision;
    switch (event.type) {
      case 'ConversionAttributed':
        for (const line of event.data.commissions) {
          if (line.partnerId !== partnerId) continue;
          draft.seq += 1;
          draft.lines[line.lineId] = {
            lineId: line.lineId,
            conversionId: event.data.conversionId,
            currency: line.currency,
            amount: line.amount,
            reversed: '0',
            settled: '0',
            payableAt: line.payableAt,
            status: line.status,
            seq: draft.seq,
          };
          track(draft, draft.lines[line.lineId]!);
        }
        break;
      case 'ConversionReversed':
        for (const line of event.data.lines) {
          const target = line.partnerId === partnerId ? draft.lines[line.lineId] : undefined;
          if (target) {
            target.reversed = plus(target.reversed, line.amount);
            track(draft, target);
          }
        }
        break;
      case 'CommissionHeld':
      case 'CommissionReleased':
      case 'CommissionRejected': {
        const target = event.data.partnerId === partnerId ? draft.lines[event.data.lineId] : undefined;
        if (target) {
          target.status =
            event.type === 'CommissionHeld'
              ? 'held'
              : event.type === 'CommissionReleased'
                ? 'pending'
                : 'rejected';
          track(draft, target);
        }
        break;
      }
      case 'ManualAdjustmentRecorded':
        if (event.data.partnerId !== partnerId) break;
        draft.seq += 1;
        draft.adjustments[event.data.adjustmentId] ??= {
          data: event.data,
          at: event.occurredAt,
          eventId: event.id,
          settled: '0',
          seq: draft.seq,
        };
        break;
      case 'PayoutIssued':
        if (event.data.partnerId !== partnerId || draft.payouts[event.data.payoutId]) break;
        draft.payouts[event.data.payoutId] = {
          data: event.data,
          at: event.occurredAt,
          eventId: event.id,
          failure: null,
          confirmation: null,
        };
        applySettles(draft, event.data.settles, 1);
        break;
      case 'PayoutConfirmed': {
        const payout = event.data.partnerId === partnerId ? draft.payouts[event.data.payoutId] : undefined;
        if (!payout || payout.confirmation) break;
        payout.confirmation = {
          eventId: event.id,
          providerReference: event.data.providerReference,
          at: event.occurredAt,
        };
        break;
      }
      case 'PayoutFailed': {
        const payout = event.data.partnerId === partnerId ? draft.payouts[event.data.payoutId] : undefined;
        if (!payout || payout.failure) break;
        payout.failure = { eventId: event.id, reason: event.data.reason, at: event.occurredAt };
        // A failed payout returns what it settled to payable.
        applySettles(draft, payout.data.settles, -1);
        break;
      }
      default:
        break;
    }
  },
  decide: (command, state) => {
    switch (command.command) {
      case 'recordManualAdjustment': {
        const data = {
          adjustmentId: command.adjustmentId,
          partnerId: command.partnerId,
          amount: command.amount,
          currency: command.currency,
          reason: command.reason,
        };
        const existing = state.adjustments[command.adjustmentId];
        if (existing !== undefined)
          return sameJson(existing.data, data) && sameTime(command, existing.at)
            ? E.right(alreadyRecorded(existing.eventId))
            : E.left(
                reject(
                  'IDEMPOTENCY_CONFLICT',
                  `Adjustment ${JSON.stringify(command.adjustmentId)} was recorded with other details`,
                  {
                    field: 'adjustmentId',
                  },
                ),
              );
        if (!command.facts.partnerJoined)
          return E.left(
            reject(
              'PARTNER_NOT_FOUND',
              `No partner ${JSON.stringify(command.partnerId)} has joined the program`,
              {
                field: 'partnerId',
              },
            ),
          );
        if (dec(command.amount).isZero())
          return E.left(
            reject('INVALID_COMMAND', 'An adjustment of zero changes nothing', { field: 'amount' }),
          );
        return E.right(
          append({
            id: eventIdFor('ManualAdjustmentRecorded', command.adjustmentId),
            type: 'ManualAdjustmentRecorded',
            data,
            occurredAt: command.at,
          }),
        );
      }
      case 'issuePayout': {
        const request = {
          partnerId: command.partnerId,
          amount: command.amount,
          currency: command.currency,
          method: command.method,
          externalReference: command.externalReference ?? null,
        };
        const existing = state.payouts[command.payoutId];
        if (existing !== undefined) {
          const first = {
            partnerId: existing.data.partnerId,
            amount: existing.data.amount,
            currency: existing.data.currency,
            method: existing.data.method,
            externalReference: existing.data.externalReference,
          };
          return sameJson(first, request) && sameTime(command, existing.at)
            ? E.right(alreadyRecorded(existing.eventId))
            : E.left(
                reject(
                  'IDEMPOTENCY_CONFLICT',
                  `Payout ${JSON.stringify(command.payoutId)} was issued with other details`,
                  {
                    field: 'payoutId',
                  },
                ),
              );
        }
        if (!command.facts.partnerJoined)
          return E.left(
            reject(
              'PARTNER_NOT_FOUND',
              `No partner ${JSON.stringify(command.partnerId)} has joined the program`,
              {
                field: 'partnerId',
              },
            ),
          );
        const amount = dec(command.amount);
        const minimum = command.facts.minimumPayout;
        if (amount.isZero() || (minimum.currency === command.currency && amount.lt(minimum.amount)))
          return E.left(
            reject(
              'PAYOUT_BELOW_MINIMUM',
              `A payout must be more than zero and at least the program minimum of ${minimum.amount} ${minimum.currency}, got ${command.amount} ${command.currency}`,
              { field: 'amount', rule: 'minimumPayout' },
            ),
          );
        const items = payableItems(state, command.currency, command.at);
        // settle stops at the first items that cover the amount, and finds none when the amount exceeds the
        // payable balance (it takes every item then): the balance is added up only for the refusal.
        const settles = settle(items, amount);
        if (settles === undefined) {
          const payable = items.reduce((sum, item) => sum.plus(item.outstanding), new LedgerDecimal(0));
          return E.left(
            reject(
              'PAYOUT_EXCEEDS_PAYABLE',
              `Partner ${JSON.stringify(command.partnerId)} has ${formatAmount(payable, command.currency)} ${command.currency} payable at ${command.at}; a payout of ${command.amount} exceeds it`,
              { field: 'amount', rule: 'payoutAtMostPayable' },
            ),
          );
        }
        return E.right(
          append({
            id: eventIdFor('PayoutIssued', command.payoutId),
            type: 'PayoutIssued',
            data: {
              payoutId: command.payoutId,
              ...request,
              settles: settles.map((item) => ({
                kind: item.kind,
                id: item.id,
                amount: formatAmount(item.amount, command.currency),
              })),
            },
            occurredAt: command.at,
          }),
        );
      }
      case 'confirmPayout': {
        const payout = state.payouts[command.payoutId];
        if (payout === undefined) return E.left(payoutNotFound(command));
        const providerReference = command.providerReference ?? null;
        if (payout.confirmation !== null)
          return payout.confirmation.providerReference === providerReference &&
            sameTime(command, payout.confirmation.at)
            ? E.right(alreadyRecorded(payout.confirmation.eventId))
            : E.left(
                reject(
                  'IDEMPOTENCY_CONFLICT',
                  `Payout ${JSON.stringify(command.payoutId)} was confirmed with another reference or time`,
                  { field: 'payoutId' },
                ),
              );
        if (payout.failure !== null)
          return E.left(
            reject(
              'PAYOUT_ALREADY_FAILED',
              `Payout ${JSON.stringify(command.payoutId)} failed (${payout.failure.reason}): its amount is payable again, so it cannot be confirmed as paid`,
              { field: 'payoutId' },
            ),
          );
        if (command.at < payout.at) return E.left(beforePayout(command, 'confirmed', 'issued', payout.at));
        return E.right(
          append({
            id: eventIdFor('PayoutConfirmed', command.payoutId),
            type: 'PayoutConfirmed',
            data: {
              payoutId: command.payoutId,
              partnerId: command.partnerId,
              amount: payout.data.amount,
              currency: payout.data.currency,
              providerReference,
            },
            occurredAt: command.at,
          }),
        );
      }
      case 'recordPayoutFailure': {
        const payout = state.payouts[command.payoutId];
        if (payout === undefined) return E.left(payoutNotFound(command));
        if (payout.failure !== null)
          return payout.failure.reason === command.reason && sameTime(command, payout.failure.at)
            ? E.right(alreadyRecorded(payout.failure.eventId))
            : E.left(
                reject(
                  'IDEMPOTENCY_CONFLICT',
                  `The failure of payout ${JSON.stringify(command.payoutId)} was recorded with another reason`,
                  {
                    field: 'payoutId',
                  },
                ),
              );
        if (command.at < payout.at) return E.left(beforePayout(command, 'failed', 'issued', payout.at));
        return E.right(
          append({
            id: eventIdFor('PayoutFailed', command.payoutId),
            type: 'PayoutFailed',
            data: {
              payoutId: command.payoutId,
              partnerId: command.partnerId,
              amount: payout.data.amount,
              currency: payout.data.currency,
              reason: command.reason,
            },
            occurredAt: command.at,
          }),
        );
      }
    }
  },
};
