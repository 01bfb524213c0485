import { toMinorUnits } from '@partner-ledger/events';
import type { CurrencyCode, LedgerEvent } from '@partner-ledger/events';
import { createHeap } from './heap';

/**
 * What the simulation needs to know to pay partners: each partner's payable balance per currency, kept from
 * the events the ledger returns, by the ledger's rule (lines pending and past payableAt, plus adjustments,
 * less payouts; reversals reduce it, even below zero). Memory stays bounded: only lines still in their hold
 * period or held for review are kept one by one; once payable, a line only adds to its partner's sum.
 * The ledger remains the judge: a payout it refuses is counted by the simulation, never forced.
 */
export interface PayableTracker {
  /** Folds in the events of one command. */
  record(events: readonly LedgerEvent[]): void;
  /** Moves lines whose payableAt <= at into the payable sums. Call with non-decreasing times. */
  matureUpTo(at: string): void;
  /** Partner, currency and payable minor units of every positive balance, in a stable order. */
  balances(): Array<{ partnerId: string; currency: CurrencyCode; minor: bigint }>;
}

interface OpenLine {
  readonly partnerId: string;
  readonly currency: CurrencyCode;
  readonly payableAt: string;
  remaining: bigint;
  held: boolean;
  matured: boolean;
}

export const createPayableTracker = (): PayableTracker => {
  const payable = new Map<string, bigint>();
  /** Lines not yet payable (in their hold period) or held for review. */
  const open = new Map<string, OpenLine>();
  const queue = createHeap<string>();
  const rejected = new Set<string>();
  const key = (partnerId: string, currency: string): string => `${partnerId}\u0000${currency}`;
  const add = (partnerId: string, currency: string, minor: bigint): void => {
    const k = key(partnerId, currency);
    payable.set(k, (payable.get(k) ?? 0n) + minor);
  };
  let maturedUpTo = '';

  const mature = (lineId: string, line: OpenLine): void => {
    add(line.partnerId, line.currency, line.remaining);
    open.delete(lineId);
  };

  return {
    record(events) {
      for (const event of events) {
        switch (event.type) {
          case 'ConversionAttributed':
            for (const line of event.data.commissions) {
              const state: OpenLine = {
                partnerId: line.partnerId,
                currency: line.currency,
                payableAt: line.payableAt,
                remaining: toMinorUnits(line.amount, line.currency),
                held: line.status === 'held',
                matured: false,
              };
              open.set(line.lineId, state);
              queue.push(line.payableAt, line.lineId);
            }
            break;
          case 'ConversionReversed':
            for (const line of event.data.lines) {
              const minor = toMinorUnits(line.amount, line.currency);
              const state = open.get(line.lineId);
              if (state !== undefined) state.remaining -= minor;
              else if (!rejected.has(line.lineId)) add(line.partnerId, line.currency, -minor);
            }
            break;
          case 'CommissionHeld': {
            const state = open.get(event.data.lineId);
            if (state !== undefined) state.held = true;
            break;
          }
          case 'CommissionReleased': {
            const state = open.get(event.data.lineId);
            if (state === undefined) break;
            state.held = false;
            if (state.payableAt <= maturedUpTo) mature(event.data.lineId, state);
            break;
          }
          case 'CommissionRejected':
            open.delete(event.data.lineId);
            rejected.add(event.data.lineId);
            break;
          case 'ManualAdjustmentRecorded':
            add(
              event.data.partnerId,
              event.data.currency,
              toMinorUnits(event.data.amount, event.data.currency),
            );
            break;
          case 'PayoutIssued':
            add(
              event.data.partnerId,
              event.data.currency,
              -toMinorUnits(event.data.amount, event.data.currency),
            );
            break;
          case 'PayoutFailed':
            add(
              event.data.partnerId,
              event.data.currency,
              toMinorUnits(event.data.amount, event.data.currency),
            );
            break;
          default:
            break;
        }
      }
    },
    matureUpTo(at) {
      maturedUpTo = at;
      for (let next = queue.peekKey(); next !== undefined && next <= at; next = queue.peekKey()) {
        const lineId = queue.pop()!.value;
        const state = open.get(lineId);
        if (state === undefined || state.matured) continue;
        state.matured = true;
        // A held line waits for its review; its release makes it payable.
        if (!state.held) mature(lineId, state);
      }
    },
    balances() {
      return [...payable.entries()]
        .filter(([, minor]) => minor > 0n)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, minor]) => {
          const [partnerId, currency] = k.split('\u0000') as [string, CurrencyCode];
          return { partnerId, currency, minor };
        });
    },
  };
};
