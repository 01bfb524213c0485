// What the simulation's parts share while it runs: the partners, the pickers that weight them, the schedule
// of work to come, and the one way to run a command. The simulation builds it; the command mix (actions.ts)
// and the scheduled work (tasks.ts) act through it, so that all three draw from the same seeded generator in
// the same order as ever.
import type { CurrencyCode, PartnerType } from '@partner-ledger/events';
import type { CommandName, Ledger, LedgerRejection, Outcome } from '@partner-ledger/ledger';
import type { Heap } from './heap';
import type { PayableTracker } from './payable';
import type { Random } from './random';

/** What `run` returns instead of running a command once the ledger holds the events asked for. */
export const FULL = { full: true } as const;
export type RunResult = Outcome | LedgerRejection | typeof FULL;
export const isOutcome = (value: RunResult): value is Outcome => 'events' in value;
/** Schedules what follows a conversion the ledger was asked to record, given what it answered. */
export type AfterConversion = (outcome: RunResult, conversionId: string, amount: string) => void;

export interface SimPartner {
  readonly id: string;
  readonly type: PartnerType;
  readonly currency: CurrencyCode;
  readonly coupon: string | null;
  readonly ownAccount: string | null;
  planId: string;
  suspended: boolean;
  tier: number;
}

export interface Subscription {
  /** The conversion that started it: renewals are named after it. */
  readonly origin: string;
  readonly customerId: string;
  readonly amount: string;
  readonly currency: CurrencyCode;
  renewals: number;
}

export type Task =
  | {
      readonly kind: 'approveOrReject';
      readonly registrationId: string;
      readonly accountId: string;
      readonly expiresAt: number;
    }
  | {
      readonly kind: 'closeDeal';
      readonly registrationId: string;
      readonly accountId: string;
      readonly value: number;
      readonly expiresAt: number;
    }
  | { readonly kind: 'expire'; readonly registrationId: string; readonly accountId: string }
  | { readonly kind: 'renew'; readonly subscription: Subscription }
  | {
      readonly kind: 'reverse';
      readonly conversionId: string;
      readonly reversal: 'refund' | 'chargeback' | 'fraud';
      readonly amount: string | null;
    }
  | { readonly kind: 'hold'; readonly conversionId: string; readonly lineId: string }
  | { readonly kind: 'review'; readonly conversionId: string; readonly lineId: string }
  | { readonly kind: 'payouts' }
  | { readonly kind: 'payoutFailure'; readonly payoutId: string; readonly partnerId: string }
  | { readonly kind: 'reactivate'; readonly partnerId: string }
  | { readonly kind: 'monthEnd' }
  | { readonly kind: 'publishPlanV2' };

export interface SimulationWorld {
  readonly random: Random;
  /** Runs one command through the ledger and counts it; FULL once the ledger holds the events asked for. */
  readonly run: <N extends CommandName>(name: N, input: Parameters<Ledger[N]>[0]) => Promise<RunResult>;
  /** The simulated clock (ms since the epoch): it moves forward as the events accumulate. */
  readonly now: () => number;
  readonly startMs: number;
  readonly tasks: Heap<Task>;
  /** The next id with this prefix, numbered across the whole simulation. */
  readonly next: (prefix: string) => string;
  readonly tracker: PayableTracker;
  readonly partners: readonly SimPartner[];
  readonly clickPartner: () => SimPartner | undefined;
  readonly couponPartner: () => SimPartner | undefined;
  readonly dealPartner: () => SimPartner | undefined;
  readonly influencePartner: () => SimPartner | undefined;
  readonly anyPartner: () => SimPartner | undefined;
  /** The open deal registration of an account, by account id: one at a time. */
  readonly activeRegistration: Map<string, string>;
  /** How many accounts deals, invoices and influence touches are spread over. */
  readonly accounts: number;
}
