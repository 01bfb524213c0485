import type { Draft } from 'immer';
import type { LedgerDecimal, LedgerEvent } from '@partner-ledger/events';
import { balanceDecider, initialBalanceState, payableBalance } from './deciders/balance';
import type { BalanceState } from './deciders/balance';
import { partnersOf } from './view';

/** A payout as a {@link BalanceBook} knows it: what was issued, and whether it was confirmed or failed. */
export interface BookedPayout {
  readonly payoutId: string;
  readonly partnerId: string;
  readonly amount: string;
  readonly currency: string;
  readonly method: string;
  readonly externalReference: string | null;
  /** When it was issued (its occurredAt). */
  readonly issuedAt: string;
  /** Set when the provider confirmed it (PayoutConfirmed). */
  readonly confirmed: { readonly providerReference: string | null; readonly at: string } | null;
  /** Set when it failed or was returned (PayoutFailed): its amount is payable again. */
  readonly failed: { readonly reason: string; readonly at: string } | null;
}

/**
 * Every partner's balance, folded from the events given to `apply` (in the store's order), by the very rules
 * the ledger decides payouts with: what is payable in a currency at a time, and each payout's state. For
 * payout runs and reconciliation, which read the whole log once.
 */
export interface BalanceBook {
  /** Applies one event; events that change no balance are ignored. */
  readonly apply: (event: LedgerEvent) => void;
  /** The partners that have a balance (lines, adjustments or payouts), in the order they first had one. */
  readonly partners: () => readonly string[];
  /** The currencies of a partner's lines, adjustments and payouts, sorted. */
  readonly currencies: (partnerId: string) => readonly string[];
  /** What is payable to the partner in `currency` at `at` (negative: what it owes back). */
  readonly payable: (partnerId: string, currency: string, at: string) => LedgerDecimal;
  /** The revision of the partner's `balance-<id>` stream (-1: none yet): it changes with every payout fact. */
  readonly revision: (partnerId: string) => number;
  /** A payout by its id, or undefined when none was issued with it. */
  readonly payout: (payoutId: string) => BookedPayout | undefined;
}

/** Makes an empty {@link BalanceBook}: apply the store's events to it, in order. */
export const createBalanceBook = (): BalanceBook => {
  const balances = new Map<string, Draft<BalanceState>>();
  const payoutOwner = new Map<string, string>();
  const stateOf = (partnerId: string): Draft<BalanceState> => {
    let state = balances.get(partnerId);
    if (state === undefined) {
      state = structuredClone(initialBalanceState(partnerId)) as Draft<BalanceState>;
      balances.set(partnerId, state);
    }
    return state;
  };
  return {
    apply: (event) => {
      if (event.type === 'PayoutIssued') payoutOwner.set(event.data.payoutId, event.data.partnerId);
      // In place, as the ledger's own view does: a draft per event would copy a partner's history each time.
      for (const partnerId of partnersOf(event)) balanceDecider.evolveDraft(stateOf(partnerId), event);
    },
    partners: () => [...balances.keys()],
    currencies: (partnerId) => {
      const state = balances.get(partnerId);
      if (state === undefined) return [];
      const found = new Set<string>();
      for (const line of Object.values(state.lines)) found.add(line.currency);
      for (const a of Object.values(state.adjustments)) found.add(a.data.currency);
      for (const p of Object.values(state.payouts)) found.add(p.data.currency);
      return [...found].sort();
    },
    payable: (partnerId, currency, at) =>
      payableBalance(balances.get(partnerId) ?? initialBalanceState(partnerId), currency, at),
    revision: (partnerId) => balances.get(partnerId)?.revision ?? -1,
    payout: (payoutId) => {
      const partnerId = payoutOwner.get(payoutId);
      const payout = partnerId === undefined ? undefined : balances.get(partnerId)?.payouts[payoutId];
      if (payout === undefined) return undefined;
      return {
        payoutId,
        partnerId: payout.data.partnerId,
        amount: payout.data.amount,
        currency: payout.data.currency,
        method: payout.data.method,
        externalReference: payout.data.externalReference,
        issuedAt: payout.at,
        confirmed:
          payout.confirmation === null
            ? null
            : { providerReference: payout.confirmation.providerReference, at: payout.confirmation.at },
        failed: payout.failure === null ? null : { reason: payout.failure.reason, at: payout.failure.at },
      };
    },
  };
};
