import * as t from 'io-ts';
import {
  Amount,
  Currency,
  Id,
  NonNegativeInteger,
  Ratio,
  SignedAmount,
  Text,
  Timestamp,
  nullable,
  oneOf,
  struct,
  withShape,
} from '../codec/primitives';
import { personal } from '../privacy/personal';
import { defineEvent, eachMoney, noMoney } from './define';
import { isId, isNullableText, isRecordOf, isSha256Hex } from './guards';
import {
  ATTRIBUTION_SOURCES,
  AttributionModel,
  AttributionSettings,
  CommissionCaps,
  CommissionLine,
  CommissionRule,
  HoldDays,
  PlanVersionNumber,
  Credit,
  Fingerprint,
  ForeignExchange,
  PartnerStatus,
  PartnerType,
} from './fields';

/** A program's settings, recorded once by `init` and changed only by a new ProgramConfigured. */
export const ProgramConfigured = defineEvent({
  type: 'ProgramConfigured',
  schemaVersion: 1,
  data: struct('ProgramConfigured data', {
    programId: Id,
    name: Text,
    /** The reporting currency. */
    currency: Currency,
    attribution: AttributionSettings,
    /** No payout below this amount, in the program currency. */
    minimumPayout: Amount,
    /** A conversion sooner than this after its click is put on hold for review. */
    minClickToConversionSeconds: NonNegativeInteger,
  }),
  money: (d) => [{ path: 'minimumPayout', amount: d.minimumPayout, currency: d.currency }],
});

/** Where a partner's payouts go: personal data, sealed with the partner's key (all but the method). */
export const PayeeDetails = struct(
  'payee details',
  { method: oneOf(['paypal', 'wise', 'manual'] as const) },
  {
    /** The PayPal (or other) e-mail address payouts are sent to. */
    email: personal('sealed', Text),
    accountHolderName: personal('sealed', Text),
    iban: personal('sealed', Text),
    wiseRecipientId: personal('sealed', Text),
  },
);

/** A partner's personal fields that may be given when it joins and changed later: all sealed. */
const PARTNER_CONTACT_FIELDS = {
  /** The address the program writes to. */
  contactEmail: personal('sealed', Text),
  /** Where payouts go. */
  payee: personal('sealed', PayeeDetails),
  /** A VAT number or other tax id. */
  taxId: personal('sealed', Text),
};

/**
 * A partner joined the program on a plan, with its type, payout currency, coupon codes, own accounts and (for
 * two-tier programs) its parent. Version 2 added the optional contact e-mail, payee details and tax id; the
 * name and those fields are personal data, sealed with the partner's key when the ledger has a key store.
 */
export const PartnerJoined = defineEvent({
  type: 'PartnerJoined',
  schemaVersion: 2,
  data: struct(
    'PartnerJoined data',
    {
      partnerId: Id,
      name: personal('sealed', Text),
      partnerType: PartnerType,
      planId: Id,
      /** The parent in a two-tier program, which earns an override on this partner's commissions. */
      parentPartnerId: nullable(Id),
      payoutCurrency: Currency,
      /** Coupon codes owned by the partner; a conversion that uses one is sourced by it. */
      couponCodes: t.array(Id),
      /** The partner's own customer accounts: a conversion by one of them is a self-referral. */
      ownAccountIds: t.array(Id),
    },
    PARTNER_CONTACT_FIELDS,
  ),
  money: noMoney,
});

/** A partner's name, contact e-mail, payee details or tax id changed: each field given replaces the last. */
export const PartnerContactDetailsChanged = defineEvent({
  type: 'PartnerContactDetailsChanged',
  schemaVersion: 1,
  data: struct(
    'PartnerContactDetailsChanged data',
    { partnerId: Id },
    { name: personal('sealed', Text), ...PARTNER_CONTACT_FIELDS },
  ),
  money: noMoney,
});

/**
 * A subject's personal data was erased: for a partner, its key was destroyed, so every sealed field of its
 * events reads as erased from then on; for a visitor, the request is recorded against its pseudonym (the
 * raw id was never stored). Who asked and why are kept; money and structure are untouched.
 */
export const PersonalDataErased = defineEvent({
  type: 'PersonalDataErased',
  schemaVersion: 1,
  data: struct('PersonalDataErased data', {
    subject: struct('an erased subject', {
      kind: oneOf(['partner', 'visitor'] as const),
      /** The partner's id, or the visitor's pseudonym. */
      id: Id,
    }),
    /** The key destroyed, or null when none was (a visitor's pseudonym key is shared). */
    keyId: nullable(Id),
    /** Who asked for the erasure (a reference to the request, not the person's name). */
    requestedBy: Text,
    reason: Text,
  }),
  money: noMoney,
});

/** A partner moved to another plan: conversions from then on are rated with it; earlier ones keep theirs. */
export const PartnerPlanChanged = defineEvent({
  type: 'PartnerPlanChanged',
  schemaVersion: 1,
  data: struct('PartnerPlanChanged data', { partnerId: Id, planId: Id, previousPlanId: Id }),
  money: noMoney,
});

/** A partner's tier changed (a label with its reason: plans, not tiers, decide rates). */
export const PartnerTierChanged = defineEvent({
  type: 'PartnerTierChanged',
  schemaVersion: 1,
  data: struct('PartnerTierChanged data', {
    partnerId: Id,
    tier: Text,
    previousTier: nullable(Text),
    reason: Text,
  }),
  money: noMoney,
});

/** A partner was activated, suspended or terminated, with the reason. */
export const PartnerStatusChanged = defineEvent({
  type: 'PartnerStatusChanged',
  schemaVersion: 1,
  data: struct('PartnerStatusChanged data', {
    partnerId: Id,
    status: PartnerStatus,
    previousStatus: PartnerStatus,
    reason: Text,
  }),
  money: noMoney,
});

/** A version of a commission plan. Plans are data: a change publishes a new version, history is never re-rated. */
export const CommissionPlanPublished = defineEvent({
  type: 'CommissionPlanPublished',
  schemaVersion: 1,
  data: struct('CommissionPlanPublished data', {
    planId: Id,
    version: PlanVersionNumber,
    name: Text,
    currency: Currency,
    /** Days a commission stays pending before it becomes payable. */
    holdDays: HoldDays,
    /** Conversions from this time on are rated with this version. */
    effectiveFrom: Timestamp,
    rules: t.array(CommissionRule),
    /** Renewals earn for this many months after the customer's first conversion; 0 = first conversion only, null = always. */
    recurringMaxMonths: nullable(NonNegativeInteger),
    caps: CommissionCaps,
    /** Two-tier programs: the parent partner earns this share of its sub-partners' commissions. */
    twoTierOverrideRate: nullable(Ratio),
  }),
  money: (d) => [
    ...d.rules.flatMap((rule, i) =>
      rule.kind === 'flat'
        ? [{ path: `rules[${i}].amount`, amount: rule.amount, currency: d.currency }]
        : rule.kind === 'tieredRevenueShare' && rule.measure === 'revenue'
          ? eachMoney(rule.tiers, `rules[${i}].tiers`, (tier) => [['from', tier.from, d.currency]])
          : [],
    ),
    ...(d.caps.perConversion === null
      ? []
      : [{ path: 'caps.perConversion', amount: d.caps.perConversion, currency: d.currency }]),
    ...(d.caps.perPartnerPerPeriod === null
      ? []
      : [
          {
            path: 'caps.perPartnerPerPeriod.amount',
            amount: d.caps.perPartnerPerPeriod.amount,
            currency: d.currency,
          },
        ]),
  ],
});

const CLICK_LANDING_FIELDS = { campaign: nullable(Text), url: nullable(Text) };
const CLICK_FIELDS = {
  clickId: Id,
  partnerId: Id,
  /** The visitor's pseudonym (`vp-...`) when the ledger has a key store; its id on older ledgers. */
  visitorId: personal('pseudonym', Id),
  landing: struct('landing data', CLICK_LANDING_FIELDS),
  /** Keyed HMACs made by the caller: the raw IP address and user agent are never stored. */
  ipFingerprint: personal('pseudonym', nullable(Fingerprint)),
  userAgentFingerprint: personal('pseudonym', nullable(Fingerprint)),
  /** Set when the click was flagged as fraud: it is kept, but never eligible for attribution. */
  fraudReason: nullable(Text),
};
/** The generic codec of a click's data: its `validate` explains failures; tests compare the guard with its `is`. */
export const GenericClickTrackedData = struct('ClickTracked data', CLICK_FIELDS);
const CLICK_KEYS = new Set(Object.keys(CLICK_FIELDS));
const CLICK_LANDING_KEYS = new Set(Object.keys(CLICK_LANDING_FIELDS));

/** Exactly what `GenericClickTrackedData.is` accepts, field by field: clicks are most of a log. */
const isClickData = (u: unknown): u is t.TypeOf<typeof GenericClickTrackedData> => {
  if (!isRecordOf(u, CLICK_KEYS)) return false;
  const landing = u.landing;
  return (
    isId(u.clickId) &&
    isId(u.partnerId) &&
    isId(u.visitorId) &&
    isRecordOf(landing, CLICK_LANDING_KEYS) &&
    isNullableText(landing.campaign) &&
    isNullableText(landing.url) &&
    (u.ipFingerprint === null || isSha256Hex(u.ipFingerprint)) &&
    (u.userAgentFingerprint === null || isSha256Hex(u.userAgentFingerprint)) &&
    isNullableText(u.fraudReason)
  );
};

/** A tracked-link click. The click id is the idempotency key; the visitor id is opaque. */
export const ClickTracked = defineEvent({
  type: 'ClickTracked',
  schemaVersion: 2,
  data: withShape(
    new t.Type<t.TypeOf<typeof GenericClickTrackedData>, t.OutputOf<typeof GenericClickTrackedData>, unknown>(
      GenericClickTrackedData.name,
      isClickData,
      GenericClickTrackedData.validate,
      GenericClickTrackedData.encode,
    ),
    { kind: 'same', as: GenericClickTrackedData },
  ),
  money: noMoney,
});

/** A technology or agency partner's influence on an account (integration installed, co-selling, ...). */
export const InfluenceTouchRecorded = defineEvent({
  type: 'InfluenceTouchRecorded',
  schemaVersion: 1,
  data: struct('InfluenceTouchRecorded data', {
    touchId: Id,
    partnerId: Id,
    accountId: Id,
    kind: oneOf(['integrationInstalled', 'coSelling', 'introduction', 'servicesEngagement'] as const),
    note: nullable(Text),
  }),
  money: noMoney,
});

const registrationFields = { registrationId: Id, partnerId: Id, accountId: Id };

/**
 * A partner registered a deal on an account (pending until approved); an account has at most one active
 * registration.
 */
export const DealRegistered = defineEvent({
  type: 'DealRegistered',
  schemaVersion: 1,
  data: struct('DealRegistered data', {
    ...registrationFields,
    expectedValue: Amount,
    currency: Currency,
    expiresAt: Timestamp,
  }),
  money: (d) => [{ path: 'expectedValue', amount: d.expectedValue, currency: d.currency }],
});

/** A deal registration was approved: it wins attribution for its account until it expires. */
export const DealRegistrationApproved = defineEvent({
  type: 'DealRegistrationApproved',
  schemaVersion: 1,
  data: struct('DealRegistrationApproved data', registrationFields),
  money: noMoney,
});

/** A deal registration was rejected, with the reason. */
export const DealRegistrationRejected = defineEvent({
  type: 'DealRegistrationRejected',
  schemaVersion: 1,
  data: struct('DealRegistrationRejected data', { ...registrationFields, reason: Text }),
  money: noMoney,
});

/** A deal registration's expiry was moved later. */
export const DealRegistrationExtended = defineEvent({
  type: 'DealRegistrationExtended',
  schemaVersion: 1,
  data: struct('DealRegistrationExtended data', {
    ...registrationFields,
    previousExpiresAt: Timestamp,
    expiresAt: Timestamp,
  }),
  money: noMoney,
});

/** A deal registration reached its expiry and no longer attributes. */
export const DealRegistrationExpired = defineEvent({
  type: 'DealRegistrationExpired',
  schemaVersion: 1,
  data: struct('DealRegistrationExpired data', registrationFields),
  money: noMoney,
});

/**
 * A paid order, invoice, renewal or closed-won deal, with everything decided for it at the moment it was
 * recorded: the attribution, each partner's credit, and each commission line with the plan version and
 * rate that earned it. Nothing about it is ever recomputed from today's plans.
 */
export const ConversionAttributed = defineEvent({
  type: 'ConversionAttributed',
  schemaVersion: 1,
  data: struct('ConversionAttributed data', {
    conversionId: Id,
    customerId: Id,
    accountId: nullable(Id),
    visitorId: personal('pseudonym', nullable(Id)),
    kind: oneOf(['order', 'invoice', 'renewal', 'closedWon'] as const),
    amount: Amount,
    currency: Currency,
    couponCode: nullable(Id),
    attribution: struct('the attribution decision', {
      /** What decided the sourced credit; `customerBinding` for renewals, `none` when no partner is credited. */
      basis: oneOf([...ATTRIBUTION_SOURCES, 'customerBinding', 'none'] as const),
      model: AttributionModel,
      clickWindowDays: NonNegativeInteger,
      halfLifeDays: NonNegativeInteger,
      registrationId: nullable(Id),
    }),
    credits: t.array(Credit),
    /** Partners that touched the customer without a credit (influence only). */
    influencers: t.array(struct('an influencer', { partnerId: Id, touchIds: t.array(Id) })),
    /** The rates from the conversion currency into each plan currency, as supplied by the caller. */
    fx: t.array(ForeignExchange),
    commissions: t.array(CommissionLine),
  }),
  money: (d) => [
    { path: 'amount', amount: d.amount, currency: d.currency },
    ...eachMoney(d.credits, 'credits', (c) => [['revenueCredit', c.revenueCredit, d.currency]]),
    ...eachMoney(d.commissions, 'commissions', (l) => [
      ['base', l.base, l.currency],
      ['amount', l.amount, l.currency],
      ...(l.uncappedAmount === null ? [] : ([['uncappedAmount', l.uncappedAmount, l.currency]] as const)),
    ]),
  ],
});

/** A refund, chargeback or fraud reversal of all or part of a conversion, at the original rates. */
export const ConversionReversed = defineEvent({
  type: 'ConversionReversed',
  schemaVersion: 1,
  data: struct('ConversionReversed data', {
    reversalId: Id,
    conversionId: Id,
    customerId: Id,
    kind: oneOf(['refund', 'chargeback', 'fraud'] as const),
    /** The part of the conversion's amount reversed, in its currency. */
    amount: Amount,
    currency: Currency,
    /** The revenue credit taken back from each partner, in the original proportions. */
    credits: t.array(struct('a reversed credit', { partnerId: Id, revenueCredit: Amount })),
    /** The commission taken back from each line, at the line's original rate. */
    lines: t.array(
      struct('a reversed line', { lineId: Id, partnerId: Id, amount: Amount, currency: Currency }),
    ),
    reason: nullable(Text),
  }),
  money: (d) => [
    { path: 'amount', amount: d.amount, currency: d.currency },
    ...eachMoney(d.credits, 'credits', (c) => [['revenueCredit', c.revenueCredit, d.currency]]),
    ...eachMoney(d.lines, 'lines', (l) => [['amount', l.amount, l.currency]]),
  ],
});

const lineRef = { lineId: Id, partnerId: Id, conversionId: Id };

/** A commission line was put on hold for review, with the reason: not payable until released. */
export const CommissionHeld = defineEvent({
  type: 'CommissionHeld',
  schemaVersion: 1,
  data: struct('CommissionHeld data', { ...lineRef, reason: Text }),
  money: noMoney,
});

/** A held commission line was released: payable once its hold days have passed. */
export const CommissionReleased = defineEvent({
  type: 'CommissionReleased',
  schemaVersion: 1,
  data: struct('CommissionReleased data', { ...lineRef, note: nullable(Text) }),
  money: noMoney,
});

/** A commission line was rejected, with the reason: it will never be paid. */
export const CommissionRejected = defineEvent({
  type: 'CommissionRejected',
  schemaVersion: 1,
  data: struct('CommissionRejected data', { ...lineRef, reason: Text }),
  money: noMoney,
});

/** A signed correction to a partner's balance, with its reason; the actor is on the envelope. */
export const ManualAdjustmentRecorded = defineEvent({
  type: 'ManualAdjustmentRecorded',
  schemaVersion: 1,
  data: struct('ManualAdjustmentRecorded data', {
    adjustmentId: Id,
    partnerId: Id,
    amount: SignedAmount,
    currency: Currency,
    reason: Text,
  }),
  money: (d) => [{ path: 'amount', amount: d.amount, currency: d.currency }],
});

/** A payout was issued to a partner, with the commission lines, adjustments and clawbacks it settles. */
export const PayoutIssued = defineEvent({
  type: 'PayoutIssued',
  schemaVersion: 1,
  data: struct('PayoutIssued data', {
    payoutId: Id,
    partnerId: Id,
    amount: Amount,
    currency: Currency,
    method: oneOf(['bankTransfer', 'paypal', 'wise', 'stripe', 'check', 'other'] as const),
    externalReference: nullable(Text),
    /** The commission lines and adjustments it settles, oldest first, and how much of each. */
    settles: t.array(
      struct('a settled item', {
        kind: oneOf(['commission', 'adjustment', 'reversal'] as const),
        id: Id,
        amount: SignedAmount,
      }),
    ),
  }),
  money: (d) => [
    { path: 'amount', amount: d.amount, currency: d.currency },
    ...eachMoney(d.settles, 'settles', (s) => [['amount', s.amount, d.currency]]),
  ],
});

/** A payout that did not reach the partner: its amount returns to payable. */
export const PayoutFailed = defineEvent({
  type: 'PayoutFailed',
  schemaVersion: 1,
  data: struct('PayoutFailed data', {
    payoutId: Id,
    partnerId: Id,
    amount: Amount,
    currency: Currency,
    reason: Text,
  }),
  money: (d) => [{ path: 'amount', amount: d.amount, currency: d.currency }],
});

/**
 * The payout provider confirmed that a payout reached the partner (a PayPal item's SUCCESS, a Wise transfer
 * sent): it changes no balance. A payout returned later is still recorded as PayoutFailed, after this.
 */
export const PayoutConfirmed = defineEvent({
  type: 'PayoutConfirmed',
  schemaVersion: 1,
  data: struct('PayoutConfirmed data', {
    payoutId: Id,
    partnerId: Id,
    amount: Amount,
    currency: Currency,
    /** The provider's id of the payment (a PayPal transaction id, a Wise transfer id), when it gave one. */
    providerReference: nullable(Text),
  }),
  money: (d) => [{ path: 'amount', amount: d.amount, currency: d.currency }],
});

/** Every event of the catalogue, by type. */
export const CATALOGUE = {
  ProgramConfigured,
  PartnerJoined,
  PartnerContactDetailsChanged,
  PersonalDataErased,
  PartnerPlanChanged,
  PartnerTierChanged,
  PartnerStatusChanged,
  CommissionPlanPublished,
  ClickTracked,
  InfluenceTouchRecorded,
  DealRegistered,
  DealRegistrationApproved,
  DealRegistrationRejected,
  DealRegistrationExtended,
  DealRegistrationExpired,
  ConversionAttributed,
  ConversionReversed,
  CommissionHeld,
  CommissionReleased,
  CommissionRejected,
  ManualAdjustmentRecorded,
  PayoutIssued,
  PayoutConfirmed,
  PayoutFailed,
} as const;

/** The type of CATALOGUE: every event definition by type. */
export type Catalogue = typeof CATALOGUE;
/** The type of an event of the catalogue: "PartnerJoined", "ConversionAttributed", ... */
export type EventType = keyof Catalogue;
/** The data of an event of type T, as its codec decodes it. */
export type EventData<T extends EventType> = t.TypeOf<Catalogue[T]['data']>;

/** The data of any ledger event, discriminated by `type`. */
export type LedgerEventBody = {
  [T in EventType]: { readonly type: T; readonly data: EventData<T> };
}[EventType];
