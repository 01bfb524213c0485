import type { Draft } from 'immer';
import { LedgerDecimal, decodeStoredEvent, roundToCurrency } from '@partner-ledger/events';
import type { LedgerEvent, RecordedEvent } from '@partner-ledger/events';
import type { EventStore } from '@partner-ledger/store';
import { balanceDecider, initialBalanceState } from './deciders/balance';
import type { BalanceState } from './deciders/balance';
import type { PeriodStats } from './rules';
import { periodKey } from './time';

// The few facts a decision needs that no single stream holds: a partner's balance (its lines live in the
// conversion streams), its figures for the current month or quarter (tiers and period caps), the customer a
// renewal belongs to, and who owns a coupon code. The ledger keeps them in memory, caught up from the
// store's global log before each decision that needs them (only the new events are read).

const RELEVANT = new Set([
  'PartnerJoined',
  'ConversionAttributed',
  'ConversionReversed',
  'CommissionHeld',
  'CommissionReleased',
  'CommissionRejected',
  'ManualAdjustmentRecorded',
  'PayoutIssued',
  'PayoutConfirmed',
  'PayoutFailed',
]);

/** Whether the view reads events of this type (the others it skips as it catches up, undecoded). */
export const viewReads = (type: string): boolean => RELEVANT.has(type);

/** The partners whose balance an event changes (the view and the payout runs' balance book fold by it). */
export const partnersOf = (event: LedgerEvent): string[] => {
  switch (event.type) {
    case 'ConversionAttributed':
      return [...new Set(event.data.commissions.map((line) => line.partnerId))];
    case 'ConversionReversed':
      return [...new Set(event.data.lines.map((line) => line.partnerId))];
    case 'CommissionHeld':
    case 'CommissionReleased':
    case 'CommissionRejected':
    case 'ManualAdjustmentRecorded':
    case 'PayoutIssued':
    case 'PayoutConfirmed':
    case 'PayoutFailed':
      return [event.data.partnerId];
    default:
      return [];
  }
};

export interface CrossStreamView {
  /** Reads what the store appended since the last catch-up. */
  readonly catchUp: () => Promise<void>;
  /**
   * The global position of the last event the view has applied (-1: none): what a decision read from the
   * view was caught up to, the `after` of its append condition. Taken right after a catch-up, before the
   * reads: the view only grows, so reads taken later see at least that much (a condition is then at worst
   * stricter than needed, and the decision is taken again).
   */
  readonly position: () => number;
  readonly balance: (partnerId: string) => BalanceState;
  readonly periodStats: (
    partnerId: string,
    planId: string,
    period: 'month' | 'quarter',
    at: string,
  ) => PeriodStats;
  readonly customer: (
    customerId: string,
  ) => { readonly firstConversionAt: string; readonly boundPartnerId: string | null } | undefined;
  readonly couponOwners: () => Readonly<Record<string, string>>;
  /**
   * The events the ledger itself just appended, as the store returned them (with their positions): a
   * catch-up applies them without reading them back (see `catchUpOnce`).
   */
  readonly appended: (events: readonly LedgerEvent[]) => void;
  /**
   * Whether the view has read, at a position after `position` (up to its own), an event of `stream` that it
   * did not have from `appended`: another writer's, or one of the ledger's own it no longer remembered. A
   * stream the view does not say so of holds, up to the view's position, only what the ledger appended
   * itself (see `loadSeen` in ledger.ts). Conservative: a stream whose note was dropped (the notes are
   * bounded) counts as touched at any position before the last note dropped.
   */
  readonly touchedAfter: (stream: string, position: number) => boolean;
}

/** How many streams' latest foreign positions the view keeps notes of (two generations of half each). */
const FOREIGN_NOTES = 20_000;

/**
 * How many of the ledger's own latest positions the view remembers: at 64 callers a catch-up finds a few
 * hundred new positions; an older one is read back from the store as any other.
 */
const OWN_POSITIONS = 8192;
/** An own position whose event the view does not read (a click, a visit): only its position is kept. */
const SKIPPED = null;

interface MutableStats {
  revenue: LedgerDecimal;
  conversions: number;
  commission: LedgerDecimal;
  /** The figures as decisions read them, spelled once per change (every conversion reads them). */
  figures: PeriodStats | undefined;
}

export const createCrossStreamView = (
  store: EventStore,
  decode: (event: RecordedEvent) => LedgerEvent = decodeStoredEvent,
): CrossStreamView => {
  let position = -1;
  const balances = new Map<string, BalanceState>();
  const stats = new Map<string, MutableStats>();
  const customers = new Map<string, { firstConversionAt: string; boundPartnerId: string | null }>();
  const coupons: Record<string, string> = {};
  // The ledger's own appends by position, in a ring: a slot counts only while it holds that very position.
  const ownPositions = new Float64Array(OWN_POSITIONS).fill(-1);
  const ownEvents: (LedgerEvent | typeof SKIPPED)[] = new Array<LedgerEvent | null>(OWN_POSITIONS).fill(
    SKIPPED,
  );
  const ownAt = (at: number): LedgerEvent | typeof SKIPPED | undefined => {
    const slot = at % OWN_POSITIONS;
    return ownPositions[slot] === at ? ownEvents[slot] : undefined;
  };
  // The latest position of an event the view read from the store, by stream (see touchedAfter). Two
  // generations, as the ledger's states: when the young one is full the old one is dropped, and `forgotten`
  // rises to the last position it held (positions only grow, so that is the largest).
  let youngNotes = new Map<string, number>();
  let oldNotes = new Map<string, number>();
  let youngLast = -1;
  let oldLast = -1;
  let forgotten = -1;
  const noteRead = (stream: string, at: number): void => {
    youngNotes.set(stream, at);
    youngLast = at;
    if (youngNotes.size >= FOREIGN_NOTES / 2) {
      forgotten = Math.max(forgotten, oldLast);
      oldNotes = youngNotes;
      oldLast = youngLast;
      youngNotes = new Map();
    }
  };
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const start = (): Promise<void> => {
    const current: Promise<void> = catchUpOnce().finally(() => {
      if (running === current) running = null;
    });
    running = current;
    return current;
  };
  const startNext = (): Promise<void> => {
    next = null;
    return start();
  };

  // Length-prefixed, so that no two triples share a key (as with JSON, without serialising an array).
  const statsKey = (partnerId: string, planId: string, period: string) =>
    `${partnerId.length}:${partnerId}|${planId.length}:${planId}|${period}`;

  const addStats = (event: Extract<LedgerEvent, { type: 'ConversionAttributed' }>): void => {
    const { data } = event;
    const creditOf = new Map(data.credits.map((c) => [c.partnerId, c.revenueCredit]));
    const byPartnerPlan = new Map<
      string,
      { partnerId: string; planId: string; currency: string; commission: LedgerDecimal }
    >();
    for (const line of data.commissions) {
      const key = `${line.partnerId.length}:${line.partnerId}|${line.planId}`;
      const entry = byPartnerPlan.get(key) ?? {
        partnerId: line.partnerId,
        planId: line.planId,
        currency: line.currency,
        commission: new LedgerDecimal(0),
      };
      entry.commission = entry.commission.plus(line.amount);
      byPartnerPlan.set(key, entry);
    }
    for (const { partnerId, planId, currency, commission } of byPartnerPlan.values()) {
      const credit = creditOf.get(partnerId);
      const rate =
        currency === data.currency
          ? '1'
          : (data.fx.find((r) => r.from === data.currency && r.to === currency)?.rate ?? '0');
      const revenue =
        credit === undefined
          ? new LedgerDecimal(0)
          : roundToCurrency(new LedgerDecimal(credit).mul(rate), currency);
      for (const period of ['month', 'quarter'] as const) {
        const key = statsKey(partnerId, planId, periodKey(event.occurredAt, period));
        const entry = stats.get(key) ?? {
          revenue: new LedgerDecimal(0),
          conversions: 0,
          commission: new LedgerDecimal(0),
          figures: undefined,
        };
        entry.revenue = entry.revenue.plus(revenue);
        entry.conversions += credit === undefined ? 0 : 1;
        entry.commission = entry.commission.plus(commission);
        entry.figures = undefined;
        stats.set(key, entry);
      }
    }
  };

  const addCustomer = (event: Extract<LedgerEvent, { type: 'ConversionAttributed' }>): void => {
    if (event.data.credits.length === 0) return;
    const sourced = event.data.credits.find((c) => c.role === 'sourced')?.partnerId ?? null;
    const known = customers.get(event.data.customerId);
    if (known === undefined || event.occurredAt < known.firstConversionAt)
      customers.set(event.data.customerId, { firstConversionAt: event.occurredAt, boundPartnerId: sourced });
  };

  // Balances grow with every line a partner earns: copying one on each change (as an immer draft would) makes
  // recording quadratic in the partner's history. They are private to the view and read synchronously by a
  // decision right after a catch-up, so the view applies the balance decider's evolve to them in place.
  const mutableBalance = (partnerId: string): Draft<BalanceState> => {
    let state = balances.get(partnerId);
    if (state === undefined) {
      state = structuredClone(initialBalanceState(partnerId));
      balances.set(partnerId, state);
    }
    return state as Draft<BalanceState>;
  };

  const apply = (events: readonly LedgerEvent[]): void => {
    for (const event of events) {
      if (event.type === 'PartnerJoined')
        for (const code of event.data.couponCodes) coupons[code] ??= event.data.partnerId;
      if (event.type === 'ConversionAttributed') {
        addStats(event);
        addCustomer(event);
      }
      for (const partnerId of partnersOf(event)) balanceDecider.evolveDraft(mutableBalance(partnerId), event);
    }
  };

  const catchUpOnce = async (): Promise<void> => {
    const batch: LedgerEvent[] = [];
    let last = position;
    // First the positions right after the view's that this ledger appended itself: their events are known
    // as the store returned them (the same objects a read-back would be decoded to, by hash), so they are
    // applied without reading and parsing them again. A position this ledger did not append (another
    // writer's) or no longer remembers ends the walk; from there the store is read as before. An integer
    // position is never skipped: the walk moves one at a time, so it holds for stores whose positions are
    // not dense too (it then stops at once).
    for (let own = ownAt(last + 1); own !== undefined; own = ownAt(last + 1)) {
      last += 1;
      if (own !== SKIPPED) batch.push(own);
    }
    // Through readAll, the port's own read, never a store's extra ones (readAllPages): a store that wraps
    // another (opening sealed personal data, say) wraps the port's methods, and events read past it would
    // be cached by hash as the inner store has them.
    for await (const event of store.readAll({ fromPosition: last + 1 })) {
      last = event.position;
      noteRead(event.stream, event.position);
      if (RELEVANT.has(event.type)) batch.push(decode(event));
    }
    // The position moves with the state it describes, never ahead of it.
    apply(batch);
    position = last;
  };

  return {
    // One read serves every decision waiting: a catch-up asked for while one runs waits for the next one,
    // which starts after it and serves everyone who asked meanwhile (it sees all they were promised).
    catchUp: () => {
      if (running === null) return start();
      next ??= running.then(startNext, startNext);
      return next;
    },
    position: () => position,
    balance: (partnerId) => balances.get(partnerId) ?? initialBalanceState(partnerId),
    periodStats: (partnerId, planId, period, at) => {
      const entry = stats.get(statsKey(partnerId, planId, periodKey(at, period)));
      if (entry === undefined) return { revenue: '0', conversions: 0, commission: '0' };
      entry.figures ??= {
        revenue: entry.revenue.toFixed(),
        conversions: entry.conversions,
        commission: entry.commission.toFixed(),
      };
      return { ...entry.figures };
    },
    customer: (customerId) => customers.get(customerId),
    couponOwners: () => coupons,
    touchedAfter: (stream, at) => {
      if (forgotten > at) return true;
      const noted = youngNotes.get(stream) ?? oldNotes.get(stream);
      return noted !== undefined && noted > at;
    },
    appended: (events) => {
      for (const event of events) {
        const slot = event.position % OWN_POSITIONS;
        ownPositions[slot] = event.position;
        ownEvents[slot] = RELEVANT.has(event.type) ? event : SKIPPED;
      }
    },
  };
};
