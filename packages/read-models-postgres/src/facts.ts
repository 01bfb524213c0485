import { fromMinorUnits, formatAmount, toMinorUnits } from '@partner-ledger/events';
import type { CurrencyCode, DecimalString, LedgerEvent } from '@partner-ledger/events';
import { defineProjection } from '@partner-ledger/projections';
import type { JsonValue, Projection } from '@partner-ledger/projections';
import { revenueMovementsOf } from './revenue-facts';
import type { RevenueMovementFact } from './revenue-facts';

/**
 * The facts the built-in projections fold away but a BI table wants one row each of: every commission line
 * with its status and dates, every partner with its type, tier, status and parent. Plain JSON state (amounts
 * as minor units in strings), saved in the projector's checkpoint with the built-in projections' states.
 */

/** A partner as the partners table shows it. */
export interface PartnerFact {
  readonly partnerType: string;
  readonly planId: string;
  readonly parentPartnerId: string | null;
  readonly payoutCurrency: string;
  tier: string | null;
  status: string;
  readonly joinedAt: string;
  readonly joinedRecordedAt: string;
  changedAt: string;
  changedRecordedAt: string;
  position: number;
}

/** A commission line as the commission_lines table shows it; money in minor units (decimal strings). */
export interface LineFact {
  readonly partnerId: string;
  readonly conversionId: string;
  readonly planId: string;
  readonly planVersion: number;
  readonly rule: string;
  readonly tier: string | null;
  readonly rate: string | null;
  readonly base: string;
  readonly amount: string;
  readonly currency: string;
  readonly payableAt: string;
  readonly overrideOf: string | null;
  /** occurredAt and recordedAt of the conversion that earned it. */
  readonly earnedAt: string;
  readonly recordedAt: string;
  readonly position: number;
  held: boolean;
  holdReason: string | null;
  rejected: boolean;
  /** Minor units reversed. */
  reversed: string;
  /** payoutId -> minor units it settled. */
  settlements: Record<string, string>;
  /** occurredAt and recordedAt of the last event that changed the line. */
  changedAt: string;
  changedRecordedAt: string;
  /** The line as the balances projection keeps it; null while it keeps none (see OpenLineFact). */
  open: OpenLineFact | null;
}

/**
 * A commission line as the balances projection counts it in pending, held and payable: what it has
 * outstanding (minor units; a payout's `reversal` item recovering a clawback included, unlike `settlements`),
 * whether it is held, when it becomes payable, and in how many recent payouts (a failure of one gives back
 * what it settled). The projection forgets a line with nothing outstanding in no recent payout; a reversal of
 * it later makes a clawback line, payable at once and not held ("" payableAt). Kept alike here so that the
 * commission_line_changes rows say what the report counts.
 */
export interface OpenLineFact {
  remaining: string;
  held: boolean;
  inPayouts: number;
  payableAt: string;
}

/** What changed a line's outstanding amount, hold or payable date. */
export type LineChangeKind =
  'accrual' | 'reversal' | 'hold' | 'release' | 'rejection' | 'payout' | 'payout_failed';

/**
 * One change of a commission line as the balances projection counts it: the signed change of what it has
 * outstanding, and its hold and payable date after the change. What a line counts in pending, held or payable
 * as of a moment is the sum of its changes by then, classed by the last of them. Append-only, like
 * MovementFact.
 */
export interface LineChangeFact {
  readonly position: number;
  /** 1, 2, ...: its place among the line changes of its event. */
  readonly change: number;
  readonly kind: LineChangeKind;
  readonly lineId: string;
  readonly partnerId: string;
  readonly currency: string;
  /** The signed change of the line's outstanding amount, as the currency's decimal string. */
  readonly amount: string;
  /** After the change: held for review (counted in held, not pending or payable). */
  readonly held: boolean;
  /** After the change: the line's status as commission_lines shows it, and its hold reason. */
  readonly status: LineStatus;
  readonly holdReason: string | null;
  /** After the change: when it becomes payable (null: at once, a clawback line). */
  readonly payableAt: string | null;
  readonly effectiveAt: string;
  readonly recordedAt: string;
}

/**
 * When the ledger learnt of a payout, and of its failure: the statements projection keeps only when they
 * happened, and "as known at" questions need both.
 */
export interface PayoutFact {
  readonly recordedAt: string;
  failedAt: string | null;
  failedRecordedAt: string | null;
}

/** The kinds of movement of a partner's commission balance, as the balances projection counts them. */
export type MovementKind = 'accrual' | 'reversal' | 'rejection' | 'adjustment' | 'payout' | 'payout_failed';

/**
 * One movement of a partner's commission balance in one currency: the amount is signed by its effect on the
 * balance (an accrual adds, a reversal, a rejection and a payout take away, a failed payout gives back, an
 * adjustment either), so that a balance as of any moment is a sum of rows. Append-only: an event's movements
 * never change after it.
 */
export interface MovementFact {
  readonly position: number;
  /** 1, 2, ...: its place among the movements of its event. */
  readonly movement: number;
  readonly eventId: string;
  readonly kind: MovementKind;
  readonly partnerId: string;
  readonly currency: string;
  /** The signed amount, as the currency's decimal string. */
  readonly amount: string;
  /** The commission line, adjustment or payout moved. */
  readonly itemId: string;
  readonly effectiveAt: string;
  readonly recordedAt: string;
}

/** The state of the facts projection. */
export interface FactsState {
  readonly partners: Record<string, PartnerFact>;
  readonly lines: Record<string, LineFact>;
  readonly payouts: Record<string, PayoutFact>;
  /** partnerId -> its last payout and the lines it settled (a PayoutFailed of it puts them back). */
  readonly lastPayout: Record<string, LastPayoutFact>;
  /** Every balance movement, in order (empty with a tracker: the tracker hands them to the projector). */
  readonly movements: MovementFact[];
  /** Every line change, in order (empty with a tracker, as movements). */
  readonly lineChanges: LineChangeFact[];
  /** Every revenue movement, in order (empty with a tracker, as movements). */
  readonly revenueMovements: RevenueMovementFact[];
}

/** A partner's last payout: the lines it settled, and what it took from each as the balances count it. */
export interface LastPayoutFact {
  payoutId: string;
  lineIds: string[];
  /** [lineId, minor units] of each item the balances projection took from an open line. */
  openItems: Array<[string, string]>;
}

/** The statuses of a commission line in the commission_lines table. */
export type LineStatus = 'open' | 'held' | 'paid' | 'reversed' | 'rejected';

const minor = (amount: string, currency: string): bigint =>
  toMinorUnits(amount as DecimalString, currency as CurrencyCode);
/** Minor units back to the currency's decimal string. */
export const formatMinorUnits = (units: bigint, currency: string): string =>
  formatAmount(fromMinorUnits(units, currency as CurrencyCode), currency as CurrencyCode);

/**
 * What is still owed on a line (negative for a clawback not yet recovered), in minor units, as the balances
 * projection counts it: its open part, which a payout's `reversal` item recovering a clawback brings back to
 * zero (`settlements` keeps only `commission` items, so amount - reversed - settled would still show the
 * clawback). A rejected line owes nothing, whatever a later failed payout gives back to it.
 */
export const outstandingOf = (line: LineFact): bigint =>
  line.rejected || line.open === null ? 0n : BigInt(line.open.remaining);

/** The minor units settled by payouts on a line. */
export const settledOf = (line: LineFact): bigint =>
  Object.values(line.settlements).reduce((sum, amount) => sum + BigInt(amount), 0n);

/**
 * A line's status: rejected, reversed (all of it, held or not), held, paid (nothing outstanding) or open.
 */
export const statusOf = (line: LineFact): LineStatus => {
  if (line.rejected) return 'rejected';
  if (BigInt(line.reversed) >= BigInt(line.amount)) return 'reversed';
  if (line.held) return 'held';
  return outstandingOf(line) <= 0n ? 'paid' : 'open';
};

const touch = (fact: { changedAt: string; changedRecordedAt: string }, event: LedgerEvent): void => {
  fact.changedAt = event.occurredAt;
  fact.changedRecordedAt = event.recordedAt;
};

/**
 * The facts' state kept by the projector itself, one row per entry (not in the session's checkpoint), and the
 * entries changed since it last committed: a commit writes those entries and their table rows only.
 */
export interface FactsTracker {
  readonly state: FactsState;
  readonly partners: Set<string>;
  readonly lines: Set<string>;
  /** Partners whose lastPayout entry changed. */
  readonly lastPayouts: Set<string>;
  readonly payouts: Set<string>;
  /** The balance movements of the events since the last commit (appended rows, never kept in the state). */
  readonly movements: MovementFact[];
  /** The line changes of the events since the last commit (appended rows, as movements). */
  readonly lineChanges: LineChangeFact[];
  /** The revenue movements of the events since the last commit (appended rows, as movements). */
  readonly revenueMovements: RevenueMovementFact[];
}

/** An empty facts state. */
export const emptyFacts = (): FactsState => ({
  partners: {},
  lines: {},
  payouts: {},
  lastPayout: {},
  movements: [],
  lineChanges: [],
  revenueMovements: [],
});

/**
 * The facts projection: partners and commission lines, one entry each. With a tracker, the state is the
 * tracker's (saved in a checkpoint as a mere marker: the projector keeps the entries as rows of their own),
 * and every entry an event changes is recorded in the tracker.
 */
export const readModelFacts = (tracker?: FactsTracker): Projection<FactsState, FactsState> =>
  defineProjection<FactsState, FactsState>({
    name: 'read-model-facts',
    eventTypes: [
      'PartnerJoined',
      'PartnerTierChanged',
      'PartnerStatusChanged',
      'ConversionAttributed',
      'ConversionReversed',
      'CommissionHeld',
      'CommissionReleased',
      'CommissionRejected',
      'ManualAdjustmentRecorded',
      'PayoutIssued',
      'PayoutFailed',
    ],
    initialState: () => tracker?.state ?? emptyFacts(),
    ...(tracker === undefined
      ? {}
      : { save: (): JsonValue => 'facts-kept-as-rows', load: (): FactsState => tracker.state }),
    apply: (state, event, reference) => {
      (tracker?.revenueMovements ?? state.revenueMovements).push(...revenueMovementsOf(event, reference));
      const partnerTouched = (id: string): void => {
        tracker?.partners.add(id);
      };
      const lineTouched = (id: string): void => {
        tracker?.lines.add(id);
      };
      let movements = 0;
      /** A movement of the balance by this event: `units` signed minor units. */
      const move = (
        kind: MovementKind,
        partnerId: string,
        currency: string,
        units: bigint,
        itemId: string,
      ) => {
        movements += 1;
        (tracker?.movements ?? state.movements).push({
          position: event.position,
          movement: movements,
          eventId: event.id,
          kind,
          partnerId,
          currency,
          amount: formatMinorUnits(units, currency),
          itemId,
          effectiveAt: event.occurredAt,
          recordedAt: event.recordedAt,
        });
      };
      let changes = 0;
      /**
       * A change of a line's open part (a clawback line's if it has none): `units` signed minor units of its
       * outstanding, then `update`; forgotten as the balances projection forgets it, and recorded.
       */
      const changeLine = (
        kind: LineChangeKind,
        lineId: string,
        line: LineFact,
        units: bigint,
        update: (open: OpenLineFact) => void = () => {},
      ): void => {
        const open = line.open ?? { remaining: '0', held: false, inPayouts: 0, payableAt: '' };
        open.remaining = (BigInt(open.remaining) + units).toString();
        update(open);
        line.open = open.remaining === '0' && open.inPayouts === 0 ? null : open;
        lineTouched(lineId);
        changes += 1;
        (tracker?.lineChanges ?? state.lineChanges).push({
          position: event.position,
          change: changes,
          kind,
          lineId,
          partnerId: line.partnerId,
          currency: line.currency,
          amount: formatMinorUnits(units, line.currency),
          held: open.held,
          status: statusOf(line),
          holdReason: line.holdReason,
          payableAt: open.payableAt === '' ? null : open.payableAt,
          effectiveAt: event.occurredAt,
          recordedAt: event.recordedAt,
        });
      };
      switch (event.type) {
        case 'PartnerJoined': {
          const d = event.data;
          partnerTouched(d.partnerId);
          state.partners[d.partnerId] = {
            partnerType: d.partnerType,
            planId: d.planId,
            parentPartnerId: d.parentPartnerId,
            payoutCurrency: d.payoutCurrency,
            tier: null,
            status: 'active',
            joinedAt: event.occurredAt,
            joinedRecordedAt: event.recordedAt,
            changedAt: event.occurredAt,
            changedRecordedAt: event.recordedAt,
            position: event.position,
          };
          break;
        }
        case 'PartnerTierChanged':
        case 'PartnerStatusChanged': {
          const partner = state.partners[event.data.partnerId];
          if (partner === undefined) break;
          partnerTouched(event.data.partnerId);
          if (event.type === 'PartnerTierChanged') partner.tier = event.data.tier;
          else partner.status = event.data.status;
          touch(partner, event);
          partner.position = event.position;
          break;
        }
        case 'ConversionAttributed':
          for (const l of event.data.commissions) {
            move('accrual', l.partnerId, l.currency, minor(l.amount, l.currency), l.lineId);
            lineTouched(l.lineId);
            state.lines[l.lineId] = {
              partnerId: l.partnerId,
              conversionId: event.data.conversionId,
              planId: l.planId,
              planVersion: l.planVersion,
              rule: l.rule,
              tier: l.tier,
              rate: l.rate,
              base: l.base,
              amount: minor(l.amount, l.currency).toString(),
              currency: l.currency,
              payableAt: l.payableAt,
              overrideOf: l.overrideOf,
              earnedAt: event.occurredAt,
              recordedAt: event.recordedAt,
              position: event.position,
              held: l.status === 'held',
              holdReason: l.holdReason,
              rejected: false,
              reversed: '0',
              settlements: {},
              changedAt: event.occurredAt,
              changedRecordedAt: event.recordedAt,
              open: null,
            };
            // As the balances projection keeps it: a line of no amount is none of its open lines.
            const units = minor(l.amount, l.currency);
            if (units > 0n)
              changeLine('accrual', l.lineId, state.lines[l.lineId]!, units, (open) => {
                open.held = l.status === 'held';
                open.payableAt = l.payableAt;
              });
          }
          break;
        case 'ConversionReversed':
          for (const l of event.data.lines) {
            const line = state.lines[l.lineId];
            // As the balances projection counts it: a rejected line has nothing left to take back.
            if (line?.rejected !== true)
              move('reversal', l.partnerId, l.currency, -minor(l.amount, l.currency), l.lineId);
            if (line === undefined) continue;
            lineTouched(l.lineId);
            line.reversed = (BigInt(line.reversed) + minor(l.amount, l.currency)).toString();
            touch(line, event);
            if (!line.rejected) changeLine('reversal', l.lineId, line, -minor(l.amount, l.currency));
          }
          break;
        case 'CommissionHeld':
        case 'CommissionReleased':
        case 'CommissionRejected': {
          const line = state.lines[event.data.lineId];
          if (line === undefined) break;
          lineTouched(event.data.lineId);
          if (event.type === 'CommissionHeld') {
            line.held = true;
            line.holdReason = event.data.reason;
          } else if (event.type === 'CommissionReleased') line.held = false;
          else {
            // Whatever is outstanding goes (a clawback outstanding is cancelled: a movement up), as the
            // balances projection counts it: a line it has forgotten (paid in full, a clawback recovered) moves
            // nothing.
            if (line.open !== null)
              move(
                'rejection',
                line.partnerId,
                line.currency,
                -BigInt(line.open.remaining),
                event.data.lineId,
              );
            line.held = false;
            line.rejected = true;
          }
          touch(line, event);
          // The balances projection holds, releases and rejects only the lines it keeps open.
          if (line.open !== null) {
            const held = event.type === 'CommissionHeld';
            if (event.type === 'CommissionRejected')
              changeLine('rejection', event.data.lineId, line, -BigInt(line.open.remaining), (open) => {
                open.held = false;
              });
            else
              changeLine(held ? 'hold' : 'release', event.data.lineId, line, 0n, (open) => {
                open.held = held;
              });
          }
          break;
        }
        case 'ManualAdjustmentRecorded': {
          const d = event.data;
          move('adjustment', d.partnerId, d.currency, minor(d.amount, d.currency), d.adjustmentId);
          break;
        }
        case 'PayoutIssued': {
          const d = event.data;
          move('payout', d.partnerId, d.currency, -minor(d.amount, d.currency), d.payoutId);
          const lineIds: string[] = [];
          for (const item of event.data.settles) {
            if (item.kind !== 'commission') continue;
            const line = state.lines[item.id];
            if (line === undefined) continue;
            lineTouched(item.id);
            const before = BigInt(line.settlements[event.data.payoutId] ?? '0');
            line.settlements[event.data.payoutId] = (
              before + minor(item.amount, event.data.currency)
            ).toString();
            touch(line, event);
            lineIds.push(item.id);
          }
          // As the balances projection counts a payout: every item but adjustments (a `reversal` item
          // recovers a clawback) taken from the line it keeps open; then the payout before it can no longer
          // fail, and a line it settled in full is forgotten.
          const openItems: Array<[string, string]> = [];
          for (const item of event.data.settles) {
            const line = item.kind === 'adjustment' ? undefined : state.lines[item.id];
            if (line === undefined || line.open === null) continue;
            const units = minor(item.amount, event.data.currency);
            changeLine('payout', item.id, line, -units, (open) => {
              open.inPayouts += 1;
            });
            openItems.push([item.id, units.toString()]);
          }
          for (const [lineId] of state.lastPayout[event.data.partnerId]?.openItems ?? []) {
            const line = state.lines[lineId];
            if (line === undefined || line.open === null) continue;
            line.open.inPayouts -= 1;
            if (line.open.remaining === '0' && line.open.inPayouts === 0) line.open = null;
            lineTouched(lineId);
          }
          state.lastPayout[event.data.partnerId] = { payoutId: event.data.payoutId, lineIds, openItems };
          tracker?.lastPayouts.add(event.data.partnerId);
          state.payouts[event.data.payoutId] = {
            recordedAt: event.recordedAt,
            failedAt: null,
            failedRecordedAt: null,
          };
          tracker?.payouts.add(event.data.payoutId);
          break;
        }
        case 'PayoutFailed': {
          const d = event.data;
          move('payout_failed', d.partnerId, d.currency, minor(d.amount, d.currency), d.payoutId);
          const payout = state.payouts[event.data.payoutId];
          if (payout !== undefined) {
            payout.failedAt = event.occurredAt;
            payout.failedRecordedAt = event.recordedAt;
            tracker?.payouts.add(event.data.payoutId);
          }
          // As the balances projection counts it: a failure of the partner's last payout puts its lines back.
          const last = state.lastPayout[event.data.partnerId];
          if (last === undefined || last.payoutId !== event.data.payoutId) break;
          for (const lineId of last.lineIds) {
            const line = state.lines[lineId];
            if (line === undefined) continue;
            lineTouched(lineId);
            delete line.settlements[event.data.payoutId];
            touch(line, event);
          }
          for (const [lineId, units] of last.openItems) {
            const line = state.lines[lineId];
            if (line === undefined || line.open === null) continue;
            changeLine('payout_failed', lineId, line, BigInt(units), (open) => {
              open.inPayouts -= 1;
            });
          }
          delete state.lastPayout[event.data.partnerId];
          tracker?.lastPayouts.add(event.data.partnerId);
          break;
        }
        default:
          break;
      }
      return state;
    },
    result: (state) => state,
  });
