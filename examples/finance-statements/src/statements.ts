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
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(options.month))
    throw new RangeError(`month must look like 2026-02, got ${options.month}`);
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
