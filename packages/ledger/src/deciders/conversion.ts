import * as E from 'fp-ts/Either';
import { LedgerDecimal, formatAmount } from '@partner-ledger/events';
import type { DecimalString, EventData } from '@partner-ledger/events';
import { alreadyRecorded, append } from '../decider';
import type { Decider } from '../decider';
import { eventIdFor, lineIdFor } from '../naming';
import { reject } from '../rejection';
import type { LedgerRejection, LedgerRejectionCode } from '../rejection';
import { attribute, rateCommissions, reverseConversion } from '../rules';
import type { PeriodStats, PlanVersion, RatedPartner, RatingError, Touch } from '../rules';
import { secondsBetween } from '../time';
import type { ProgramSettings } from './program';
import type { Resolved } from './common';
import { sameJson, sameTime } from './common';
import type { LineStatus } from './balance';

export type ConversionData = EventData<'ConversionAttributed'>;

/** A conversion's stream, `conversion-<id>`: its attribution, its reversals and the review of its lines. */
export interface ConversionState {
  readonly revision: number;
  readonly attributed: {
    readonly data: ConversionData;
    readonly at: string;
    readonly eventId: string;
  } | null;
  readonly reversals: Readonly<
    Record<
      string,
      { readonly data: EventData<'ConversionReversed'>; readonly at: string; readonly eventId: string }
    >
  >;
  readonly reversedAmount: string;
  readonly reversedLines: Readonly<Record<string, string>>;
  readonly reversedCredits: Readonly<Record<string, string>>;
  readonly lineStatus: Readonly<Record<string, LineStatus>>;
  /** Every hold, release and rejection, by event id: a repeated review finds itself here. */
  readonly reviews: Readonly<Record<string, Review>>;
}

/** A hold, release or rejection as recorded. */
interface Review {
  readonly type: 'CommissionHeld' | 'CommissionReleased' | 'CommissionRejected';
  readonly lineId: string;
  readonly text: string | null;
  readonly at: string;
}

const REVIEW_TYPES = {
  holdCommission: 'CommissionHeld',
  releaseCommission: 'CommissionReleased',
  rejectCommission: 'CommissionRejected',
} as const;

/** What recording a conversion needs from other streams, gathered by the handler before deciding. */
export interface ConversionFacts {
  readonly settings: ProgramSettings;
  /** Every touch on the visitor and the account, the coupon's, approved registrations. */
  readonly touches: readonly Touch[];
  /** Renewals: the partner the customer is bound to. */
  readonly customerBinding: { readonly partnerId: string } | null;
  readonly customerFirstConversionAt: string | null;
  /** Every partner that touched the conversion and the parents of those, as they were at its time. */
  readonly partners: Readonly<Record<string, RatedPartner & { readonly ownAccountIds: readonly string[] }>>;
  /** The version of each of their plans in effect at the conversion time. */
  readonly plans: Readonly<Record<string, PlanVersion>>;
  /** Period figures before this conversion, by `periodStatsKey`. */
  readonly periodStats: Readonly<Record<string, PeriodStats>>;
}

export const periodStatsKey = (partnerId: string, planId: string, period: string): string =>
  JSON.stringify([partnerId, planId, period]);

const NO_STATS: PeriodStats = {
  revenue: '0' as DecimalString,
  conversions: 0,
  commission: '0' as DecimalString,
};

export type ConversionCommand =
  | Resolved<'recordConversion', ConversionFacts>
  | Resolved<'reverseConversion'>
  | Resolved<'holdCommission', { readonly lineSettled: boolean }>
  | Resolved<'releaseCommission'>
  | Resolved<'rejectCommission', { readonly lineSettled: boolean }>;

const RATING_CODES: Readonly<Record<RatingError['code'], LedgerRejectionCode>> = {
  FX_RATE_MISSING: 'FX_RATE_MISSING',
  FX_RATE_AMBIGUOUS: 'FX_RATE_AMBIGUOUS',
  FX_RATE_AFTER_CONVERSION: 'FX_RATE_AFTER_CONVERSION',
  PLAN_MISSING: 'PLAN_NOT_FOUND',
  PLAN_NOT_EFFECTIVE: 'PLAN_NOT_FOUND',
  PARTNER_MISSING: 'RATING_FAILED',
  REVERSAL_AMOUNT_INVALID: 'REVERSAL_AMOUNT_INVALID',
  REVERSAL_EXCEEDS_REMAINING: 'REVERSAL_EXCEEDS_REMAINING',
  NOTHING_LEFT_TO_REVERSE: 'NOTHING_LEFT_TO_REVERSE',
  REVERSAL_HISTORY_INCONSISTENT: 'RATING_FAILED',
};

const fromRatingError = (error: RatingError): LedgerRejection =>
  reject(RATING_CODES[error.code], error.message, { field: error.field });

/** The inputs a repeat of the command must match: everything the caller said about the conversion. */
const conversionInput = (data: {
  customerId: string;
  accountId: string | null;
  visitorId: string | null;
  kind: string;
  amount: string;
  currency: string;
  couponCode: string | null;
  fx: readonly unknown[];
}) => ({
  customerId: data.customerId,
  accountId: data.accountId,
  visitorId: data.visitorId,
  kind: data.kind,
  amount: data.amount,
  currency: data.currency,
  couponCode: data.couponCode,
  fx: data.fx,
});

/**
 * Fraud signals that put every line of the conversion on hold for review (never drop it): a credited
 * partner converting its own account (self-referral), or a credited click too soon before the conversion.
 */
export const holdReasons = (
  command: Resolved<'recordConversion', ConversionFacts>,
  credits: ConversionData['credits'],
): string[] => {
  const reasons: string[] = [];
  const touches = new Map(command.facts.touches.map((touch) => [`${touch.kind}:${touch.touchId}`, touch]));
  const minimum = command.facts.settings.minClickToConversionSeconds;
  for (const credit of credits) {
    const partner = command.facts.partners[credit.partnerId];
    const own = partner?.ownAccountIds ?? [];
    const ownAccount = [command.accountId ?? null, command.customerId].find(
      (id): id is string => id !== null && own.includes(id),
    );
    if (ownAccount !== undefined)
      reasons.push(`selfReferral: partner ${credit.partnerId} owns account ${ownAccount}`);
    for (const touchId of credit.touchIds) {
      const click = touches.get(`click:${touchId}`);
      if (click === undefined) continue;
      const seconds = secondsBetween(click.at, command.at);
      if (seconds < minimum)
        reasons.push(
          `clickToConversionTooShort: click ${touchId} of partner ${credit.partnerId} was ${seconds}s before the conversion (minimum ${minimum}s)`,
        );
    }
  }
  return reasons;
};

const decideRecord = (command: Resolved<'recordConversion', ConversionFacts>, state: ConversionState) => {
  const input = conversionInput({
    customerId: command.customerId,
    accountId: command.accountId ?? null,
    visitorId: command.visitorId ?? null,
    kind: command.kind,
    amount: command.amount,
    currency: command.currency,
    couponCode: command.couponCode ?? null,
    fx: command.fx ?? [],
  });
  if (state.attributed !== null)
    return sameJson(conversionInput(state.attributed.data), input) && sameTime(command, state.attributed.at)
      ? E.right(alreadyRecorded(state.attributed.eventId))
      : E.left(
          reject(
            'IDEMPOTENCY_CONFLICT',
            `Conversion ${JSON.stringify(command.conversionId)} was recorded with other details`,
            {
              field: 'conversionId',
            },
          ),
        );
  const { facts } = command;
  const attribution = attribute({
    amount: command.amount,
    currency: command.currency,
    occurredAt: command.at,
    settings: facts.settings.attribution,
    touches: facts.touches,
    customerBinding: facts.customerBinding,
    isRenewal: command.kind === 'renewal',
  });
  const reasons = holdReasons(command, attribution.credits);
  const lines = rateCommissions({
    conversionId: command.conversionId,
    occurredAt: command.at,
    kind: command.kind,
    currency: command.currency,
    credits: attribution.credits,
    partners: new Map(Object.entries(facts.partners)),
    plans: new Map(Object.entries(facts.plans)),
    fx: input.fx as ConversionData['fx'],
    periodStats: (partnerId, planId, period) =>
      facts.periodStats[periodStatsKey(partnerId, planId, period)] ?? NO_STATS,
    customerFirstConversionAt: facts.customerFirstConversionAt,
    hold: { reasons },
    nextLineId: (partnerId, index) => lineIdFor(command.conversionId, partnerId, index),
  });
  if (E.isLeft(lines)) return E.left(fromRatingError(lines.left));
  const data: ConversionData = {
    conversionId: command.conversionId,
    customerId: input.customerId,
    accountId: input.accountId,
    visitorId: input.visitorId,
    kind: command.kind,
    amount: command.amount,
    currency: command.currency,
    couponCode: input.couponCode,
    attribution: {
      basis: attribution.basis,
      model: facts.settings.attribution.model,
      clickWindowDays: facts.settings.attribution.clickWindowDays,
      halfLifeDays: facts.settings.attribution.halfLifeDays,
      registrationId: attribution.registrationId,
    },
    credits: attribution.credits,
    influencers: attribution.influencers,
    fx: input.fx as ConversionData['fx'],
    commissions: lines.right,
  };
  return E.right(
    append({
      id: eventIdFor('ConversionAttributed', command.conversionId),
      type: 'ConversionAttributed',
      data,
      occurredAt: command.at,
    }),
  );
};

/**
 * A reversal or a review dated before the conversion it acts on: replayed as of a moment in between, the
 * ledger would hold a reversal (negative revenue, a commission taken back that was never earned) or a review
 * of a line that does not exist yet. Checked after the repeat checks, so a repeat stays a repeat.
 */
const beforeConversion = (
  command: { readonly conversionId: string; readonly at: string },
  conversionAt: string,
  what: string,
): LedgerRejection =>
  reject(
    'OCCURRED_BEFORE_SUBJECT',
    `The ${what} occurred at ${command.at}, before conversion ${JSON.stringify(command.conversionId)} did (${conversionAt})`,
    { field: 'occurredAt' },
  );

const decideReverse = (command: Resolved<'reverseConversion'>, state: ConversionState) => {
  const attributed = state.attributed!;
  const existing = state.reversals[command.reversalId];
  if (existing !== undefined) {
    const same =
      existing.data.kind === command.kind &&
      existing.data.reason === (command.reason ?? null) &&
      (command.amount === undefined || existing.data.amount === command.amount) &&
      sameTime(command, existing.at);
    return same
      ? E.right(alreadyRecorded(existing.eventId))
      : E.left(
          reject(
            'IDEMPOTENCY_CONFLICT',
            `Reversal ${JSON.stringify(command.reversalId)} was recorded with other details`,
            {
              field: 'reversalId',
            },
          ),
        );
  }
  if (command.at < attributed.at) return E.left(beforeConversion(command, attributed.at, 'reversal'));
  const currency = attributed.data.currency;
  const remaining = new LedgerDecimal(attributed.data.amount).minus(state.reversedAmount);
  const amount = command.amount ?? formatAmount(remaining, currency);
  const decision = reverseConversion({
    original: attributed.data,
    reversedSoFar: {
      amount: formatAmount(new LedgerDecimal(state.reversedAmount), currency),
      lines: new Map(Object.entries(state.reversedLines) as [string, DecimalString][]),
      credits: new Map(Object.entries(state.reversedCredits) as [string, DecimalString][]),
    },
    amount: amount as DecimalString,
  });
  if (E.isLeft(decision)) return E.left(fromRatingError(decision.left));
  return E.right(
    append({
      id: eventIdFor('ConversionReversed', command.reversalId),
      type: 'ConversionReversed',
      data: {
        reversalId: command.reversalId,
        conversionId: command.conversionId,
        customerId: attributed.data.customerId,
        kind: command.kind,
        amount,
        currency,
        credits: decision.right.credits,
        lines: decision.right.lines,
        reason: command.reason ?? null,
      },
      occurredAt: command.at,
    }),
  );
};

const decideReview = (
  command:
    | Resolved<'holdCommission', { readonly lineSettled: boolean }>
    | Resolved<'releaseCommission'>
    | Resolved<'rejectCommission', { readonly lineSettled: boolean }>,
  state: ConversionState,
) => {
  const type = REVIEW_TYPES[command.command];
  const text = command.command === 'releaseCommission' ? (command.note ?? null) : command.reason;
  // The review's identity: its requestId (across the three kinds, so that one id names one review), else its
  // occurredAt when the caller gave one, else none (the event id then only has to be unique).
  const id =
    command.requestId !== undefined
      ? eventIdFor('CommissionReview', command.conversionId, command.lineId, 'request', command.requestId)
      : command.atGiven
        ? eventIdFor(type, command.conversionId, command.lineId, 'at', command.at)
        : eventIdFor(type, command.conversionId, command.lineId, state.revision + 1);
  const repeated = state.reviews[id];
  if (repeated !== undefined && (command.requestId !== undefined || command.atGiven)) {
    const same =
      repeated.type === type &&
      repeated.lineId === command.lineId &&
      repeated.text === text &&
      sameTime(command, repeated.at);
    return same
      ? E.right(alreadyRecorded(id))
      : E.left(
          reject(
            'IDEMPOTENCY_CONFLICT',
            command.requestId !== undefined
              ? `Review request ${JSON.stringify(command.requestId)} was recorded with other details`
              : `A review of line ${JSON.stringify(command.lineId)} at ${command.at} was recorded with other details`,
            { field: command.requestId !== undefined ? 'requestId' : 'occurredAt' },
          ),
        );
  }
  if (command.at < state.attributed!.at)
    return E.left(beforeConversion(command, state.attributed!.at, 'review'));
  const line = state.attributed!.data.commissions.find((l) => l.lineId === command.lineId);
  const status = state.lineStatus[command.lineId];
  if (line === undefined || status === undefined)
    return E.left(
      reject(
        'LINE_NOT_FOUND',
        `Conversion ${JSON.stringify(command.conversionId)} has no commission line ${JSON.stringify(command.lineId)}`,
        {
          field: 'lineId',
        },
      ),
    );
  const refuse = (code: LedgerRejectionCode, why: string) =>
    E.left(reject(code, `Commission line ${JSON.stringify(command.lineId)} ${why}`, { field: 'lineId' }));
  if (status === 'rejected') return refuse('LINE_ALREADY_REJECTED', 'was rejected: that is final');
  if (command.command !== 'releaseCommission' && command.facts.lineSettled)
    return refuse('LINE_ALREADY_SETTLED', 'was paid out: reverse the conversion instead');
  const ref = { lineId: line.lineId, partnerId: line.partnerId, conversionId: command.conversionId };
  const at = command.at;
  switch (command.command) {
    case 'holdCommission':
      if (status !== 'pending') return refuse('LINE_NOT_PENDING', 'is already held');
      return E.right(
        append({
          id,
          type: 'CommissionHeld',
          data: { ...ref, reason: command.reason },
          occurredAt: at,
        }),
      );
    case 'releaseCommission':
      if (status !== 'held') return refuse('LINE_NOT_HELD', 'is not held');
      return E.right(
        append({
          id,
          type: 'CommissionReleased',
          data: { ...ref, note: command.note ?? null },
          occurredAt: at,
        }),
      );
    case 'rejectCommission':
      return E.right(
        append({
          id,
          type: 'CommissionRejected',
          data: { ...ref, reason: command.reason },
          occurredAt: at,
        }),
      );
  }
};

const review = (type: Review['type'], lineId: string, text: string | null, at: string): Review => ({
  type,
  lineId,
  text,
  at,
});

/** The status a review gives its line. */
const REVIEWED_STATUS = {
  CommissionHeld: 'held',
  CommissionReleased: 'pending',
  CommissionRejected: 'rejected',
} as const satisfies Record<Review['type'], LineStatus>;

const plusString = (a: string | undefined, b: string): string =>
  new LedgerDecimal(a ?? '0').plus(b).toFixed();

export const conversionDecider: Decider<ConversionCommand, ConversionState> = {
  initialState: {
    revision: -1,
    attributed: null,
    reversals: {},
    reversedAmount: '0',
    reversedLines: {},
    reversedCredits: {},
    lineStatus: {},
    reviews: {},
  },
  evolveDraft: (draft, event) => {
    switch (event.type) {
      case 'ConversionAttributed':
        draft.attributed = { data: event.data, at: event.occurredAt, eventId: event.id };
        for (const line of event.data.commissions) draft.lineStatus[line.lineId] = line.status;
        break;
      case 'ConversionReversed':
        draft.reversals[event.data.reversalId] = {
          data: event.data,
          at: event.occurredAt,
          eventId: event.id,
        };
        draft.reversedAmount = plusString(draft.reversedAmount, event.data.amount);
        for (const line of event.data.lines)
          draft.reversedLines[line.lineId] = plusString(draft.reversedLines[line.lineId], line.amount);
        for (const credit of event.data.credits)
          draft.reversedCredits[credit.partnerId] = plusString(
            draft.reversedCredits[credit.partnerId],
            credit.revenueCredit,
          );
        break;
      case 'CommissionHeld':
        draft.lineStatus[event.data.lineId] = 'held';
        draft.reviews[event.id] = review(event.type, event.data.lineId, event.data.reason, event.occurredAt);
        break;
      case 'CommissionReleased':
        draft.lineStatus[event.data.lineId] = 'pending';
        draft.reviews[event.id] = review(event.type, event.data.lineId, event.data.note, event.occurredAt);
        break;
      case 'CommissionRejected':
        draft.lineStatus[event.data.lineId] = 'rejected';
        draft.reviews[event.id] = review(event.type, event.data.lineId, event.data.reason, event.occurredAt);
        break;
      default:
        return;
    }
    draft.revision = event.revision;
  },
  // Without a draft (see Decider.evolve): a conversion's stream is folded again for each reversal and review
  // of it, a few events at a time, where immer's finishing walk over the event data costs more than copying
  // the few small records an event changes.
  evolve: (state, event) => {
    switch (event.type) {
      case 'ConversionAttributed': {
        const lineStatus = { ...state.lineStatus };
        for (const line of event.data.commissions) lineStatus[line.lineId] = line.status;
        return {
          ...state,
          attributed: { data: event.data, at: event.occurredAt, eventId: event.id },
          lineStatus,
          revision: event.revision,
        };
      }
      case 'ConversionReversed': {
        const reversedLines = { ...state.reversedLines };
        for (const line of event.data.lines)
          reversedLines[line.lineId] = plusString(reversedLines[line.lineId], line.amount);
        const reversedCredits = { ...state.reversedCredits };
        for (const credit of event.data.credits)
          reversedCredits[credit.partnerId] = plusString(
            reversedCredits[credit.partnerId],
            credit.revenueCredit,
          );
        return {
          ...state,
          reversals: {
            ...state.reversals,
            [event.data.reversalId]: { data: event.data, at: event.occurredAt, eventId: event.id },
          },
          reversedAmount: plusString(state.reversedAmount, event.data.amount),
          reversedLines,
          reversedCredits,
          revision: event.revision,
        };
      }
      case 'CommissionHeld':
      case 'CommissionReleased':
      case 'CommissionRejected': {
        const status = REVIEWED_STATUS[event.type];
        const text = event.type === 'CommissionReleased' ? event.data.note : event.data.reason;
        return {
          ...state,
          lineStatus: { ...state.lineStatus, [event.data.lineId]: status },
          reviews: {
            ...state.reviews,
            [event.id]: review(event.type, event.data.lineId, text, event.occurredAt),
          },
          revision: event.revision,
        };
      }
      default:
        return state;
    }
  },
  decide: (command, state) => {
    if (command.command === 'recordConversion') return decideRecord(command, state);
    if (state.attributed === null)
      return E.left(
        reject(
          'CONVERSION_NOT_FOUND',
          `No conversion ${JSON.stringify(command.conversionId)} has been recorded`,
          {
            field: 'conversionId',
          },
        ),
      );
    if (command.command === 'reverseConversion') return decideReverse(command, state);
    return decideReview(command, state);
  },
};
