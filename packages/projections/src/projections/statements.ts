import type { LedgerEvent, LedgerEventOf } from '@partner-ledger/events';
import { formatMinor, toMinor } from '../money';
import { periodOf } from '../period';
import type { Granularity } from '../period';
import type { JsonValue } from '../runtime/json';
import { sortedEntries, sortedResult } from '../runtime/json';
import type { Projection, ResultContext } from '../runtime/projection';

/** How a commission line was earned, as recorded on its conversion: enough to recompute it by hand. */
export interface StatementLine {
  readonly conversionId: string;
  /** occurredAt of the conversion. */
  readonly accruedAt: string;
  readonly planId: string;
  readonly planVersion: number;
  readonly rule: string;
  readonly tier: string | null;
  readonly rate: string | null;
  readonly base: string;
  /** The line's commission (after caps). */
  readonly amount: string;
  readonly currency: string;
  readonly payableAt: string;
  readonly overrideOf: string | null;
}

/** One thing a payout settled: a commission line (with how it was earned), an adjustment or a clawback. */
export interface StatementItem {
  readonly kind: 'commission' | 'adjustment' | 'reversal';
  /** The line id, adjustment id or reversal id settled. */
  readonly id: string;
  /** How much of it this payout settles (signed: a recovered negative item is negative). */
  readonly settled: string;
  /** For a commission line, how it was earned; null for other items, or a line no longer known. */
  readonly line: StatementLine | null;
}

/** A payout in a statement: amount, method, status, and every item it settled. */
export interface StatementPayout {
  readonly payoutId: string;
  readonly occurredAt: string;
  readonly amount: string;
  readonly currency: string;
  readonly method: string;
  readonly externalReference: string | null;
  readonly status: 'issued' | 'failed';
  readonly failureReason: string | null;
  /** In the order the payout lists them: oldest first. */
  readonly items: readonly StatementItem[];
}

/** A partner's statement for one period: its payouts and their totals per currency. */
export interface PayoutStatement {
  readonly partnerId: string;
  readonly period: string;
  /** Ordered by occurredAt, then payout id. */
  readonly payouts: readonly StatementPayout[];
  /** currency -> issued, failed, and paid (issued - failed). */
  readonly totals: Readonly<
    Record<string, { readonly issued: string; readonly failed: string; readonly paid: string }>
  >;
}

/** The result of `payoutStatements`: every partner's statement, per period. */
export interface PayoutStatementsResult {
  readonly granularity: Granularity;
  readonly from: string | null;
  readonly to: string | null;
  /** partnerId -> period -> statement. */
  readonly statements: Readonly<Record<string, Readonly<Record<string, PayoutStatement>>>>;
}

/** The options of `payoutStatements`: granularity, partners and window of time. */
export interface PayoutStatementsOptions {
  /** Statement periods (by the payout's occurredAt, UTC). Default `month`. */
  readonly granularity?: Granularity;
  /** Only payouts with occurredAt >= from (inclusive). */
  readonly from?: string;
  /** Only payouts with occurredAt <= to (inclusive). */
  readonly to?: string;
  /** Only these partners. */
  readonly partnerIds?: readonly string[];
}

interface LineDetail extends StatementLine {
  readonly lineId: string;
  readonly partnerId: string;
  remaining: bigint;
}

interface MutablePayout extends Omit<StatementPayout, 'status' | 'failureReason'> {
  status: 'issued' | 'failed';
  failureReason: string | null;
}

/** The state of the payout statements projection (opaque: saved and loaded by checkpoints). */
export interface StatementsState {
  /** Lines not yet fully settled, reversed or rejected. */
  /** lineId -> the line packed into one string (see packLine): lines are many, and touched rarely. */
  readonly lines: Map<string, string>;
  /** Per partner, the lines its latest payout settled, to restore them if that payout fails. */
  readonly lastSettled: Map<string, { payoutId: string; items: Array<[packedLine: string, amount: bigint]> }>;
  /** partnerId -> period -> payoutId -> payout, for the payouts the options select. */
  readonly statements: Map<string, Map<string, Map<string, MutablePayout>>>;
}

// Tabs cannot occur in identifiers, texts or timestamps; \u0001 (a control character, equally impossible)
// stands for null.
const NULL = '\u0001';
const LINE_FIELDS = [
  'lineId',
  'partnerId',
  'conversionId',
  'accruedAt',
  'planId',
  'planVersion',
  'rule',
  'tier',
  'rate',
  'base',
  'amount',
  'currency',
  'payableAt',
  'overrideOf',
] as const;

/** A line as one flat string, remaining first: a fraction of the memory of an object with 15 fields. */
const packLine = (line: LineDetail): string =>
  [line.remaining.toString(), ...LINE_FIELDS.map((f) => (line[f] === null ? NULL : String(line[f])))].join(
    '\t',
  );

const unpackLine = (packed: string): LineDetail => {
  const [remaining, ...values] = packed.split('\t');
  const field = (i: number): string | null => (values[i] === NULL ? null : values[i]!);
  return {
    remaining: BigInt(remaining!),
    lineId: values[0]!,
    partnerId: values[1]!,
    conversionId: values[2]!,
    accruedAt: values[3]!,
    planId: values[4]!,
    planVersion: Number(values[5]),
    rule: values[6]!,
    tier: field(7),
    rate: field(8),
    base: values[9]!,
    amount: values[10]!,
    currency: values[11]!,
    payableAt: values[12]!,
    overrideOf: field(13),
  };
};

const withRemaining = (packed: string, remaining: bigint): string =>
  `${remaining}${packed.slice(packed.indexOf('\t'))}`;

const remainingOf = (packed: string): bigint => BigInt(packed.slice(0, packed.indexOf('\t')));

const reduce = (state: StatementsState, lineId: string, amount: bigint): void => {
  const packed = state.lines.get(lineId);
  if (packed === undefined) return;
  const remaining = remainingOf(packed) - amount;
  if (remaining <= 0n) state.lines.delete(lineId);
  else state.lines.set(lineId, withRemaining(packed, remaining));
};

const onPayout = (
  state: StatementsState,
  event: LedgerEventOf<'PayoutIssued'>,
  options: PayoutStatementsOptions,
  granularity: Granularity,
): void => {
  const d = event.data;
  const settled: Array<[string, bigint]> = [];
  const items: StatementItem[] = d.settles.map((item) => {
    if (item.kind !== 'commission') return { kind: item.kind, id: item.id, settled: item.amount, line: null };
    const packed = state.lines.get(item.id);
    const line = packed === undefined ? undefined : unpackLine(packed);
    const amount = toMinor(item.amount, d.currency);
    if (packed !== undefined) {
      reduce(state, item.id, amount);
      settled.push([withRemaining(packed, remainingOf(packed) - amount), amount]);
    }
    return {
      kind: 'commission',
      id: item.id,
      settled: item.amount,
      line:
        line === undefined
          ? null
          : {
              conversionId: line.conversionId,
              accruedAt: line.accruedAt,
              planId: line.planId,
              planVersion: line.planVersion,
              rule: line.rule,
              tier: line.tier,
              rate: line.rate,
              base: line.base,
              amount: line.amount,
              currency: line.currency,
              payableAt: line.payableAt,
              overrideOf: line.overrideOf,
            },
    };
  });
  state.lastSettled.set(d.partnerId, { payoutId: d.payoutId, items: settled });
  if (!selected(options, d.partnerId, event.occurredAt)) return;
  const period = periodOf(event.occurredAt, granularity);
  let periods = state.statements.get(d.partnerId);
  if (periods === undefined) state.statements.set(d.partnerId, (periods = new Map()));
  let payouts = periods.get(period);
  if (payouts === undefined) periods.set(period, (payouts = new Map()));
  payouts.set(d.payoutId, {
    payoutId: d.payoutId,
    occurredAt: event.occurredAt,
    amount: d.amount,
    currency: d.currency,
    method: d.method,
    externalReference: d.externalReference,
    status: 'issued',
    failureReason: null,
    items,
  });
};

const selected = (options: PayoutStatementsOptions, partnerId: string, occurredAt: string): boolean =>
  (options.from === undefined || occurredAt >= options.from) &&
  (options.to === undefined || occurredAt <= options.to) &&
  (options.partnerIds === undefined || options.partnerIds.includes(partnerId));

const onFailure = (state: StatementsState, event: LedgerEventOf<'PayoutFailed'>): void => {
  const d = event.data;
  const last = state.lastSettled.get(d.partnerId);
  if (last !== undefined && last.payoutId === d.payoutId) {
    // The lines it settled are owed again: a later payout may settle them, with their details.
    for (const [packed, amount] of last.items) {
      const lineId = unpackLine(packed).lineId;
      const current = state.lines.get(lineId) ?? packed;
      state.lines.set(lineId, withRemaining(current, remainingOf(current) + amount));
    }
    state.lastSettled.delete(d.partnerId);
  }
  for (const payouts of state.statements.get(d.partnerId)?.values() ?? []) {
    const payout = payouts.get(d.payoutId);
    if (payout !== undefined) {
      payout.status = 'failed';
      payout.failureReason = d.reason;
    }
  }
};

const apply =
  (options: PayoutStatementsOptions, granularity: Granularity) =>
  (state: StatementsState, event: LedgerEvent): StatementsState => {
    switch (event.type) {
      case 'ConversionAttributed':
        for (const line of event.data.commissions) {
          const amount = toMinor(line.amount, line.currency);
          if (amount <= 0n) continue;
          state.lines.set(
            line.lineId,
            packLine({
              lineId: line.lineId,
              partnerId: line.partnerId,
              conversionId: event.data.conversionId,
              accruedAt: event.occurredAt,
              planId: line.planId,
              planVersion: line.planVersion,
              rule: line.rule,
              tier: line.tier,
              rate: line.rate,
              base: line.base,
              amount: line.amount,
              currency: line.currency,
              payableAt: line.payableAt,
              overrideOf: line.overrideOf,
              remaining: amount,
            }),
          );
        }
        return state;
      case 'ConversionReversed':
        for (const line of event.data.lines) reduce(state, line.lineId, toMinor(line.amount, line.currency));
        return state;
      case 'CommissionRejected':
        state.lines.delete(event.data.lineId);
        return state;
      case 'PayoutIssued':
        onPayout(state, event, options, granularity);
        return state;
      case 'PayoutFailed':
        onFailure(state, event);
        return state;
      default:
        return state;
    }
  };

const result =
  (options: PayoutStatementsOptions, granularity: Granularity) =>
  (state: StatementsState, _context: ResultContext): PayoutStatementsResult => {
    const statements: Record<string, Record<string, PayoutStatement>> = {};
    for (const [partnerId, periods] of sortedEntries(state.statements)) {
      const byPeriod: Record<string, PayoutStatement> = {};
      for (const [period, payouts] of sortedEntries(periods)) {
        const list = [...payouts.values()].sort((a, b) =>
          a.occurredAt === b.occurredAt
            ? a.payoutId < b.payoutId
              ? -1
              : 1
            : a.occurredAt < b.occurredAt
              ? -1
              : 1,
        );
        const sums = new Map<string, { issued: bigint; failed: bigint }>();
        for (const p of list) {
          let sum = sums.get(p.currency);
          if (sum === undefined) sums.set(p.currency, (sum = { issued: 0n, failed: 0n }));
          const amount = toMinor(p.amount, p.currency);
          sum.issued += amount;
          if (p.status === 'failed') sum.failed += amount;
        }
        byPeriod[period] = {
          partnerId,
          period,
          payouts: list.map((p) => ({ ...p, items: [...p.items] })),
          totals: Object.fromEntries(
            sortedEntries(sums).map(([c, s]) => [
              c,
              {
                issued: formatMinor(s.issued, c),
                failed: formatMinor(s.failed, c),
                paid: formatMinor(s.issued - s.failed, c),
              },
            ]),
          ),
        };
      }
      statements[partnerId] = byPeriod;
    }
    return sortedResult({
      granularity,
      from: options.from ?? null,
      to: options.to ?? null,
      statements,
    });
  };

/**
 * Payout statements: per partner and period, each payout with the commission lines it settled and how each
 * line was earned (plan id and version, rule, tier, rate, base). Keeps the statements of the payouts that
 * the options select (a period range, some partners), so that its memory is what you ask to see.
 */
export const payoutStatements = (
  options: PayoutStatementsOptions = {},
): Projection<StatementsState, PayoutStatementsResult> => {
  const granularity = options.granularity ?? 'month';
  return {
    name: 'payoutStatements',
    eventTypes: [
      'ConversionAttributed',
      'ConversionReversed',
      'CommissionRejected',
      'PayoutIssued',
      'PayoutFailed',
    ],
    initialState: () => ({ lines: new Map(), lastSettled: new Map(), statements: new Map() }),
    apply: apply(options, granularity),
    result: result(options, granularity),
    save: (state) =>
      ({
        lines: sortedEntries(state.lines).map(([, packed]) => packed),
        lastSettled: sortedEntries(state.lastSettled).map(([partnerId, last]) => [
          partnerId,
          last.payoutId,
          last.items.map(([packed, amount]) => [packed, amount.toString()]),
        ]),
        statements: sortedEntries(state.statements).map(([partnerId, periods]) => [
          partnerId,
          sortedEntries(periods).map(([period, payouts]) => [
            period,
            sortedEntries(payouts).map(([, payout]) => payout),
          ]),
        ]),
      }) as unknown as JsonValue,
    load: (json) => {
      const s = json as unknown as {
        lines: string[];
        lastSettled: Array<[string, string, Array<[string, string]>]>;
        statements: Array<[string, Array<[string, MutablePayout[]]>]>;
      };
      return {
        lines: new Map(s.lines.map((packed) => [unpackLine(packed).lineId, packed])),
        lastSettled: new Map(
          s.lastSettled.map(([partnerId, payoutId, items]) => [
            partnerId,
            { payoutId, items: items.map(([packed, amount]): [string, bigint] => [packed, BigInt(amount)]) },
          ]),
        ),
        statements: new Map(
          s.statements.map(([partnerId, periods]) => [
            partnerId,
            new Map(
              periods.map(([period, payouts]) => [period, new Map(payouts.map((p) => [p.payoutId, p]))]),
            ),
          ]),
        ),
      };
    },
  };
};
