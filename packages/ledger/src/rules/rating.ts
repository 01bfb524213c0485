import * as E from 'fp-ts/Either';
import type { CommissionRule, Credit } from '@partner-ledger/events';
import type { Fraction } from './exact';
import {
  ONE,
  ZERO,
  add,
  compare,
  formatMinor,
  fromMinor,
  isZero,
  max,
  min,
  mul,
  parseDecimal,
  parseRatio,
  roundHalfEvenToMinorUnits,
  sub,
} from './exact';
import { addDays, addMonths, timeOf, utcDay } from './time';
import type { CommissionLine, PlanVersion, RatedPartner, RatingError, RatingInput } from './types';

const fail = (code: RatingError['code'], field: string, message: string): E.Either<RatingError, never> =>
  E.left({ code, field, message });

/**
 * The rate from the conversion currency into the plan currency: 1 when they are the same, otherwise the
 * one the caller supplied (from = conversion currency, to = plan currency), dated no later than the
 * conversion's UTC day. Rates are never looked up, never inverted and never taken from another day.
 */
const rateInto = (input: RatingInput, planCurrency: string): E.Either<RatingError, Fraction> => {
  if (planCurrency === input.currency) return E.right(ONE);
  const supplied = input.fx.filter((r) => r.from === input.currency && r.to === planCurrency);
  const first = supplied[0];
  if (first === undefined)
    return fail(
      'FX_RATE_MISSING',
      'fx',
      `conversion ${input.conversionId} is in ${input.currency} and a plan is in ${planCurrency}: supply the ${input.currency}->${planCurrency} rate of the conversion date`,
    );
  const rate = parseDecimal(first.rate);
  if (supplied.some((r) => compare(parseDecimal(r.rate), rate) !== 0))
    return fail(
      'FX_RATE_AMBIGUOUS',
      'fx',
      `${supplied.length} different ${input.currency}->${planCurrency} rates were supplied; supply one`,
    );
  const late = supplied.find((r) => utcDay(r.date) > utcDay(input.occurredAt));
  if (late !== undefined)
    return fail(
      'FX_RATE_AFTER_CONVERSION',
      'fx',
      `the ${input.currency}->${planCurrency} rate is dated ${late.date}, after the conversion (${input.occurredAt}): use the rate of the conversion date`,
    );
  return E.right(rate);
};

/**
 * Whether the plan pays on this conversion. Only renewals are limited: they earn within
 * `recurringMaxMonths` calendar months of the customer's first attributed conversion (0 = only the first
 * conversion itself earns, null = always). Orders, invoices and closed-won deals are rated as they come.
 */
const planPaysOn = (plan: PlanVersion, input: RatingInput): boolean => {
  const first = input.customerFirstConversionAt;
  if (input.kind !== 'renewal' || first === null || plan.recurringMaxMonths === null) return true;
  const occurred = timeOf(input.occurredAt, 'conversion time');
  if (timeOf(first, 'first conversion time') >= occurred) return true;
  return occurred < timeOf(addMonths(first, plan.recurringMaxMonths), 'recurring end');
};

/** One rule's result for one partner, before caps and rounding. */
interface Earned {
  readonly rule: CommissionRule['kind'];
  readonly tier: string | null;
  /** Exact; recorded rounded to the plan currency (it only has more decimals after a currency conversion). */
  readonly base: Fraction;
  readonly rate: string;
  /** Exact: base x rate (flat: the flat amount x the partner's weight). */
  readonly amount: Fraction;
}

const earn = (
  rule: CommissionRule,
  credit: Credit,
  base: Fraction,
  partner: RatedPartner,
  plan: PlanVersion,
  input: RatingInput,
): Earned => {
  switch (rule.kind) {
    case 'flat': {
      // Cost per sale, shared by the credited partners by weight: one conversion pays one flat amount.
      const flat = parseDecimal(rule.amount);
      return {
        rule: 'flat',
        tier: null,
        base: flat,
        rate: credit.weight,
        amount: mul(flat, parseRatio(credit.weight)),
      };
    }
    case 'revenueShare':
      return {
        rule: 'revenueShare',
        tier: null,
        base,
        rate: rule.rate,
        amount: mul(base, parseRatio(rule.rate)),
      };
    case 'tieredRevenueShare': {
      const stats = input.periodStats(partner.partnerId, plan.planId, rule.period);
      // The tier reached including this conversion sets its rate; earlier conversions keep theirs.
      const reached =
        rule.measure === 'revenue'
          ? add(parseDecimal(stats.revenue), base)
          : parseDecimal(String(stats.conversions + 1));
      const tier = [...rule.tiers]
        .map((t, index) => ({ ...t, index, from: parseDecimal(t.from) }))
        .sort((a, b) => compare(a.from, b.from) || a.index - b.index)
        .filter((t) => compare(t.from, reached) <= 0)
        .pop();
      const rate = tier?.rate ?? '0';
      return {
        rule: 'tieredRevenueShare',
        tier: tier?.name ?? null,
        base,
        rate,
        amount: mul(base, parseRatio(rate)),
      };
    }
  }
};

/**
 * Rates the commission lines that a conversion's credits earn, each under the version of its partner's plan
 * given in `plans` and nothing else.
 *
 * For each credited, active partner, in credit order: one line per rule of its plan (flat: the flat amount
 * times the partner's weight; revenue share: the rate times its revenue credit converted into the plan
 * currency; tiered: the rate of the tier reached including this conversion), then the caps (per conversion,
 * then per partner per period, in rule order), then, if the partner has an active parent and the plan an
 * override rate, one override line per line for the parent. Every amount is computed exactly and rounded
 * once, half to even, to the plan currency's minor unit. Lines are `held` when the caller found fraud signals.
 */
export const rateCommissions = (input: RatingInput): E.Either<RatingError, CommissionLine[]> => {
  const lines: CommissionLine[] = [];
  const linesSoFar = new Map<string, number>();
  const nextLineId = (partnerId: string): string => {
    const index = linesSoFar.get(partnerId) ?? 0;
    linesSoFar.set(partnerId, index + 1);
    return input.nextLineId(partnerId, index);
  };
  const held = input.hold.reasons.length > 0;
  const status = held ? ('held' as const) : ('pending' as const);
  const holdReason = held ? input.hold.reasons.join('; ') : null;
  const occurred = timeOf(input.occurredAt, 'conversion time');

  for (const [i, credit] of input.credits.entries()) {
    const partner = input.partners.get(credit.partnerId);
    if (partner === undefined)
      return fail('PARTNER_MISSING', `credits[${i}].partnerId`, `partner ${credit.partnerId} is not known`);
    if (!partner.active) continue;
    const plan = input.plans.get(partner.planId);
    if (plan === undefined)
      return fail(
        'PLAN_MISSING',
        `plans.${partner.planId}`,
        `no version of plan ${partner.planId} (partner ${partner.partnerId}) is effective at ${input.occurredAt}`,
      );
    if (plan.planId !== partner.planId || timeOf(plan.effectiveFrom, 'effectiveFrom') > occurred)
      return fail(
        'PLAN_NOT_EFFECTIVE',
        `plans.${partner.planId}`,
        `plan ${plan.planId} version ${plan.version} (effective from ${plan.effectiveFrom}) is not the version of plan ${partner.planId} effective at ${input.occurredAt}`,
      );
    if (!planPaysOn(plan, input)) continue;
    const fx = rateInto(input, plan.currency);
    if (E.isLeft(fx)) return fx;

    const base = mul(parseDecimal(credit.revenueCredit), fx.right);
    const cap = plan.caps.perPartnerPerPeriod;
    let leftThisConversion = plan.caps.perConversion === null ? null : parseDecimal(plan.caps.perConversion);
    let leftThisPeriod =
      cap === null
        ? null
        : max(
            ZERO,
            sub(
              parseDecimal(cap.amount),
              parseDecimal(input.periodStats(partner.partnerId, plan.planId, cap.period).commission),
            ),
          );
    const payableAt = addDays(input.occurredAt, plan.holdDays);
    const partnerLines: CommissionLine[] = [];
    for (const rule of plan.rules) {
      const earned = earn(rule, credit, base, partner, plan, input);
      let allowed = earned.amount;
      if (leftThisConversion !== null) allowed = min(allowed, leftThisConversion);
      if (leftThisPeriod !== null) allowed = min(allowed, leftThisPeriod);
      const amount = roundHalfEvenToMinorUnits(allowed, plan.currency);
      const uncapped = roundHalfEvenToMinorUnits(earned.amount, plan.currency);
      const granted = fromMinor(amount, plan.currency);
      if (leftThisConversion !== null) leftThisConversion = sub(leftThisConversion, granted);
      if (leftThisPeriod !== null) leftThisPeriod = sub(leftThisPeriod, granted);
      partnerLines.push({
        lineId: nextLineId(partner.partnerId),
        partnerId: partner.partnerId,
        planId: plan.planId,
        planVersion: plan.version,
        rule: earned.rule,
        tier: earned.tier,
        base: formatMinor(roundHalfEvenToMinorUnits(earned.base, plan.currency), plan.currency),
        rate: earned.rate,
        amount: formatMinor(amount, plan.currency),
        currency: plan.currency,
        uncappedAmount: uncapped > amount ? formatMinor(uncapped, plan.currency) : null,
        payableAt,
        status,
        holdReason,
        overrideOf: null,
      });
    }
    lines.push(...partnerLines);

    const overrideRate = plan.twoTierOverrideRate;
    const parentId = partner.parentPartnerId;
    if (parentId === null || overrideRate === null || isZero(parseRatio(overrideRate))) continue;
    const parent = input.partners.get(parentId);
    if (parent === undefined)
      return fail(
        'PARTNER_MISSING',
        `partners.${parentId}`,
        `partner ${partner.partnerId}'s parent ${parentId} is not known`,
      );
    if (!parent.active) continue;
    for (const line of partnerLines) {
      // The parent's override is on the child's line as recorded (after caps, rounded), at the child plan's rate.
      const amount = roundHalfEvenToMinorUnits(
        mul(parseDecimal(line.amount), parseRatio(overrideRate)),
        plan.currency,
      );
      lines.push({
        ...line,
        lineId: nextLineId(parent.partnerId),
        partnerId: parent.partnerId,
        rule: 'twoTierOverride',
        tier: null,
        base: line.amount,
        rate: overrideRate,
        amount: formatMinor(amount, plan.currency),
        uncappedAmount: null,
        overrideOf: line.lineId,
      });
    }
  }
  return E.right(lines);
};
