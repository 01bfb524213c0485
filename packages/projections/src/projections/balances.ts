import type { LedgerEvent } from '@partner-ledger/events';
import { formatMinor, toMinor } from '../money';
import { instantOf, periodOf } from '../period';
import type { JsonValue } from '../runtime/json';
import { sortedEntries, sortedResult } from '../runtime/json';
import type { Projection, ResultContext } from '../runtime/projection';
import {
  emptyLines,
  linesForFigures,
  loadLines,
  packLine,
  packedFields,
  packedLine,
  saveLines,
  savedForm,
  storeLine,
  unpackLine,
} from './balance-lines';
import type { Lines, OpenLine } from './balance-lines';

/** One partner's commission account in one currency (minor units). */
interface Account {
  accrued: bigint;
  /** Reversals and rejections together; `rejected` is the part of it from rejected held lines. */
  reversed: bigint;
  rejected: bigint;
  /** Payouts issued minus payouts failed. */
  paid: bigint;
  payoutsFailed: bigint;
  adjustments: bigint;
  /** The partner-payable sub-account, from the postings: credits - debits is the balance owed. */
  payableDebit: bigint;
  payableCredit: bigint;
}

/** What a recent payout settled, line by line, so that a PayoutFailed can put it back. */
interface RecentPayout {
  readonly payoutId: string;
  readonly items: ReadonlyArray<readonly [lineId: string, amount: bigint]>;
}

/** A partner's recent payouts as saved: [payoutId, [[lineId, amount in minor units], ...]], oldest first. */
type SavedPayouts = Array<[string, Array<[string, string]>]>;

/** A partner's recent payouts, decoded from the checkpoint the first time they are needed. */
const recentPayoutsOf = (state: BalancesState, partnerId: string): RecentPayout[] | undefined => {
  const recent = state.recentPayouts.get(partnerId);
  if (recent !== undefined) return recent;
  const saved = state.savedPayouts.get(partnerId);
  if (saved === undefined) return undefined;
  const decoded = saved.map(([payoutId, items]) => ({
    payoutId,
    items: items.map(([lineId, amount]) => [lineId, BigInt(amount)] as const),
  }));
  state.savedPayouts.delete(partnerId);
  state.recentPayouts.set(partnerId, decoded);
  return decoded;
};

/** A failed payout restores its lines if it is among the partner's last few payouts (reported in time). */
const RECENT_PAYOUTS = 1;

/** Debits and credits of the three accounts behind the balances, in one currency. */
interface Postings {
  expenseDebit: bigint;
  expenseCredit: bigint;
  payableDebit: bigint;
  payableCredit: bigint;
  cashDebit: bigint;
  cashCredit: bigint;
}

/** The state of the commission balances projection (opaque: saved and loaded by checkpoints). */
export interface BalancesState {
  /** `${partnerId}\u0001${currency}`. */
  readonly accounts: Map<string, Account>;
  /**
   * Whether `accounts` holds its keys in sorted order (a state loaded from a checkpoint, which saves them
   * sorted, until an account sorting before the last one is added), and its last key: the result then reads
   * them in order without sorting them again.
   */
  accountsInOrder: boolean;
  lastAccountKey: string;
  /** The open lines (see Lines). */
  readonly lines: Lines;
  readonly postings: Map<string, Postings>;
  /** partnerId -> its last RECENT_PAYOUTS payouts, oldest first (read through recentPayoutsOf). */
  readonly recentPayouts: Map<string, RecentPayout[]>;
  /**
   * partnerId -> its recent payouts as a checkpoint saved them, not yet decoded: most partners have no payout
   * among the few events a resumed report reads, and decoding every partner's (tens of thousands of line ids
   * and amounts) cost more than the rest of the load. A partner is in one of the two maps, never both.
   */
  readonly savedPayouts: Map<string, SavedPayouts>;
  /** Lines rejected after review: a later reversal has nothing left to take back from them. */
  readonly rejectedLines: Set<string>;
  /** `${month}\u0001${kind}\u0001${currency}` -> what the reversals of that month and kind took back. */
  readonly reversalsByMonth: Map<string, ReversalSums>;
  /** The latest occurredAt among the events applied (where a checkpoint splits the lines: see Lines). */
  latestOccurredAt: string | null;
  /** The line figures the checkpoint this state was loaded from saved (see SavedFigures); null otherwise. */
  readonly savedFigures: SavedFigures | null;
}

/** Reversals of one month, kind and currency (minor units). */
export interface ReversalSums {
  /** Reversals recorded in the conversion's currency. */
  reversals: number;
  /** Revenue reversed (the reversals' amounts), in the conversion's currency. */
  amount: bigint;
  /** Commission taken back from the lines, in the lines' currency. */
  clawedBack: bigint;
}

/** The age buckets of `aging`, in whole days from the earning conversion to asOf. */
export const AGING_BUCKETS = ['0-30', '31-60', '61-90', '>90'] as const;
/** One of AGING_BUCKETS: an age range in whole days, such as `31-60`. */
export type AgingBucket = (typeof AGING_BUCKETS)[number];

/** Held and pending commission of one age bucket and currency. */
export interface AgingFigures {
  readonly pending: string;
  readonly pendingLines: number;
  readonly held: string;
  readonly heldLines: number;
}

/** What the reversals of one month, kind and currency took back. */
export interface ReversalFigures {
  /** Reversals of conversions in this currency. */
  readonly reversals: number;
  /** Revenue reversed, in this currency. */
  readonly amount: string;
  /** Commission taken back from the lines in this currency (lines already rejected excluded). */
  readonly clawedBack: string;
}

/**
 * A partner's commission balance in one currency: accrued, reversed, rejected, paid, adjustments, balance,
 * pending, held and payable.
 */
export interface PartnerBalance {
  /** Every commission line credited to the partner. */
  readonly accrued: string;
  /** Taken back by reversals (refund, chargeback, fraud) and by rejections of held lines. */
  readonly reversed: string;
  /** The part of `reversed` from held lines rejected after review. */
  readonly rejected: string;
  /** Paid out: payouts issued minus payouts failed. */
  readonly paid: string;
  /** Payouts that failed (their amount returned to the balance). */
  readonly payoutsFailed: string;
  /** Manual adjustments, signed. */
  readonly adjustments: string;
  /** accrued - reversed - paid + adjustments: what the vendor owes the partner (negative: the partner owes). */
  readonly balance: string;
  /** Of the balance: lines still in their hold period (payableAt > asOf), not held for review. */
  readonly pending: string;
  /** Of the balance: lines held for review. */
  readonly held: string;
  /** balance - pending - held: payable as of asOf. Negative when reversals after payment exceed it. */
  readonly payable: string;
  readonly negative: boolean;
}

/** The debits, credits and balance of one account of the double-entry postings. */
export interface AccountTotals {
  readonly debit: string;
  readonly credit: string;
  /** debit - credit. */
  readonly balance: string;
}

/**
 * The result of `commissionBalances`: each partner's balance per currency, the postings' accounts and the
 * trial balance.
 */
export interface CommissionBalancesResult {
  readonly asOf: string | null;
  /** partnerId -> currency -> balance. */
  readonly partners: Readonly<Record<string, Readonly<Record<string, PartnerBalance>>>>;
  /** currency -> the sum over partners, and how many partners have a negative balance. */
  readonly totals: Readonly<
    Record<string, PartnerBalance & { readonly partnersWithNegativeBalance: number }>
  >;
  /** currency -> the double-entry accounts. */
  readonly accounts: Readonly<
    Record<
      string,
      {
        readonly commissionExpense: AccountTotals;
        readonly partnerPayable: AccountTotals;
        readonly cash: AccountTotals;
      }
    >
  >;
  /** currency -> all debits, all credits, and their difference (always zero). */
  readonly trialBalance: Readonly<
    Record<string, { readonly debits: string; readonly credits: string; readonly difference: string }>
  >;
  /** Lines not yet fully paid, reversed or rejected. */
  readonly openLines: number;
  /**
   * partnerType -> currency -> the sum over the type's partners (their type as they joined; "unknown" for a
   * partner with no PartnerJoined), with how many partners have an account in that currency.
   */
  readonly byPartnerType: Readonly<
    Record<string, Readonly<Record<string, PartnerBalance & { readonly partners: number }>>>
  >;
  /**
   * currency -> age bucket -> the held and pending commission (as in `totals`) of lines whose conversion
   * occurred that many whole days before asOf. Empty without an asOf.
   */
  readonly aging: Readonly<Record<string, Readonly<Record<AgingBucket, AgingFigures>>>>;
  /** month (UTC, of the reversal's occurredAt) -> kind -> currency -> what the reversals took back. */
  readonly reversalsByMonth: Readonly<
    Record<string, Readonly<Record<string, Readonly<Record<string, ReversalFigures>>>>>
  >;
}

const SEP = '\u0001';
const DAY_MS = 86_400_000;

const accountOf = (state: BalancesState, partnerId: string, currency: string): Account => {
  const key = partnerId + SEP + currency;
  let account = state.accounts.get(key);
  if (account === undefined) {
    account = {
      accrued: 0n,
      reversed: 0n,
      rejected: 0n,
      paid: 0n,
      payoutsFailed: 0n,
      adjustments: 0n,
      payableDebit: 0n,
      payableCredit: 0n,
    };
    state.accounts.set(key, account);
    if (key > state.lastAccountKey) state.lastAccountKey = key;
    else state.accountsInOrder = false;
  }
  return account;
};

const postingsOf = (state: BalancesState, currency: string): Postings => {
  let postings = state.postings.get(currency);
  if (postings === undefined) {
    postings = {
      expenseDebit: 0n,
      expenseCredit: 0n,
      payableDebit: 0n,
      payableCredit: 0n,
      cashDebit: 0n,
      cashCredit: 0n,
    };
    state.postings.set(currency, postings);
  }
  return postings;
};

/** Commission expense against partner payable: positive amounts accrue, negative ones take back. */
const postCommission = (state: BalancesState, account: Account, currency: string, amount: bigint): void => {
  const postings = postingsOf(state, currency);
  if (amount >= 0n) {
    postings.expenseDebit += amount;
    postings.payableCredit += amount;
    account.payableCredit += amount;
  } else {
    postings.payableDebit -= amount;
    postings.expenseCredit -= amount;
    account.payableDebit -= amount;
  }
};

/** Partner payable against cash: positive amounts pay out, negative ones (a failed payout) come back. */
const postPayout = (state: BalancesState, account: Account, currency: string, amount: bigint): void => {
  const postings = postingsOf(state, currency);
  if (amount >= 0n) {
    postings.payableDebit += amount;
    postings.cashCredit += amount;
    account.payableDebit += amount;
  } else {
    postings.cashDebit -= amount;
    postings.payableCredit -= amount;
    account.payableCredit -= amount;
  }
};

const getLine = (state: BalancesState, lineId: string): OpenLine | undefined => {
  const packed = packedLine(state.lines, lineId);
  return packed === undefined ? undefined : unpackLine(packed);
};

/** Stores a changed line, or drops it: nothing outstanding, and no recent payout can give anything back. */
const putLine = (state: BalancesState, lineId: string, line: OpenLine): void =>
  storeLine(state.lines, lineId, line.remaining === 0n && line.inPayouts === 0 ? null : packLine(line));

/** A reversal: a line already dropped (paid in full) comes back with the clawback outstanding. */
const reverseLine = (
  state: BalancesState,
  lineId: string,
  partnerId: string,
  currency: string,
  amount: bigint,
): void => {
  const line = getLine(state, lineId);
  if (line === undefined) {
    putLine(state, lineId, {
      partnerId,
      currency,
      remaining: -amount,
      payableAt: '',
      held: false,
      inPayouts: 0,
      earnedAt: '',
    });
    return;
  }
  line.remaining -= amount;
  putLine(state, lineId, line);
};

const releasePayout = (state: BalancesState, payout: RecentPayout, failed: boolean): void => {
  for (const [lineId, amount] of payout.items) {
    const line = getLine(state, lineId);
    if (line === undefined) continue;
    if (failed) line.remaining += amount;
    line.inPayouts -= 1;
    putLine(state, lineId, line);
  }
};

const onPayout = (
  state: BalancesState,
  partnerId: string,
  payoutId: string,
  settles: ReadonlyArray<{ kind: string; id: string; amount: string }>,
  currency: string,
): void => {
  const items: Array<readonly [string, bigint]> = [];
  for (const item of settles) {
    // A `reversal` item recovers a clawback (a negative amount): the line's outstanding rises back to 0.
    if (item.kind === 'adjustment') continue;
    const line = getLine(state, item.id);
    if (line === undefined) continue;
    const amount = toMinor(item.amount, currency);
    line.remaining -= amount;
    line.inPayouts += 1;
    putLine(state, item.id, line);
    items.push([item.id, amount]);
  }
  let recent = recentPayoutsOf(state, partnerId);
  if (recent === undefined) state.recentPayouts.set(partnerId, (recent = []));
  recent.push({ payoutId, items });
  if (recent.length > RECENT_PAYOUTS) releasePayout(state, recent.shift()!, false);
};

const onPayoutFailed = (state: BalancesState, partnerId: string, payoutId: string): void => {
  const recent = recentPayoutsOf(state, partnerId);
  const index = recent?.findIndex((p) => p.payoutId === payoutId) ?? -1;
  if (recent === undefined || index < 0) return;
  releasePayout(state, recent[index]!, true);
  recent.splice(index, 1);
};

const reversalSumsOf = (
  state: BalancesState,
  occurredAt: string,
  kind: string,
  currency: string,
): ReversalSums => {
  const key = periodOf(occurredAt, 'month') + SEP + kind + SEP + currency;
  let sums = state.reversalsByMonth.get(key);
  if (sums === undefined)
    state.reversalsByMonth.set(key, (sums = { reversals: 0, amount: 0n, clawedBack: 0n }));
  return sums;
};

const apply = (state: BalancesState, event: LedgerEvent): BalancesState => {
  // Compared as text, as the runner finds the latest occurredAt (a result's asOf).
  if (state.latestOccurredAt === null || event.occurredAt > state.latestOccurredAt)
    state.latestOccurredAt = event.occurredAt;
  switch (event.type) {
    case 'ConversionAttributed':
      for (const line of event.data.commissions) {
        const amount = toMinor(line.amount, line.currency);
        const account = accountOf(state, line.partnerId, line.currency);
        account.accrued += amount;
        postCommission(state, account, line.currency, amount);
        if (amount > 0n)
          putLine(state, line.lineId, {
            partnerId: line.partnerId,
            currency: line.currency,
            remaining: amount,
            payableAt: line.payableAt,
            held: line.status === 'held',
            inPayouts: 0,
            earnedAt: event.occurredAt,
          });
      }
      return state;
    case 'ConversionReversed':
      for (const line of event.data.lines) {
        if (state.rejectedLines.has(line.lineId)) continue;
        const amount = toMinor(line.amount, line.currency);
        const account = accountOf(state, line.partnerId, line.currency);
        account.reversed += amount;
        postCommission(state, account, line.currency, -amount);
        reverseLine(state, line.lineId, line.partnerId, line.currency, amount);
        reversalSumsOf(state, event.occurredAt, event.data.kind, line.currency).clawedBack += amount;
      }
      {
        const sums = reversalSumsOf(state, event.occurredAt, event.data.kind, event.data.currency);
        sums.reversals += 1;
        sums.amount += toMinor(event.data.amount, event.data.currency);
      }
      return state;
    case 'CommissionHeld':
    case 'CommissionReleased': {
      const line = getLine(state, event.data.lineId);
      if (line !== undefined) {
        line.held = event.type === 'CommissionHeld';
        putLine(state, event.data.lineId, line);
      }
      return state;
    }
    case 'CommissionRejected': {
      state.rejectedLines.add(event.data.lineId);
      const line = getLine(state, event.data.lineId);
      if (line === undefined) return state;
      const account = accountOf(state, line.partnerId, line.currency);
      // Whatever is outstanding goes: a rejected line owes nothing either way (as the ledger counts it),
      // so rejecting a line with a clawback outstanding cancels the clawback (a negative amount rejected).
      const rejected = line.remaining;
      account.reversed += rejected;
      account.rejected += rejected;
      postCommission(state, account, line.currency, -rejected);
      line.remaining = 0n;
      line.held = false;
      putLine(state, event.data.lineId, line);
      return state;
    }
    case 'ManualAdjustmentRecorded': {
      const d = event.data;
      const amount = toMinor(d.amount, d.currency);
      const account = accountOf(state, d.partnerId, d.currency);
      account.adjustments += amount;
      postCommission(state, account, d.currency, amount);
      return state;
    }
    case 'PayoutIssued': {
      const d = event.data;
      const amount = toMinor(d.amount, d.currency);
      const account = accountOf(state, d.partnerId, d.currency);
      account.paid += amount;
      postPayout(state, account, d.currency, amount);
      onPayout(state, d.partnerId, d.payoutId, d.settles, d.currency);
      return state;
    }
    case 'PayoutFailed': {
      const d = event.data;
      const amount = toMinor(d.amount, d.currency);
      const account = accountOf(state, d.partnerId, d.currency);
      account.paid -= amount;
      account.payoutsFailed += amount;
      postPayout(state, account, d.currency, -amount);
      onPayoutFailed(state, d.partnerId, d.payoutId);
      return state;
    }
    default:
      return state;
  }
};

interface Sums {
  accrued: bigint;
  reversed: bigint;
  rejected: bigint;
  paid: bigint;
  payoutsFailed: bigint;
  adjustments: bigint;
  balance: bigint;
  pending: bigint;
  held: bigint;
}

/** Adds `sums` into `total`, field by field. */
const addSums = (total: Sums, sums: Sums): void => {
  total.accrued += sums.accrued;
  total.reversed += sums.reversed;
  total.rejected += sums.rejected;
  total.paid += sums.paid;
  total.payoutsFailed += sums.payoutsFailed;
  total.adjustments += sums.adjustments;
  total.balance += sums.balance;
  total.pending += sums.pending;
  total.held += sums.held;
};

// The keys in sorted order, as the result prints them: the result is not copied to sort them.
const formatBalance = (s: Sums, currency: string): PartnerBalance => ({
  accrued: formatMinor(s.accrued, currency),
  adjustments: formatMinor(s.adjustments, currency),
  balance: formatMinor(s.balance, currency),
  held: formatMinor(s.held, currency),
  negative: s.balance < 0n,
  paid: formatMinor(s.paid, currency),
  payable: formatMinor(s.balance - s.pending - s.held, currency),
  payoutsFailed: formatMinor(s.payoutsFailed, currency),
  pending: formatMinor(s.pending, currency),
  rejected: formatMinor(s.rejected, currency),
  reversed: formatMinor(s.reversed, currency),
});

const accountTotals = (debit: bigint, credit: bigint, currency: string): AccountTotals => ({
  debit: formatMinor(debit, currency),
  credit: formatMinor(credit, currency),
  balance: formatMinor(debit - credit, currency),
});

const zeroSums = (): Sums => ({
  accrued: 0n,
  reversed: 0n,
  rejected: 0n,
  paid: 0n,
  payoutsFailed: 0n,
  adjustments: 0n,
  balance: 0n,
  pending: 0n,
  held: 0n,
});

/** The index in AGING_BUCKETS of a line earned `days` whole days before asOf. */
const agingIndexOf = (days: number): number => (days <= 30 ? 0 : days <= 60 ? 1 : days <= 90 ? 2 : 3);

/** Whether text.slice(start, end) > other, compared as strings are, without slicing. */
const isAfter = (text: string, start: number, end: number, other: string): boolean => {
  const length = end - start;
  const common = Math.min(length, other.length);
  for (let i = 0; i < common; i += 1) {
    const a = text.charCodeAt(start + i);
    const b = other.charCodeAt(i);
    if (a !== b) return a > b;
  }
  return length > other.length;
};

/** Held and pending commission of one age bucket and currency, in minor units. */
interface AgingSums {
  pending: bigint;
  pendingLines: number;
  held: bigint;
  heldLines: number;
}

/** What the result needs of the open lines, read in one pass over them. */
interface LineFigures {
  /** `${partnerId}\t${currency}` -> its lines' pending and held remaining. */
  readonly buckets: Map<string, { pending: bigint; held: bigint }>;
  /** currency -> age bucket (in AGING_BUCKETS order) -> held and pending lines; empty without an asOf. */
  readonly aging: Map<string, AgingSums[]>;
  /** Lines with something outstanding. */
  openLines: number;
}

const noFigures = (): LineFigures => ({ buckets: new Map(), aging: new Map(), openLines: 0 });

/**
 * Counts one line (packed, see packLine) into the figures as of `asOf` (`asOfMs` its instant), or takes it
 * back out (`sign` -1): a line is held while held for review; pending while in its hold period
 * (payableAt > asOf; every line not held, without an asOf); a line with nothing outstanding counts nowhere.
 * Aging counts the same held and pending lines, by whole days from the conversion that earned them to asOf
 * (a clawback line, the only one without that date, is never pending and cannot be held, holds being on
 * lines earned). Read straight from the packed form, without unpacking it.
 */
const countLine = (
  figures: LineFigures,
  packed: string,
  asOf: string | null,
  asOfMs: number,
  sign: 1 | -1,
): void => {
  // remaining \t held \t inPayouts \t payableAt \t partnerId \t currency \t earnedAt
  const t1 = packed.indexOf('\t');
  // BigInt's text of zero is "0": nothing outstanding, whatever else the line says.
  if (t1 === 1 && packed.charCodeAt(0) === 48) return;
  figures.openLines += sign;
  const held = packed.charCodeAt(t1 + 1) === 49;
  const t3 = packed.indexOf('\t', packed.indexOf('\t', t1 + 1) + 1);
  const t4 = packed.indexOf('\t', t3 + 1);
  if (!held && asOf !== null && !isAfter(packed, t3 + 1, t4, asOf)) return;
  const remaining = sign === 1 ? BigInt(packed.slice(0, t1)) : -BigInt(packed.slice(0, t1));
  const t6 = packed.indexOf('\t', packed.indexOf('\t', t4 + 1) + 1);
  const key = packed.slice(t4 + 1, t6);
  let bucket = figures.buckets.get(key);
  if (bucket === undefined) figures.buckets.set(key, (bucket = { pending: 0n, held: 0n }));
  if (held) bucket.held += remaining;
  else bucket.pending += remaining;
  if (asOf === null) return;
  const currency = packed.slice(packed.lastIndexOf('\t', t6 - 1) + 1, t6);
  const earnedAt = packed.slice(t6 + 1);
  // daysBetween(earnedAt, asOf), with asOf's instant read once.
  const days = earnedAt === '' ? 0 : Math.max(0, Math.floor((asOfMs - instantOf(earnedAt)) / DAY_MS));
  let sums = figures.aging.get(currency);
  if (sums === undefined)
    figures.aging.set(
      currency,
      (sums = AGING_BUCKETS.map(() => ({ pending: 0n, pendingLines: 0, held: 0n, heldLines: 0 }))),
    );
  const age = sums[agingIndexOf(days)]!;
  if (held) {
    age.held += remaining;
    age.heldLines += sign;
  } else {
    age.pending += remaining;
    age.pendingLines += sign;
  }
};

/**
 * The line figures as of `asOf`: from those a checkpoint saved (see SavedFigures) when they fit, else read
 * from every line that may count (see linesForFigures).
 */
const lineFigures = (state: BalancesState, asOf: string | null): LineFigures =>
  (state.savedFigures === null ? undefined : figuresFromSaved(state, state.savedFigures, asOf)) ??
  readLineFigures(state, asOf);

/** Reads every line that may count once (see linesForFigures), and counts the cold ones it skips as open. */
const readLineFigures = (state: BalancesState, asOf: string | null): LineFigures => {
  const figures = noFigures();
  const { read, openUnread } = linesForFigures(state.lines, asOf);
  figures.openLines = openUnread;
  const asOfMs = asOf === null ? 0 : instantOf(asOf);
  for (const packed of read) countLine(figures, packed, asOf, asOfMs, 1);
  return figures;
};

/**
 * The line figures a checkpoint saved with its lines: those of a result as of `asOf`, the latest occurredAt
 * the state had applied (the split of the lines, `coldBefore`), so that a result resumed from it reads only
 * the lines changed since and those whose figures the moment moved, not every line that may count. Only
 * the warm lines (see Lines) count as pending or held as of `asOf`; `boundaries` gives, for each of them (in
 * their saved order), the first instant at which its figures differ from those as of `asOf` (it becomes
 * payable, or its age enters the next bucket), null for never; an instant at or before `asOf` for a line
 * whose timestamps are not in the one form that compares as text as it does as an instant, whose figures are
 * then always read afresh.
 */
interface SavedFigures {
  readonly asOf: string;
  readonly openLines: number;
  /** key, pending, held, key, pending, held... (minor units). */
  readonly buckets: readonly string[];
  /** currency, then for each age bucket: pending, pendingLines, held, heldLines. */
  readonly aging: ReadonlyArray<string | number>;
  readonly boundaries: ReadonlyArray<number | null>;
}

/** The one form of timestamp (toISOString's) whose order as text is its order in time. */
const CANONICAL = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

/** The instant of a canonical timestamp; undefined for any other text (or an impossible date). */
const canonicalInstant = (timestamp: string): number | undefined => {
  if (!CANONICAL.test(timestamp)) return undefined;
  const ms = instantOf(timestamp);
  return Number.isFinite(ms) ? ms : undefined;
};

/** Days into the age bucket after each (the last has none). */
const AGING_ENDS = [31, 61, 91];

/**
 * The first instant after `asOf` at which a warm line's figures (pending or not, age bucket) differ from
 * those as of `asOf`; null for never; `asOfMs` itself for a line whose timestamps are not canonical (its
 * figures are then read afresh for any later moment).
 */
const boundaryOf = (packed: string, asOfMs: number): number | null => {
  const [, held, , payableAt, , , earnedAt] = packedFields(packed);
  let boundary = Infinity;
  if (held !== '1') {
    const payable = canonicalInstant(payableAt);
    if (payable === undefined) return asOfMs;
    boundary = payable;
  }
  if (earnedAt !== '') {
    const earned = canonicalInstant(earnedAt);
    if (earned === undefined) return asOfMs;
    const index = agingIndexOf(Math.max(0, Math.floor((asOfMs - earned) / DAY_MS)));
    if (index < AGING_ENDS.length) boundary = Math.min(boundary, earned + AGING_ENDS[index]! * DAY_MS);
  }
  return boundary === Infinity ? null : boundary;
};

/**
 * The figures a checkpoint saves: those of its warm lines (`warm`: id, packed, id, packed...) as of `asOf`,
 * with the cold lines' `coldOpen` as open lines, and each warm line's boundary. None without an asOf, or
 * with one not canonical.
 */
const saveFigures = (warm: readonly string[], coldOpen: number, asOf: string | null): SavedFigures | null => {
  const asOfMs = asOf === null ? undefined : canonicalInstant(asOf);
  if (asOf === null || asOfMs === undefined) return null;
  const figures = noFigures();
  const boundaries: Array<number | null> = [];
  for (let i = 1; i < warm.length; i += 2) {
    countLine(figures, warm[i]!, asOf, asOfMs, 1);
    boundaries.push(boundaryOf(warm[i]!, asOfMs));
  }
  const buckets: string[] = [];
  for (const [key, { pending, held }] of sortedEntries(figures.buckets))
    buckets.push(key, pending.toString(), held.toString());
  const aging: Array<string | number> = [];
  for (const [currency, sums] of sortedEntries(figures.aging)) {
    aging.push(currency);
    for (const s of sums) aging.push(s.pending.toString(), s.pendingLines, s.held.toString(), s.heldLines);
  }
  return { asOf, openLines: figures.openLines + coldOpen, buckets, aging, boundaries };
};

/**
 * The figures as of `asOf` from those saved, when `asOf` is canonical and at or after the saved one (every
 * result of a state resumed from the checkpoint, but an earlier effectiveAt, which the checkpoint would
 * not fit): the saved figures, less each line changed since (as saved, as of the saved asOf) and each warm
 * line whose boundary `asOf` reached, plus the same lines as they are now, as of `asOf`. Undefined when the
 * saved figures do not fit.
 */
const figuresFromSaved = (
  state: BalancesState,
  saved: SavedFigures,
  asOf: string | null,
): LineFigures | undefined => {
  const asOfMs = asOf === null ? undefined : canonicalInstant(asOf);
  const savedMs = canonicalInstant(saved.asOf);
  if (asOf === null || asOfMs === undefined || savedMs === undefined || asOf < saved.asOf) return undefined;
  const figures: LineFigures = { buckets: new Map(), aging: new Map(), openLines: saved.openLines };
  const b = saved.buckets;
  for (let i = 0; i < b.length; i += 3)
    figures.buckets.set(b[i]!, { pending: BigInt(b[i + 1]!), held: BigInt(b[i + 2]!) });
  const a = saved.aging;
  for (let i = 0; i < a.length; i += 1 + 4 * AGING_BUCKETS.length) {
    const sums: AgingSums[] = [];
    for (let j = i + 1; j < i + 1 + 4 * AGING_BUCKETS.length; j += 4)
      sums.push({
        pending: BigInt(a[j] as string),
        pendingLines: a[j + 1] as number,
        held: BigInt(a[j + 2] as string),
        heldLines: a[j + 3] as number,
      });
    figures.aging.set(a[i] as string, sums);
  }
  const { saved: warm, changed } = state.lines;
  /** A line as saved out, as it is now in. */
  const recount = (before: string | undefined, now: string | null | undefined): void => {
    if (before !== undefined) countLine(figures, before, saved.asOf, savedMs, -1);
    if (now !== undefined && now !== null) countLine(figures, now, asOf, asOfMs, 1);
  };
  for (const [id, now] of changed) recount(savedForm(state.lines, id), now);
  for (let i = 0; i < saved.boundaries.length; i += 1) {
    const boundary = saved.boundaries[i];
    if (boundary === null || boundary === undefined || boundary > asOfMs) continue;
    const id = warm[2 * i]!;
    if (changed.has(id)) continue; // counted above
    recount(warm[2 * i + 1], warm[2 * i + 1]);
  }
  // A currency none of whose lines counts any longer is not in the aging (as when read afresh).
  for (const [currency, sums] of figures.aging)
    if (sums.every((s) => s.pendingLines === 0 && s.heldLines === 0)) figures.aging.delete(currency);
  return figures;
};

/** The aging of the result: held and pending lines by age and currency (empty without an asOf). */
const agingOf = (aging: LineFigures['aging']): CommissionBalancesResult['aging'] =>
  Object.fromEntries(
    sortedEntries(aging).map(([currency, sums]) => [
      currency,
      Object.fromEntries(
        AGING_BUCKETS.map((b, i) => {
          const s = sums[i]!;
          return [
            b,
            {
              pending: formatMinor(s.pending, currency),
              pendingLines: s.pendingLines,
              held: formatMinor(s.held, currency),
              heldLines: s.heldLines,
            },
          ];
        }),
      ) as Record<AgingBucket, AgingFigures>,
    ]),
  );

const reversalsOf = (state: BalancesState): CommissionBalancesResult['reversalsByMonth'] => {
  const out: Record<string, Record<string, Record<string, ReversalFigures>>> = {};
  for (const [key, s] of sortedEntries(state.reversalsByMonth)) {
    const [month, kind, currency] = key.split(SEP) as [string, string, string];
    ((out[month] ??= {})[kind] ??= {})[currency] = {
      reversals: s.reversals,
      amount: formatMinor(s.amount, currency),
      clawedBack: formatMinor(s.clawedBack, currency),
    };
  }
  return out;
};

const result = (state: BalancesState, context: ResultContext): CommissionBalancesResult => {
  const asOf = context.asOf;
  const lines = lineFigures(state, asOf);
  const partners: Record<string, Record<string, PartnerBalance>> = {};
  const totals = new Map<string, Sums & { negatives: number }>();
  const types = new Map<string, Map<string, Sums & { partners: number }>>();
  // A partner's accounts come one after another (keys sorted by partner, or nearly): its type is looked up
  // once for them.
  let typeOf: [partnerId: string, type: string] = ['', ''];
  for (const [key, account] of state.accountsInOrder ? state.accounts : sortedEntries(state.accounts)) {
    const sep = key.indexOf(SEP);
    const partnerId = key.slice(0, sep);
    const currency = key.slice(sep + 1);
    const bucket = lines.buckets.get(partnerId + '\t' + currency);
    const sums: Sums = {
      accrued: account.accrued,
      reversed: account.reversed,
      rejected: account.rejected,
      paid: account.paid,
      payoutsFailed: account.payoutsFailed,
      adjustments: account.adjustments,
      balance: account.payableCredit - account.payableDebit,
      pending: bucket === undefined ? 0n : bucket.pending,
      held: bucket === undefined ? 0n : bucket.held,
    };
    (partners[partnerId] ??= {})[currency] = formatBalance(sums, currency);
    let total = totals.get(currency);
    if (total === undefined) totals.set(currency, (total = { ...zeroSums(), negatives: 0 }));
    addSums(total, sums);
    if (sums.balance < 0n) total.negatives += 1;
    if (typeOf[0] !== partnerId || typeOf[1] === '')
      typeOf = [partnerId, context.reference.partner(partnerId)?.partnerType ?? 'unknown'];
    const type = typeOf[1];
    let currencies = types.get(type);
    if (currencies === undefined) types.set(type, (currencies = new Map()));
    let byType = currencies.get(currency);
    if (byType === undefined) currencies.set(currency, (byType = { ...zeroSums(), partners: 0 }));
    addSums(byType, sums);
    byType.partners += 1;
  }
  const accounts: Record<string, CommissionBalancesResult['accounts'][string]> = {};
  const trialBalance: Record<string, CommissionBalancesResult['trialBalance'][string]> = {};
  for (const [currency, p] of sortedEntries(state.postings)) {
    accounts[currency] = {
      commissionExpense: accountTotals(p.expenseDebit, p.expenseCredit, currency),
      partnerPayable: accountTotals(p.payableDebit, p.payableCredit, currency),
      cash: accountTotals(p.cashDebit, p.cashCredit, currency),
    };
    const debits = p.expenseDebit + p.payableDebit + p.cashDebit;
    const credits = p.expenseCredit + p.payableCredit + p.cashCredit;
    trialBalance[currency] = {
      debits: formatMinor(debits, currency),
      credits: formatMinor(credits, currency),
      difference: formatMinor(debits - credits, currency),
    };
  }
  // The partners, the bulk of the result, are built in sorted order (accounts by partner, then currency;
  // rows by formatBalance, keys in order): checked in one pass instead of walked and compared by
  // sortedResult, which copies them only in a case the check also catches (an id that sorts otherwise
  // than its account key, an id that is an array index).
  const rest = sortedResult({
    asOf,
    byPartnerType: Object.fromEntries(
      sortedEntries(types).map(([type, currencies]) => [
        type,
        Object.fromEntries(
          sortedEntries(currencies).map(([currency, { partners: count, ...sums }]) => [
            currency,
            { ...formatBalance(sums, currency), partners: count },
          ]),
        ),
      ]),
    ),
    aging: agingOf(lines.aging),
    reversalsByMonth: reversalsOf(state),
    totals: Object.fromEntries(
      sortedEntries(totals).map(([currency, { negatives, ...sums }]) => [
        currency,
        { ...formatBalance(sums, currency), partnersWithNegativeBalance: negatives },
      ]),
    ),
    accounts,
    trialBalance,
    openLines: lines.openLines,
  });
  return {
    accounts: rest.accounts,
    aging: rest.aging,
    asOf: rest.asOf,
    byPartnerType: rest.byPartnerType,
    openLines: rest.openLines,
    partners: partnersInOrder(partners) ? partners : sortedResult(partners),
    reversalsByMonth: rest.reversalsByMonth,
    totals: rest.totals,
    trialBalance: rest.trialBalance,
  };
};

/** Whether the keys of `record`, as they are enumerated (and printed), are in sorted order. */
const keysInOrder = (record: object): boolean => {
  let previous: string | undefined;
  for (const key in record) {
    if (previous !== undefined && previous > key) return false;
    previous = key;
  }
  return true;
};

/**
 * Whether sortedResult would leave the partners as they are: partner ids in order, and each partner's
 * currencies in order (each row is formatBalance's, whose keys are in order and whose values are text).
 */
const partnersInOrder = (partners: Record<string, Record<string, PartnerBalance>>): boolean => {
  if (!keysInOrder(partners)) return false;
  for (const partnerId in partners) if (!keysInOrder(partners[partnerId]!)) return false;
  return true;
};

/**
 * The form of the saved state: a checkpoint saved in any other is refused by load (and the replay then starts
 * from the beginning). 2: lines saved packed, as they are kept; 3: and split, those that can still count as
 * pending or held apart (see Lines); 4: with the figures of those as of the split (see SavedFigures).
 */
const BALANCES_STATE_FORMAT = 'commissionBalances@4';

/**
 * Whether saved figures have the form saveFigures gives, for `warm` warm lines split as of `latest`: null
 * (without a canonical latest), or as of `latest` with one boundary per warm line. Their sums are vouched for
 * by the checkpoint's checksum, as its lines are.
 */
const figuresFit = (figures: unknown, warm: number, latest: string | null): boolean => {
  if (figures === null) return latest === null || canonicalInstant(latest) === undefined;
  const f = figures as Partial<SavedFigures> | undefined;
  return (
    typeof f === 'object' &&
    f.asOf === latest &&
    Number.isSafeInteger(f.openLines) &&
    Array.isArray(f.buckets) &&
    f.buckets.length % 3 === 0 &&
    Array.isArray(f.aging) &&
    f.aging.length % (1 + 4 * AGING_BUCKETS.length) === 0 &&
    Array.isArray(f.boundaries) &&
    f.boundaries.length === warm
  );
};

const ACCOUNT_FIELDS = [
  'accrued',
  'reversed',
  'rejected',
  'paid',
  'payoutsFailed',
  'adjustments',
  'payableDebit',
  'payableCredit',
] as const;
const POSTING_FIELDS = [
  'expenseDebit',
  'expenseCredit',
  'payableDebit',
  'payableCredit',
  'cashDebit',
  'cashCredit',
] as const;

/**
 * Commission balances per partner and currency, with the double-entry postings behind them (commission
 * expense, partner payable, cash) and a trial balance. Payable is as of the result's asOf.
 */
export const commissionBalances = (): Projection<BalancesState, CommissionBalancesResult> => ({
  name: 'commissionBalances',
  eventTypes: [
    'ConversionAttributed',
    'ConversionReversed',
    'CommissionHeld',
    'CommissionReleased',
    'CommissionRejected',
    'ManualAdjustmentRecorded',
    'PayoutIssued',
    'PayoutFailed',
  ],
  initialState: () => ({
    accounts: new Map(),
    accountsInOrder: true,
    lastAccountKey: '',
    lines: emptyLines(),
    postings: new Map(),
    recentPayouts: new Map(),
    savedPayouts: new Map(),
    rejectedLines: new Set(),
    reversalsByMonth: new Map(),
    latestOccurredAt: null,
    savedFigures: null,
  }),
  apply,
  result,
  save: (state) => {
    // Each line as it is kept, packed: id, packed line, id, packed line... (loaded as they are), in two
    // parts (see Lines), and the figures of the warm ones as of the split (see SavedFigures).
    const lines = saveLines(state.lines, state.latestOccurredAt);
    return {
      format: BALANCES_STATE_FORMAT,
      accounts: sortedEntries(state.accounts).map(([k, a]) => [
        k,
        ACCOUNT_FIELDS.map((f) => a[f].toString()),
      ]),
      ...lines,
      figures: saveFigures(lines.lines, lines.coldOpen, state.latestOccurredAt),
      latestOccurredAt: state.latestOccurredAt,
      rejectedLines: [...state.rejectedLines].sort(),
      // Those still undecoded as they were loaded: the same JSON as if decoded and encoded again.
      recentPayouts: sortedEntries<RecentPayout[] | SavedPayouts>(
        new Map<string, RecentPayout[] | SavedPayouts>([...state.recentPayouts, ...state.savedPayouts]),
      ).map(([partnerId, payouts]) => [
        partnerId,
        state.savedPayouts.has(partnerId)
          ? (payouts as SavedPayouts)
          : (payouts as RecentPayout[]).map((p) => [
              p.payoutId,
              p.items.map(([lineId, amount]) => [lineId, amount.toString()]),
            ]),
      ]),
      postings: sortedEntries(state.postings).map(([c, p]) => [
        c,
        POSTING_FIELDS.map((f) => p[f].toString()),
      ]),
      reversalsByMonth: sortedEntries(state.reversalsByMonth).map(([k, r]) => [
        k,
        r.reversals,
        r.amount.toString(),
        r.clawedBack.toString(),
      ]),
    } as JsonValue;
  },
  load: (json) => {
    const s = json as unknown as {
      format?: unknown;
      accounts: Array<[string, string[]]>;
      lines: string[];
      coldLines: string[];
      coldOpen: number;
      figures: SavedFigures | null;
      latestOccurredAt: string | null;
      postings: Array<[string, string[]]>;
      recentPayouts: Array<[string, SavedPayouts]>;
      rejectedLines: string[];
      reversalsByMonth: Array<[string, number, string, string]>;
    };
    // A state saved in another form (an older one: lines unpacked, or before lines knew their conversion's
    // date and reversals were kept by month) is refused, so that the replay starts from the beginning
    // instead: loading it could give wrong figures.
    if (
      s === null ||
      typeof s !== 'object' ||
      s.format !== BALANCES_STATE_FORMAT ||
      !Array.isArray(s.lines) ||
      s.lines.length % 2 !== 0 ||
      !Array.isArray(s.coldLines) ||
      s.coldLines.length % 2 !== 0 ||
      !Number.isSafeInteger(s.coldOpen) ||
      !(s.latestOccurredAt === null || typeof s.latestOccurredAt === 'string') ||
      !figuresFit(s.figures, s.lines.length / 2, s.latestOccurredAt)
    )
      throw new Error(
        `The saved balances state is not of the format ${BALANCES_STATE_FORMAT}: replay from the start`,
      );
    const accounts = new Map<string, Account>();
    // Saved sorted; checked rather than trusted (a result read in this order must be the sorted one).
    let accountsInOrder = true;
    let lastAccountKey = '';
    for (const [k, v] of s.accounts) {
      if (k > lastAccountKey) lastAccountKey = k;
      else accountsInOrder = false;
      accounts.set(k, {
        accrued: BigInt(v[0]!),
        reversed: BigInt(v[1]!),
        rejected: BigInt(v[2]!),
        paid: BigInt(v[3]!),
        payoutsFailed: BigInt(v[4]!),
        adjustments: BigInt(v[5]!),
        payableDebit: BigInt(v[6]!),
        payableCredit: BigInt(v[7]!),
      });
    }
    return {
      accounts,
      accountsInOrder,
      lastAccountKey,
      lines: loadLines(s.lines, s.coldLines, s.coldOpen, s.latestOccurredAt),
      latestOccurredAt: s.latestOccurredAt,
      savedFigures: s.figures,
      postings: new Map(
        s.postings.map(([c, values]) => [
          c,
          Object.fromEntries(POSTING_FIELDS.map((f, i) => [f, BigInt(values[i]!)])) as unknown as Postings,
        ]),
      ),
      rejectedLines: new Set(s.rejectedLines),
      recentPayouts: new Map(),
      // Decoded one partner at a time, when a payout of theirs is applied (recentPayoutsOf).
      savedPayouts: new Map(s.recentPayouts),
      reversalsByMonth: new Map(
        s.reversalsByMonth.map(([k, reversals, amount, clawedBack]) => [
          k,
          { reversals, amount: BigInt(amount), clawedBack: BigInt(clawedBack) },
        ]),
      ),
    };
  },
});
