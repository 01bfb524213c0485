import { stringify } from 'csv-stringify/sync';
import { commissionBalances, payoutStatements, replay } from '@partner-ledger/projections';
import type { EventStore } from '@partner-ledger/store';

export interface MonthEndOptions {
  /** The month to close, "2026-02". */
  readonly month: string;
  /**
   * As known at: the moment the books are closed (default: everything recorded so far). Running the
   * script again later with the same `knownAt` gives the same files, byte for byte, whatever was recorded
   * since: late refunds land in the next close, not in this one.
   */
  readonly knownAt?: string;
}

export interface MonthEndFiles {
  /** One row per item each payout of the month settled, with how its commission was earned. */
  readonly statementsCsv: string;
  /** One row per partner and currency: the balance at the end of the month. */
  readonly balancesCsv: string;
  readonly payouts: number;
}

/** The arguments of `node dist/main.js`, read, or what is wrong with them. */
export type MonthEndArgs =
  | { readonly month: string; readonly store?: string; readonly knownAt?: string }
  | { readonly problem: string };

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Reads `YYYY-MM [--store DIR] [--known-at TIME]`: a bad month or time is named, never a stack trace. */
export const parseMonthEndArgs = (args: readonly string[]): MonthEndArgs => {
  let month: string | undefined;
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--store' || arg === '--known-at') {
      const value = args[i + 1];
      if (value === undefined) return { problem: `${arg} needs a value` };
      flags[arg.slice(2)] = value;
      i += 1;
    } else if (arg.startsWith('--')) return { problem: `unknown flag ${arg}` };
    else if (month === undefined) month = arg;
    else return { problem: `unexpected argument ${JSON.stringify(arg)}` };
  }
  if (month === undefined) return { problem: 'which month? (YYYY-MM, such as 2026-02)' };
  if (!MONTH.test(month))
    return {
      problem: `month: expected YYYY-MM with a month from 01 to 12 (such as 2026-02), got ${JSON.stringify(month)}`,
    };
  const knownAt = flags['known-at'];
  if (knownAt !== undefined && (!TIME.test(knownAt) || Number.isNaN(Date.parse(knownAt))))
    return {
      problem: `--known-at: expected a time with its zone (such as 2026-03-05T09:00:00Z), got ${JSON.stringify(knownAt)}`,
    };
  return {
    month,
    ...(flags.store === undefined ? {} : { store: flags.store }),
    ...(knownAt === undefined ? {} : { knownAt: new Date(knownAt).toISOString() }),
  };
};

/** The last millisecond of a month, UTC: "2026-02" -> "2026-02-28T23:59:59.999Z". */
export const endOfMonth = (month: string): string => {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m, 1) - 1).toISOString();
};

/**
 * The month-end close: the payout statements of the month (every commission line, adjustment or clawback
 * each payout settled, with plan version, rule, rate and base, so that a partner can check every cent) and
 * the balances at the end of the month, both replayed from the ledger as of that moment.
 */
export const monthEndFiles = async (store: EventStore, options: MonthEndOptions): Promise<MonthEndFiles> => {
  if (!MONTH.test(options.month)) throw new RangeError(`month must look like 2026-02, got ${options.month}`);
  const from = `${options.month}-01T00:00:00.000Z`;
  const to = endOfMonth(options.month);
  const { results } = await replay(
    store,
    { statements: payoutStatements({ granularity: 'month', from, to }), balances: commissionBalances() },
    {
      effectiveAt: to,
      ...(options.knownAt === undefined ? {} : { asKnownAt: { recordedAt: options.knownAt } }),
    },
  );
  const statementRows: string[][] = [];
  let payouts = 0;
  for (const partnerId of Object.keys(results.statements.statements).sort()) {
    const statement = results.statements.statements[partnerId]![options.month];
    for (const payout of statement?.payouts ?? []) {
      payouts += 1;
      for (const item of payout.items)
        statementRows.push([
          partnerId,
          payout.payoutId,
          payout.occurredAt.slice(0, 10),
          payout.status,
          payout.currency,
          item.kind,
          item.id,
          item.settled,
          item.line?.conversionId ?? '',
          item.line === null ? '' : `${item.line.planId} v${item.line.planVersion}`,
          item.line?.rule ?? '',
          item.line?.rate ?? '',
          item.line?.base ?? '',
          item.line?.amount ?? '',
        ]);
    }
  }
  const balanceRows: string[][] = [];
  for (const partnerId of Object.keys(results.balances.partners).sort())
    for (const [currency, b] of Object.entries(results.balances.partners[partnerId]!).sort(([a], [c]) =>
      a < c ? -1 : 1,
    ))
      balanceRows.push([
        partnerId,
        currency,
        b.accrued,
        b.reversed,
        b.paid,
        b.adjustments,
        b.balance,
        b.pending,
        b.held,
        b.payable,
      ]);
  return {
    statementsCsv: stringify(statementRows, {
      header: true,
      columns: [
        'partner',
        'payout',
        'paid_on',
        'status',
        'currency',
        'item_kind',
        'item',
        'settled',
        'conversion',
        'plan',
        'rule',
        'rate',
        'base',
        'line_amount',
      ],
    }),
    balancesCsv: stringify(balanceRows, {
      header: true,
      columns: [
        'partner',
        'currency',
        'accrued',
        'reversed',
        'paid',
        'adjustments',
        'balance',
        'pending',
        'held',
        'payable',
      ],
    }),
    payouts,
  };
};
