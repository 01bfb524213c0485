/**
 * The worked examples of docs/attribution-and-commissions.md, run as tests: every `json example` block of
 * the page is read here and run through the rules, under the example's own name, so that the figures a
 * reader checks by hand are the figures the code produces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/Either';
import type { AttributionSettings, ForeignExchange } from '@partner-ledger/events';
import { attribute } from './attribution';
import { rateCommissions } from './rating';
import { reverseConversion } from './reversal';
import { formatMinor, toMinor } from './exact';
import {
  CONVERSION_AT,
  NO_STATS,
  daysBefore,
  partner,
  plan,
  ratingInput,
  settings,
} from './testing/fixtures';
import type { ConversionAttributedData, PeriodStats, PlanVersion, RatedPartner, Touch } from './types';

const PAGE = join(__dirname, '..', '..', '..', '..', 'docs', 'attribution-and-commissions.md');
const markdown = readFileSync(PAGE, 'utf8');

interface AttributionExample {
  example: string;
  conversion: Partial<AttributionSettings> & { amount: string; currency: string; renewalBoundTo?: string };
  touches: [Touch['kind'], string, string, number, Partial<Touch>?][];
  basis: string;
  registrationId?: string;
  credits: [string, string, string, string][];
  influencers: string[];
}

interface RatingExample {
  example: string;
  conversion?: {
    kind?: 'renewal' | 'order';
    occurredAt?: string;
    firstConversionAt?: string;
    currency?: string;
  };
  credits: [string, string, string][];
  plan?: Partial<PlanVersion>;
  partners?: Record<string, { parent?: string }>;
  stats?: PeriodStats;
  fx?: ForeignExchange[];
  hold?: string[];
  lines: [string, string, string | null, string, string, string, string | null][];
  payableAt?: string;
  status?: 'pending' | 'held';
}

interface ReversalExample {
  example: string;
  original: {
    amount: string;
    currency: string;
    credits: [string, string][];
    lines: [string, string, string, string][];
  };
  parts: { amount: string; credits: string[]; lines: string[] }[];
}

type Example = AttributionExample | RatingExample | ReversalExample;

const examples: Example[] = [...markdown.matchAll(/```json example\n([\s\S]*?)\n```/g)].flatMap((match) => {
  const parsed = JSON.parse(match[1]!) as Example | Example[];
  return Array.isArray(parsed) ? parsed : [parsed];
});

const runAttribution = (ex: AttributionExample) => {
  const { amount, currency, renewalBoundTo, ...overrides } = ex.conversion;
  const decision = attribute({
    amount,
    currency,
    occurredAt: CONVERSION_AT,
    settings: settings(overrides),
    touches: ex.touches.map(([kind, touchId, partnerId, days, flags]) => ({
      kind,
      touchId,
      partnerId,
      at: daysBefore(days),
      fraudulent: false,
      partnerActiveAt: true,
      ...flags,
    })),
    customerBinding: renewalBoundTo === undefined ? null : { partnerId: renewalBoundTo },
    isRenewal: renewalBoundTo !== undefined,
  });
  expect(decision.basis).toBe(ex.basis);
  expect(decision.registrationId).toBe(ex.registrationId ?? null);
  expect(decision.credits.map((c) => [c.partnerId, c.weight, c.revenueCredit, c.role])).toEqual(ex.credits);
  expect(decision.influencers.map((i) => i.partnerId)).toEqual(ex.influencers);
};

const runRating = (ex: RatingExample) => {
  const partners = new Map<string, RatedPartner>(
    Object.entries(ex.partners ?? { [ex.credits[0]![0]]: {} }).map(([id, p]) => [
      id,
      partner(id, 'standard', { parentPartnerId: p.parent ?? null }),
    ]),
  );
  for (const [id] of ex.credits) if (!partners.has(id)) partners.set(id, partner(id));
  const result = rateCommissions(
    ratingInput({
      occurredAt: ex.conversion?.occurredAt ?? CONVERSION_AT,
      kind: ex.conversion?.kind ?? 'order',
      currency: ex.conversion?.currency ?? 'USD',
      customerFirstConversionAt: ex.conversion?.firstConversionAt ?? null,
      credits: ex.credits.map(([partnerId, weight, revenueCredit], i) => ({
        partnerId,
        weight,
        revenueCredit,
        role: i === 0 ? 'sourced' : 'influenced',
        touchIds: [],
      })),
      partners,
      plans: new Map([['standard', plan(ex.plan)]]),
      fx: ex.fx ?? [],
      periodStats: () => ex.stats ?? NO_STATS,
      hold: { reasons: ex.hold ?? [] },
    }),
  );
  if (E.isLeft(result)) throw new Error(JSON.stringify(result.left));
  const lines = result.right;
  expect(lines.map((l) => [l.partnerId, l.rule, l.tier, l.base, l.rate, l.amount, l.uncappedAmount])).toEqual(
    ex.lines,
  );
  if (ex.payableAt !== undefined) lines.forEach((l) => expect(l.payableAt).toBe(ex.payableAt));
  lines.forEach((l) => expect(l.status).toBe(ex.status ?? 'pending'));
};

const runReversal = (ex: ReversalExample) => {
  const { currency } = ex.original;
  const original = {
    conversionId: 'conv-1',
    amount: ex.original.amount,
    currency,
    credits: ex.original.credits.map(([partnerId, revenueCredit]) => ({ partnerId, revenueCredit })),
    commissions: ex.original.lines.map(([lineId, partnerId, amount, lineCurrency]) => ({
      lineId,
      partnerId,
      amount,
      currency: lineCurrency,
    })),
  } as unknown as ConversionAttributedData; // the reversal reads only these fields of the event
  let amount = 0n;
  const credits = new Map<string, bigint>();
  const lines = new Map<string, bigint>();
  for (const part of ex.parts) {
    const result = reverseConversion({
      original,
      amount: part.amount,
      reversedSoFar: {
        amount: formatMinor(amount, currency),
        credits: new Map([...credits].map(([k, v]) => [k, formatMinor(v, currency)])),
        lines: new Map([...lines].map(([k, v]) => [k, formatMinor(v, currency)])),
      },
    });
    if (E.isLeft(result)) throw new Error(JSON.stringify(result.left));
    expect(result.right.credits.map((c) => c.revenueCredit)).toEqual(part.credits);
    expect(result.right.lines.map((l) => l.amount)).toEqual(part.lines);
    amount += toMinor(part.amount, currency);
    result.right.credits.forEach((c) =>
      credits.set(c.partnerId, (credits.get(c.partnerId) ?? 0n) + toMinor(c.revenueCredit, currency)),
    );
    result.right.lines.forEach((l) =>
      lines.set(l.lineId, (lines.get(l.lineId) ?? 0n) + toMinor(l.amount, l.currency)),
    );
  }
};

describe('docs/attribution-and-commissions.md', () => {
  it('has worked examples for every model, every rule kind and reversals', () => {
    expect(examples.length).toBeGreaterThanOrEqual(25);
    const headings = [...markdown.matchAll(/^### Example: (.+)$/gm)].map((m) => m[1]!);
    for (const heading of headings) expect(examples.some((ex) => ex.example.startsWith(heading))).toBe(true);
    const models = examples.flatMap((ex) =>
      'touches' in ex && ex.conversion.model ? [ex.conversion.model] : [],
    );
    expect(new Set(models)).toEqual(
      new Set(['lastTouch', 'firstTouch', 'linear', 'positionBased', 'timeDecay']),
    );
    const rules = examples.flatMap((ex) =>
      'lines' in ex && !('original' in ex) ? ex.lines.map((l) => l[1]) : [],
    );
    expect(new Set(rules)).toEqual(
      new Set(['flat', 'revenueShare', 'tieredRevenueShare', 'twoTierOverride']),
    );
  });

  describe.each(examples.map((ex) => [ex.example, ex] as const))('%s', (_name, ex) => {
    it('gives the figures on the page', () => {
      if ('touches' in ex) runAttribution(ex);
      else if ('original' in ex) runReversal(ex);
      else runRating(ex);
    });
  });
});
