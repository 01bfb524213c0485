import { LedgerDecimal } from '@partner-ledger/events';
import type { AttributionModel, Credit } from '@partner-ledger/events';
import type { Fraction } from './exact';
import {
  ONE,
  ZERO,
  add,
  compare,
  formatMinor,
  formatRatio,
  fraction,
  isZero,
  largestRemainder,
  parseDecimal,
  toMinor,
} from './exact';
import { DAY_MS, timeOf } from './time';
import type { AttributionBasis, AttributionDecision, AttributionInput, Influencer, Touch } from './types';

/**
 * Time-decay weights are computed with LedgerDecimal (60 significant digits), then fixed to this many
 * decimals by largest remainder, so that the recorded weights are exact decimals that sum to exactly one.
 */
export const TIME_DECAY_WEIGHT_DECIMALS = 30;

interface Eligible extends Touch {
  readonly time: number;
}

/** Time order, ties by touch id (compared by code unit, the same on every machine). */
const byTouchOrder = (a: Eligible, b: Eligible): number =>
  a.time - b.time || (a.touchId < b.touchId ? -1 : a.touchId > b.touchId ? 1 : 0);

/**
 * The touches that count: not fraud-flagged, of a partner active when it touched, not after the
 * conversion; clicks inside the click window (a click exactly `clickWindowDays` before still counts);
 * deal registrations not expired at the conversion time. Coupons and influence touches have no window.
 */
const eligibleTouches = (input: AttributionInput, conversionTime: number): Eligible[] => {
  const windowStart = conversionTime - input.settings.clickWindowDays * DAY_MS;
  return input.touches
    .map((touch) => ({ ...touch, time: timeOf(touch.at, 'touch time') }))
    .filter((touch) => {
      if (touch.fraudulent || !touch.partnerActiveAt || touch.time > conversionTime) return false;
      if (touch.kind === 'click') return touch.time >= windowStart;
      if (touch.kind === 'dealRegistration' && touch.expiresAt !== undefined)
        return timeOf(touch.expiresAt, 'registration expiry') > conversionTime;
      return true;
    })
    .sort(byTouchOrder);
};

/** The exact weight of each click under a rational model, in click order. */
const rationalClickWeights = (model: Exclude<AttributionModel, 'timeDecay'>, n: number): Fraction[] => {
  const weights = Array.from({ length: n }, () => ZERO);
  const last = n - 1;
  switch (model) {
    case 'lastTouch':
      weights[last] = ONE;
      break;
    case 'firstTouch':
      weights[0] = ONE;
      break;
    case 'linear':
      weights.fill(fraction(1n, BigInt(n)));
      break;
    case 'positionBased':
      if (n === 1) weights[0] = ONE;
      else if (n === 2) weights.fill(fraction(1n, 2n));
      else {
        weights.fill(fraction(1n, 5n * BigInt(n - 2)));
        weights[0] = fraction(2n, 5n);
        weights[last] = fraction(2n, 5n);
      }
      break;
  }
  return weights;
};

/** 2^(-(conversion time - t_i) / half-life) for each click, at LedgerDecimal's 60 significant digits. */
const timeDecayClickWeights = (
  clicks: readonly Eligible[],
  conversionTime: number,
  halfLifeDays: number,
): Fraction[] => {
  const halfLife = new LedgerDecimal(halfLifeDays).mul(DAY_MS);
  return clicks.map((click) => {
    const exponent = new LedgerDecimal(conversionTime - click.time).div(halfLife).neg();
    return parseDecimal(new LedgerDecimal(2).pow(exponent).toFixed());
  });
};

interface PartnerShare {
  readonly partnerId: string;
  weight: Fraction;
  readonly touchIds: string[];
}

/** Adds up the weights of each partner's clicks; partners in the order of their first click. */
const sharesByPartner = (clicks: readonly Eligible[], weights: readonly Fraction[]): PartnerShare[] => {
  const shares = new Map<string, PartnerShare>();
  clicks.forEach((click, i) => {
    const weight = weights[i]!;
    const share = shares.get(click.partnerId) ?? { partnerId: click.partnerId, weight: ZERO, touchIds: [] };
    shares.set(click.partnerId, share);
    share.weight = add(share.weight, weight);
    if (!isZero(weight)) share.touchIds.push(click.touchId);
  });
  return [...shares.values()];
};

/** Fixes time-decay weights to exact decimals that sum to exactly one. */
const quantise = (shares: PartnerShare[]): void => {
  const scale = 10n ** BigInt(TIME_DECAY_WEIGHT_DECIMALS);
  const units = largestRemainder(
    scale,
    shares.map((s) => s.weight),
  );
  shares.forEach((share, i) => {
    share.weight = fraction(units[i]!, scale);
  });
};

const clickShares = (
  input: AttributionInput,
  clicks: readonly Eligible[],
  conversionTime: number,
): PartnerShare[] => {
  const { model, halfLifeDays } = input.settings;
  if (model === 'timeDecay') {
    const shares = sharesByPartner(clicks, timeDecayClickWeights(clicks, conversionTime, halfLifeDays));
    quantise(shares);
    return shares;
  }
  return sharesByPartner(clicks, rationalClickWeights(model, clicks.length));
};

/** Each partner's revenue credit, exact in minor units, and its role. */
const toCredits = (input: AttributionInput, shares: readonly PartnerShare[]): Credit[] => {
  const credited = shares.filter((s) => !isZero(s.weight));
  if (credited.length === 0) return [];
  const revenue = largestRemainder(
    toMinor(input.amount, input.currency),
    credited.map((s) => s.weight),
  );
  // The largest weight sources the conversion; on a tie, the partner that touched first.
  const sourced = credited.reduce((best, s) => (compare(s.weight, best.weight) > 0 ? s : best));
  return credited.map((share, i) => ({
    partnerId: share.partnerId,
    weight: formatRatio(share.weight),
    revenueCredit: formatMinor(revenue[i]!, input.currency),
    role: share === sourced ? 'sourced' : 'influenced',
    touchIds: [...share.touchIds],
  }));
};

/** Partners with an eligible touch and no credit, each with all of its eligible touches. */
const influencersOf = (eligible: readonly Eligible[], credits: readonly Credit[]): Influencer[] => {
  const credited = new Set(credits.map((c) => c.partnerId));
  const byPartner = new Map<string, string[]>();
  for (const touch of eligible) {
    if (credited.has(touch.partnerId)) continue;
    const ids = byPartner.get(touch.partnerId) ?? [];
    byPartner.set(touch.partnerId, ids);
    ids.push(touch.touchId);
  }
  return [...byPartner].map(([partnerId, touchIds]) => ({ partnerId, touchIds }));
};

const decision = (
  basis: AttributionBasis,
  credits: Credit[],
  eligible: readonly Eligible[],
  registrationId: string | null = null,
): AttributionDecision => ({
  basis,
  registrationId,
  credits,
  influencers: influencersOf(eligible, credits),
  sourcedPartnerId: credits.find((c) => c.role === 'sourced')?.partnerId ?? null,
});

/** One partner takes the whole conversion. */
const sole = (input: AttributionInput, partnerId: string, touchIds: string[]): Credit[] =>
  toCredits(input, [{ partnerId, weight: ONE, touchIds }]);

/**
 * Decides who is credited for a conversion, and how much of its amount each one gets.
 *
 * A renewal of a customer bound to a partner goes to that partner. Otherwise the sources are tried in the
 * program's precedence order (by default deal registration, coupon, clicks) and the first one with an
 * eligible touch decides: a registration's or coupon's partner takes it all, clicks are credited by the
 * model. Influence touches never take credit: they make their partner an influencer. Every partner with an
 * eligible touch and no credit is listed as an influencer.
 */
export const attribute = (input: AttributionInput): AttributionDecision => {
  const conversionTime = timeOf(input.occurredAt, 'conversion time');
  const eligible = eligibleTouches(input, conversionTime);

  if (input.isRenewal && input.customerBinding !== null)
    return decision('customerBinding', sole(input, input.customerBinding.partnerId, []), eligible);

  for (const source of input.settings.precedence) {
    if (source === 'clicks') {
      const clicks = eligible.filter((t) => t.kind === 'click');
      if (clicks.length > 0)
        return decision('clicks', toCredits(input, clickShares(input, clicks, conversionTime)), eligible);
    } else {
      // A registration or a coupon: the earliest eligible one decides (there is normally just one).
      const winner = eligible.find((t) => t.kind === source);
      if (winner !== undefined)
        return decision(
          source,
          sole(input, winner.partnerId, [winner.touchId]),
          eligible,
          source === 'dealRegistration' ? winner.touchId : null,
        );
    }
  }
  return decision('none', [], eligible);
};
