import type * as TE from 'fp-ts/TaskEither';
import type { LedgerEvent } from '@partner-ledger/events';
import type { CommandInput } from './commands';
import type { LedgerRejection } from './rejection';

// The ledger's methods, written out one by one so that each is documented (and listed by TypeDoc). A
// type test (ledger-api.type-test.ts) keeps this interface equal to "one method per command of COMMANDS".

/** What a command that was carried out comes to. */
export interface Outcome {
  /** The stream the decision was recorded in. */
  readonly stream: string;
  /** The events recorded for the command, as stored (the first result's, for a repeat). */
  readonly events: readonly LedgerEvent[];
  /** True when the command had already been carried out: nothing was appended this time. */
  readonly alreadyRecorded: boolean;
}

/**
 * Makes correlation ids for commands that bring none: a function, or an object with `next()`. Event ids
 * do not come from here: they are derived from each command's natural key, which makes a retry idempotent.
 */
export type IdGenerator =
  | (() => string)
  | {
      /** The next id. */
      readonly next: () => string;
    };

/**
 * Runs one command: call the returned task to run it. Right: the events recorded (or, for a command
 * already carried out, the events it recorded then, with `alreadyRecorded`). Left: a typed rejection
 * naming the rule and the field; a rejected command appends nothing.
 */
export type CommandHandler<N extends keyof LedgerCommandInputs> = (
  input: LedgerCommandInputs[N],
) => TE.TaskEither<LedgerRejection, Outcome>;

/** The input of each command: its codec's fields, without the `command` tag. */
export interface LedgerCommandInputs {
  configureProgram: CommandInput<'configureProgram'>;
  joinPartner: CommandInput<'joinPartner'>;
  publishPlan: CommandInput<'publishPlan'>;
  changePartnerPlan: CommandInput<'changePartnerPlan'>;
  changePartnerTier: CommandInput<'changePartnerTier'>;
  changePartnerContactDetails: CommandInput<'changePartnerContactDetails'>;
  changePartnerStatus: CommandInput<'changePartnerStatus'>;
  trackClick: CommandInput<'trackClick'>;
  recordInfluenceTouch: CommandInput<'recordInfluenceTouch'>;
  registerDeal: CommandInput<'registerDeal'>;
  approveDealRegistration: CommandInput<'approveDealRegistration'>;
  rejectDealRegistration: CommandInput<'rejectDealRegistration'>;
  extendDealRegistration: CommandInput<'extendDealRegistration'>;
  expireDealRegistration: CommandInput<'expireDealRegistration'>;
  recordConversion: CommandInput<'recordConversion'>;
  reverseConversion: CommandInput<'reverseConversion'>;
  holdCommission: CommandInput<'holdCommission'>;
  releaseCommission: CommandInput<'releaseCommission'>;
  rejectCommission: CommandInput<'rejectCommission'>;
  recordManualAdjustment: CommandInput<'recordManualAdjustment'>;
  issuePayout: CommandInput<'issuePayout'>;
  confirmPayout: CommandInput<'confirmPayout'>;
  recordPayoutFailure: CommandInput<'recordPayoutFailure'>;
}

/**
 * The write side of partner-ledger, as `createLedger` returns it: one method per command. Each method
 * returns an fp-ts `TaskEither`: nothing happens until you call it; then it decides the command against
 * the history of the streams it touches and appends the events it decides, or refuses it with a
 * {@link LedgerRejection} and appends nothing. Every command also takes the optional `occurredAt`
 * (default: the ledger's clock; never in the future), `actor`, `correlationId` and `causationId`.
 *
 * ```ts
 * const result = await ledger.trackClick({ clickId: 'c-1', partnerId: 'blog-1', visitorId: 'v-9' })();
 * if (E.isLeft(result)) console.error(result.left.code, result.left.field);
 * ```
 */
export interface Ledger {
  /** Records the program's settings (ProgramConfigured): reporting currency, attribution, minimum payout. */
  readonly configureProgram: CommandHandler<'configureProgram'>;
  /** A partner joins the program on a plan (PartnerJoined), with its coupon codes and own accounts. */
  readonly joinPartner: CommandHandler<'joinPartner'>;
  /** Publishes a version of a commission plan (CommissionPlanPublished), effective from `effectiveFrom`. */
  readonly publishPlan: CommandHandler<'publishPlan'>;
  /** Moves a partner to another plan from now on (PartnerPlanChanged); past commissions keep theirs. */
  readonly changePartnerPlan: CommandHandler<'changePartnerPlan'>;
  /** Records a partner's new tier, a label (PartnerTierChanged): plans, not tiers, decide rates. */
  readonly changePartnerTier: CommandHandler<'changePartnerTier'>;
  /**
   * Changes any of a partner's personal details: name, contact e-mail, payee details, tax id
   * (PartnerContactDetailsChanged); each given replaces the last. Personal data, sealed with the partner's
   * key when the ledger has a key store. A retry is recognised by its `requestId`, else its `occurredAt`,
   * else by repeating the partner's last change exactly (already recorded, nothing appended); details the
   * partner already has are refused with NO_CHANGE.
   */
  readonly changePartnerContactDetails: CommandHandler<'changePartnerContactDetails'>;
  /** Activates, suspends or terminates a partner (PartnerStatusChanged), with the reason. */
  readonly changePartnerStatus: CommandHandler<'changePartnerStatus'>;
  /** Records a click on a partner's link (ClickTracked); fingerprints are keyed HMACs, never raw values. */
  readonly trackClick: CommandHandler<'trackClick'>;
  /** Records a partner's influence on an account (InfluenceTouchRecorded): an integration, co-selling, ... */
  readonly recordInfluenceTouch: CommandHandler<'recordInfluenceTouch'>;
  /** A partner registers a deal on an account (DealRegistered); an account has one active registration. */
  readonly registerDeal: CommandHandler<'registerDeal'>;
  /** Approves a pending deal registration (DealRegistrationApproved): it now wins attribution. */
  readonly approveDealRegistration: CommandHandler<'approveDealRegistration'>;
  /** Rejects a pending deal registration, with the reason (DealRegistrationRejected). */
  readonly rejectDealRegistration: CommandHandler<'rejectDealRegistration'>;
  /** Moves a registration's expiry later (DealRegistrationExtended). */
  readonly extendDealRegistration: CommandHandler<'extendDealRegistration'>;
  /** Ends a registration whose expiry has passed (DealRegistrationExpired). */
  readonly expireDealRegistration: CommandHandler<'expireDealRegistration'>;
  /**
   * Records a paid order, invoice, renewal or closed-won deal (ConversionAttributed), with the attribution
   * and every commission line decided now, from the plan versions in force: never re-rated later.
   */
  readonly recordConversion: CommandHandler<'recordConversion'>;
  /** Reverses all or part of a conversion (ConversionReversed): refund, chargeback or fraud. */
  readonly reverseConversion: CommandHandler<'reverseConversion'>;
  /** Holds a commission line for review (CommissionHeld): it is not payable until released. */
  readonly holdCommission: CommandHandler<'holdCommission'>;
  /** Releases a held commission line (CommissionReleased): it becomes payable once its hold days pass. */
  readonly releaseCommission: CommandHandler<'releaseCommission'>;
  /** Rejects a commission line, with the reason (CommissionRejected): it will never be paid. */
  readonly rejectCommission: CommandHandler<'rejectCommission'>;
  /** Credits or debits a partner by hand (ManualAdjustmentRecorded); names the person who made it. */
  readonly recordManualAdjustment: CommandHandler<'recordManualAdjustment'>;
  /** Pays a partner (PayoutIssued): no more than is payable, and not below the minimum payout. */
  readonly issuePayout: CommandHandler<'issuePayout'>;
  /**
   * Records that the payout provider paid a payout (PayoutConfirmed): no balance changes. Refused for a
   * payout that failed; a payout returned after it was confirmed is recorded with `recordPayoutFailure`.
   */
  readonly confirmPayout: CommandHandler<'confirmPayout'>;
  /**
   * Records that a payout did not reach the partner, or was returned after it was paid (PayoutFailed): its
   * amount is payable again.
   */
  readonly recordPayoutFailure: CommandHandler<'recordPayoutFailure'>;
  /**
   * Decodes any command, tagged by `command` (`{ "command": "recordConversion", ... }`, as the CLI reads
   * NDJSON), and runs it; an input that does not decode is refused with INVALID_COMMAND naming the field.
   */
  readonly execute: (command: unknown) => TE.TaskEither<LedgerRejection, Outcome>;
}
