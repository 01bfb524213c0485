import * as crypto from 'node:crypto';

// Names the ledger derives from natural keys: stream names, event ids and commission line ids. All are pure
// functions of their inputs, so that a retried command produces byte-identical events (the store then
// recognises the retry by event id) and a replay on another machine names everything the same way.

// One-shot `crypto.hash` (Node 20.12 and later) where there is one: the same digest without a Hash object per
// id (every event a command appends gets its id here).
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const sha256 = (text: string): string =>
  oneShotHash === undefined
    ? crypto.createHash('sha256').update(text, 'utf8').digest('hex')
    : oneShotHash('sha256', text, 'hex');

/** Ids and stream names are limited to 200 characters by the envelope. */
const MAX_ID_LENGTH = 200;

/**
 * The id of the event that records `type` for a natural key, as a UUID-shaped digest (version nibble 8,
 * "custom", RFC 9562). The same key always gives the same id, and two keys never share one, so the store's
 * own idempotency by event id agrees with the ledger's idempotency by natural key.
 */
export const eventIdFor = (type: string, ...key: readonly (string | number)[]): string => {
  const hex = sha256(JSON.stringify([type, ...key]));
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

/** `prefix-key`, or `prefix-#<digest>` when the key is too long to fit in a stream name. */
const named = (prefix: string, key: string): string => {
  const plain = `${prefix}-${key}`;
  return plain.length <= MAX_ID_LENGTH ? plain : `${prefix}-#${sha256(key)}`;
};

/** The streams of the ledger, one per consistency boundary (docs/architecture.md, "Consistency boundaries"). */
export const streams = {
  /** The program: its settings. */
  program: (): string => 'program',
  /** A partner: joined, plan, tier and status changes. */
  partner: (partnerId: string): string => named('partner', partnerId),
  /** A commission plan: its published versions. */
  plan: (planId: string): string => named('plan', planId),
  /** A visitor: the clicks on partners' links. */
  visitor: (visitorId: string): string => named('visitor', visitorId),
  /** A customer account: influence touches and deal registrations. */
  account: (accountId: string): string => named('account', accountId),
  /** A conversion: its attribution, reversals and the review of its commission lines. */
  conversion: (conversionId: string): string => named('conversion', conversionId),
  /** A partner's balance: manual adjustments, payouts and payout failures. */
  balance: (partnerId: string): string => named('balance', partnerId),
} as const;

/**
 * The id of a partner's `index`-th commission line in a conversion: `<conversionId>/<partnerId>/<index>`,
 * readable in statements; a digest when that would be too long.
 */
export const lineIdFor = (conversionId: string, partnerId: string, index: number): string => {
  const plain = `${conversionId}/${partnerId}/${index}`;
  return plain.length <= MAX_ID_LENGTH
    ? plain
    : `line-${sha256(JSON.stringify([conversionId, partnerId, index]))}`;
};

/** The stream the ledger records an event in, from the event alone (every event type has exactly one home). */
export const streamOf = (event: { readonly type: string; readonly data: unknown }): string => {
  const data = event.data as Record<string, string>;
  switch (event.type) {
    case 'ProgramConfigured':
      return streams.program();
    case 'PartnerJoined':
    case 'PartnerPlanChanged':
    case 'PartnerTierChanged':
    case 'PartnerStatusChanged':
    case 'PartnerContactDetailsChanged':
      return streams.partner(data.partnerId!);
    case 'CommissionPlanPublished':
      return streams.plan(data.planId!);
    case 'ClickTracked':
      return streams.visitor(data.visitorId!);
    case 'InfluenceTouchRecorded':
    case 'DealRegistered':
    case 'DealRegistrationApproved':
    case 'DealRegistrationRejected':
    case 'DealRegistrationExtended':
    case 'DealRegistrationExpired':
      return streams.account(data.accountId!);
    case 'ConversionAttributed':
    case 'ConversionReversed':
    case 'CommissionHeld':
    case 'CommissionReleased':
    case 'CommissionRejected':
      return streams.conversion(data.conversionId!);
    case 'ManualAdjustmentRecorded':
    case 'PayoutIssued':
    case 'PayoutConfirmed':
    case 'PayoutFailed':
      return streams.balance(data.partnerId!);
    default:
      throw new Error(`No stream for event type ${JSON.stringify(event.type)}`);
  }
};

/**
 * The id the ledger gives an event that has a natural key (the same derivation the deciders use), or
 * undefined for events without one (plan, tier and status changes, holds, program settings), whose ids
 * the deciders derive from their stream's revision and content.
 */
export const naturalEventId = (event: {
  readonly type: string;
  readonly data: unknown;
}): string | undefined => {
  const data = event.data as Record<string, string>;
  switch (event.type) {
    case 'PartnerJoined':
      return eventIdFor(event.type, data.partnerId!);
    case 'CommissionPlanPublished':
      return eventIdFor(event.type, data.planId!, (event.data as { version: number }).version);
    case 'ClickTracked':
      return eventIdFor(event.type, data.clickId!);
    case 'InfluenceTouchRecorded':
      return eventIdFor(event.type, data.touchId!);
    case 'DealRegistered':
    case 'DealRegistrationApproved':
    case 'DealRegistrationRejected':
    case 'DealRegistrationExpired':
      return eventIdFor(event.type, data.registrationId!);
    case 'DealRegistrationExtended':
      return eventIdFor(event.type, data.registrationId!, data.expiresAt!);
    case 'ConversionAttributed':
      return eventIdFor(event.type, data.conversionId!);
    case 'ConversionReversed':
      return eventIdFor(event.type, data.reversalId!);
    case 'ManualAdjustmentRecorded':
      return eventIdFor(event.type, data.adjustmentId!);
    case 'PayoutIssued':
    case 'PayoutConfirmed':
    case 'PayoutFailed':
      return eventIdFor(event.type, data.payoutId!);
    default:
      return undefined;
  }
};
