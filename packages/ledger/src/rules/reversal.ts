import * as E from 'fp-ts/Either';
import { describeAmountProblem, parseAmount } from '@partner-ledger/events';
import { formatMinor, fraction, largestRemainder, roundHalfEven, toMinor } from './exact';
import type { RatingError, ReversalDecision, ReversalInput } from './types';

const fail = (code: RatingError['code'], field: string, message: string): E.Either<RatingError, never> =>
  E.left({ code, field, message });

const clamp = (value: bigint, low: bigint, high: bigint): bigint =>
  value < low ? low : value > high ? high : value;

/**
 * Reverses part or the rest of a conversion, in its original proportions and at its original rates, from
 * the ConversionAttributed event alone (never from a plan as it is today).
 *
 * - Revenue credits: the part is split over what is left of each partner's credit, by largest remainder,
 *   so the parts sum exactly to the amount reversed and no credit goes below zero.
 * - Commission lines: after the reversal, each line has lost its original amount times the share of the
 *   conversion reversed so far (cumulative, rounded half to even in the line's currency); this part is the
 *   difference from what earlier reversals took. The same share reversed in one part or in several
 *   therefore takes back the same commission.
 * - The part that reverses what is left of the conversion takes back exactly what is left of every credit
 *   and line, so any number of parts that add up to the whole bring every one of them back to zero.
 *
 * A conversion of amount zero (which may still carry flat commissions) is reversed with an amount of zero,
 * which takes back what is left of its lines.
 */
export const reverseConversion = (input: ReversalInput): E.Either<RatingError, ReversalDecision> => {
  const { original, reversedSoFar } = input;
  const currency = original.currency;
  const parsed = parseAmount(input.amount, currency);
  if (E.isLeft(parsed)) return fail('REVERSAL_AMOUNT_INVALID', 'amount', describeAmountProblem(parsed.left));
  const earlier = parseAmount(reversedSoFar.amount, currency);
  if (E.isLeft(earlier))
    return fail('REVERSAL_HISTORY_INCONSISTENT', 'reversedSoFar.amount', describeAmountProblem(earlier.left));

  const total = toMinor(original.amount, currency);
  const before = toMinor(earlier.right, currency);
  const part = toMinor(parsed.right, currency);
  const left = total - before;
  if (left < 0n)
    return fail(
      'REVERSAL_HISTORY_INCONSISTENT',
      'reversedSoFar.amount',
      `${reversedSoFar.amount} ${currency} reversed so far is more than the conversion's ${original.amount}`,
    );

  const creditsLeft = original.credits.map(
    (c) =>
      toMinor(c.revenueCredit, currency) - toMinor(reversedSoFar.credits.get(c.partnerId) ?? '0', currency),
  );
  const linesLeft = original.commissions.map(
    (l) => toMinor(l.amount, l.currency) - toMinor(reversedSoFar.lines.get(l.lineId) ?? '0', l.currency),
  );
  const creditsSum = creditsLeft.reduce((acc, c) => acc + c, 0n);
  if (creditsLeft.some((c) => c < 0n) || (original.credits.length > 0 && creditsSum !== left))
    return fail(
      'REVERSAL_HISTORY_INCONSISTENT',
      'reversedSoFar.credits',
      `the credits reversed so far do not match the ${reversedSoFar.amount} ${currency} reversed so far`,
    );
  if (linesLeft.some((l) => l < 0n))
    return fail(
      'REVERSAL_HISTORY_INCONSISTENT',
      'reversedSoFar.lines',
      'a line was reversed beyond its amount',
    );

  if (total > 0n) {
    if (left === 0n)
      return fail(
        'NOTHING_LEFT_TO_REVERSE',
        'amount',
        `conversion ${original.conversionId} has already been reversed in full`,
      );
    if (part === 0n)
      return fail('REVERSAL_AMOUNT_INVALID', 'amount', 'expected an amount of more than zero to reverse');
  }
  if (part > left)
    return fail(
      'REVERSAL_EXCEEDS_REMAINING',
      'amount',
      `${input.amount} ${currency} is more than the ${formatMinor(left, currency)} ${currency} left of conversion ${original.conversionId}`,
    );

  const isRest = part === left;
  const creditParts =
    isRest || original.credits.length === 0
      ? creditsLeft
      : largestRemainder(
          part,
          creditsLeft.map((c) => fraction(c)),
        );
  const lineParts = original.commissions.map((line, i) => {
    if (isRest) return linesLeft[i]!;
    const lineAmount = toMinor(line.amount, line.currency);
    const reversedBefore = lineAmount - linesLeft[i]!;
    // In the line's minor units: its amount times the share of the conversion reversed after this part.
    const target = roundHalfEven(fraction(lineAmount * (before + part), total));
    return clamp(target - reversedBefore, 0n, linesLeft[i]!);
  });

  return E.right({
    credits: original.credits.map((c, i) => ({
      partnerId: c.partnerId,
      revenueCredit: formatMinor(creditParts[i]!, currency),
    })),
    lines: original.commissions.map((l, i) => ({
      lineId: l.lineId,
      partnerId: l.partnerId,
      amount: formatMinor(lineParts[i]!, l.currency),
      currency: l.currency,
    })),
  });
};
