import type {
  CommissionBalancesResult,
  EcosystemHealthResult,
  PartnerRevenueResult,
  PayoutStatementsResult,
} from '@partner-ledger/projections';
import type { FactsState, LineChangeFact, LineFact, MovementFact, PartnerFact } from './facts';
import { formatMinorUnits, outstandingOf, settledOf, statusOf } from './facts';
import type { RevenueMovementFact } from './revenue-facts';

/** A column of a read-model table: its SQL name and type. */
export interface ColumnDefinition {
  readonly name: string;
  readonly type: 'text' | 'numeric' | 'integer' | 'bigint' | 'timestamptz' | 'date' | 'boolean';
}

/** A read-model table: name, columns, primary key. */
export interface TableDefinition {
  readonly name: string;
  readonly columns: readonly ColumnDefinition[];
  readonly key: readonly string[];
}

/** A row: its values in the order of the table's columns (money as decimal strings, never JS numbers). */
export type Row = ReadonlyArray<string | number | boolean | null>;

const c = (name: string, type: ColumnDefinition['type']): ColumnDefinition => ({ name, type });

/** Every table the projector keeps, in the order they are written. */
export const TABLES: readonly TableDefinition[] = [
  {
    name: 'partners',
    columns: [
      c('partner_id', 'text'),
      c('partner_type', 'text'),
      c('tier', 'text'),
      c('status', 'text'),
      c('parent_partner_id', 'text'),
      c('plan_id', 'text'),
      c('payout_currency', 'text'),
      c('joined_at', 'timestamptz'),
      c('joined_recorded_at', 'timestamptz'),
      c('changed_at', 'timestamptz'),
      c('changed_recorded_at', 'timestamptz'),
      c('position', 'bigint'),
    ],
    key: ['partner_id'],
  },
  {
    name: 'partner_revenue',
    columns: [
      c('partner_id', 'text'),
      c('period', 'text'),
      c('period_start', 'date'),
      c('basis', 'text'),
      c('currency', 'text'),
      c('attributed', 'numeric'),
      c('sourced', 'numeric'),
      c('influenced', 'numeric'),
      c('conversions', 'integer'),
    ],
    key: ['partner_id', 'period', 'basis', 'currency'],
  },
  {
    name: 'partner_type_revenue',
    columns: [
      c('partner_type', 'text'),
      c('period', 'text'),
      c('period_start', 'date'),
      c('basis', 'text'),
      c('currency', 'text'),
      c('attributed', 'numeric'),
      c('sourced', 'numeric'),
      c('influenced', 'numeric'),
      c('conversions', 'integer'),
    ],
    key: ['partner_type', 'period', 'basis', 'currency'],
  },
  {
    name: 'program_revenue',
    columns: [
      c('period', 'text'),
      c('period_start', 'date'),
      c('basis', 'text'),
      c('currency', 'text'),
      c('total', 'numeric'),
      c('attributed', 'numeric'),
      c('sourced', 'numeric'),
      c('influenced', 'numeric'),
      c('unattributed', 'numeric'),
      c('conversions', 'integer'),
    ],
    key: ['period', 'basis', 'currency'],
  },
  {
    name: 'commission_balances',
    columns: [
      c('partner_id', 'text'),
      c('currency', 'text'),
      c('accrued', 'numeric'),
      c('reversed', 'numeric'),
      c('rejected', 'numeric'),
      c('paid', 'numeric'),
      c('payouts_failed', 'numeric'),
      c('adjustments', 'numeric'),
      c('balance', 'numeric'),
      c('pending', 'numeric'),
      c('held', 'numeric'),
      c('payable', 'numeric'),
      c('negative', 'boolean'),
    ],
    key: ['partner_id', 'currency'],
  },
  {
    name: 'commission_lines',
    columns: [
      c('line_id', 'text'),
      c('partner_id', 'text'),
      c('conversion_id', 'text'),
      c('plan_id', 'text'),
      c('plan_version', 'integer'),
      c('rule', 'text'),
      c('tier', 'text'),
      c('rate', 'text'),
      c('base', 'numeric'),
      c('amount', 'numeric'),
      c('currency', 'text'),
      c('reversed', 'numeric'),
      c('settled', 'numeric'),
      c('outstanding', 'numeric'),
      c('status', 'text'),
      c('hold_reason', 'text'),
      c('override_of', 'text'),
      c('earned_at', 'timestamptz'),
      c('recorded_at', 'timestamptz'),
      c('payable_at', 'timestamptz'),
      c('changed_at', 'timestamptz'),
      c('changed_recorded_at', 'timestamptz'),
      c('position', 'bigint'),
    ],
    key: ['line_id'],
  },
  {
    name: 'payouts',
    columns: [
      c('payout_id', 'text'),
      c('partner_id', 'text'),
      c('period', 'text'),
      c('amount', 'numeric'),
      c('currency', 'text'),
      c('method', 'text'),
      c('external_reference', 'text'),
      c('status', 'text'),
      c('failure_reason', 'text'),
      c('occurred_at', 'timestamptz'),
      c('recorded_at', 'timestamptz'),
      c('failed_at', 'timestamptz'),
      c('failed_recorded_at', 'timestamptz'),
    ],
    key: ['payout_id'],
  },
  {
    name: 'balance_movements',
    columns: [
      c('position', 'bigint'),
      c('movement', 'integer'),
      c('event_id', 'text'),
      c('kind', 'text'),
      c('partner_id', 'text'),
      c('currency', 'text'),
      c('amount', 'numeric'),
      c('item_id', 'text'),
      c('effective_at', 'timestamptz'),
      c('recorded_at', 'timestamptz'),
    ],
    key: ['position', 'movement'],
  },
  {
    name: 'commission_line_changes',
    columns: [
      c('position', 'bigint'),
      c('change', 'integer'),
      c('kind', 'text'),
      c('line_id', 'text'),
      c('partner_id', 'text'),
      c('currency', 'text'),
      c('amount', 'numeric'),
      c('held', 'boolean'),
      c('status', 'text'),
      c('hold_reason', 'text'),
      c('payable_at', 'timestamptz'),
      c('effective_at', 'timestamptz'),
      c('recorded_at', 'timestamptz'),
    ],
    key: ['position', 'change'],
  },
  {
    name: 'revenue_movements',
    columns: [
      c('position', 'bigint'),
      c('entry', 'integer'),
      c('event_id', 'text'),
      c('kind', 'text'),
      c('conversion_id', 'text'),
      c('partner_id', 'text'),
      c('partner_type', 'text'),
      c('basis', 'text'),
      c('currency', 'text'),
      c('attributed', 'numeric'),
      c('sourced', 'numeric'),
      c('influenced', 'numeric'),
      c('conversions', 'integer'),
      c('effective_at', 'timestamptz'),
      c('recorded_at', 'timestamptz'),
    ],
    key: ['position', 'entry'],
  },
  {
    name: 'payout_items',
    columns: [
      c('payout_id', 'text'),
      c('item_number', 'integer'),
      c('kind', 'text'),
      c('item_id', 'text'),
      c('settled', 'numeric'),
      c('currency', 'text'),
    ],
    key: ['payout_id', 'item_number'],
  },
  {
    name: 'ecosystem_health',
    columns: [
      c('period', 'text'),
      c('period_start', 'date'),
      c('basis', 'text'),
      c('currency', 'text'),
      c('total', 'numeric'),
      c('sourced', 'numeric'),
      c('influenced', 'numeric'),
      c('renewal', 'numeric'),
    ],
    key: ['period', 'basis', 'currency'],
  },
  {
    name: 'partner_activity',
    columns: [
      c('period', 'text'),
      c('period_start', 'date'),
      c('partner_type', 'text'),
      c('new_partners', 'integer'),
      c('churned_partners', 'integer'),
    ],
    key: ['period', 'partner_type'],
  },
  {
    name: 'partner_health',
    columns: [
      c('partner_id', 'text'),
      c('partner_type', 'text'),
      c('joined_at', 'timestamptz'),
      c('last_activity_at', 'timestamptz'),
      c('active', 'boolean'),
      c('clicks', 'integer'),
      c('fraud_clicks', 'integer'),
      c('conversions', 'integer'),
      c('first_conversion_at', 'timestamptz'),
      c('days_to_first_conversion', 'integer'),
    ],
    key: ['partner_id'],
  },
];

/** The results the rows are made from: the built-in projections (month granularity) and the facts. */
export interface ProjectedResults {
  readonly revenue: PartnerRevenueResult;
  readonly balances: CommissionBalancesResult;
  readonly statements: PayoutStatementsResult;
  readonly health: EcosystemHealthResult;
  readonly facts: FactsState;
}

/** A month key ("2026-03") as the date it starts on. */
const periodStart = (period: string): string => `${period}-01`;

const sorted = <T>(record: Readonly<Record<string, T>>): Array<[string, T]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** The tables whose rows are the facts' entries, one each: the projector writes the entries that changed. */
export const FACT_TABLES: ReadonlySet<string> = new Set([
  'partners',
  'commission_lines',
  'balance_movements',
  'commission_line_changes',
  'revenue_movements',
]);

/** A partner's row of the partners table. */
export const partnerRow = (id: string, p: PartnerFact): Row => [
  id,
  p.partnerType,
  p.tier,
  p.status,
  p.parentPartnerId,
  p.planId,
  p.payoutCurrency,
  p.joinedAt,
  p.joinedRecordedAt,
  p.changedAt,
  p.changedRecordedAt,
  p.position,
];

/** A line's row of the commission_lines table. */
export const lineRow = (lineId: string, l: LineFact): Row => [
  lineId,
  l.partnerId,
  l.conversionId,
  l.planId,
  l.planVersion,
  l.rule,
  l.tier,
  l.rate,
  l.base,
  formatMinorUnits(BigInt(l.amount), l.currency),
  l.currency,
  formatMinorUnits(BigInt(l.reversed), l.currency),
  formatMinorUnits(settledOf(l), l.currency),
  formatMinorUnits(outstandingOf(l), l.currency),
  statusOf(l),
  l.holdReason,
  l.overrideOf,
  l.earnedAt,
  l.recordedAt,
  l.payableAt,
  l.changedAt,
  l.changedRecordedAt,
  l.position,
];

/** A movement's row of the balance_movements table. */
export const movementRow = (m: MovementFact): Row => [
  m.position,
  m.movement,
  m.eventId,
  m.kind,
  m.partnerId,
  m.currency,
  m.amount,
  m.itemId,
  m.effectiveAt,
  m.recordedAt,
];

/** A line change's row of the commission_line_changes table. */
export const lineChangeRow = (ch: LineChangeFact): Row => [
  ch.position,
  ch.change,
  ch.kind,
  ch.lineId,
  ch.partnerId,
  ch.currency,
  ch.amount,
  ch.held,
  ch.status,
  ch.holdReason,
  ch.payableAt,
  ch.effectiveAt,
  ch.recordedAt,
];

/** A revenue movement's row of the revenue_movements table. */
export const revenueMovementRow = (r: RevenueMovementFact): Row => [
  r.position,
  r.entry,
  r.eventId,
  r.kind,
  r.conversionId,
  r.partnerId,
  r.partnerType,
  r.basis,
  r.currency,
  r.attributed,
  r.sourced,
  r.influenced,
  r.conversions,
  r.effectiveAt,
  r.recordedAt,
];

/** Every table's rows for the results: table name -> rows. */
export const rowsOf = (results: ProjectedResults): Map<string, Row[]> => {
  const tables = derivedRowsOf(results);
  for (const [id, p] of sorted(results.facts.partners)) tables.get('partners')!.push(partnerRow(id, p));
  for (const [lineId, l] of sorted(results.facts.lines))
    tables.get('commission_lines')!.push(lineRow(lineId, l));
  for (const m of results.facts.movements) tables.get('balance_movements')!.push(movementRow(m));
  for (const ch of results.facts.lineChanges) tables.get('commission_line_changes')!.push(lineChangeRow(ch));
  for (const r of results.facts.revenueMovements)
    tables.get('revenue_movements')!.push(revenueMovementRow(r));
  return tables;
};

/** The rows of every table but the FACT_TABLES (left empty): those made from the built-in projections. */
export const derivedRowsOf = (results: ProjectedResults): Map<string, Row[]> => {
  const tables = new Map<string, Row[]>(TABLES.map((table) => [table.name, []]));
  const push = (name: string, row: Row): void => {
    tables.get(name)!.push(row);
  };
  const { revenue, balances, statements, health } = results;

  const reporting = revenue.reportingCurrency;
  for (const [partnerId, series] of sorted(revenue.partners))
    for (const [period, block] of sorted(series.periods)) {
      for (const [currency, f] of sorted(block.byCurrency))
        push('partner_revenue', [
          partnerId,
          period,
          periodStart(period),
          'native',
          currency,
          f.attributed,
          f.sourced,
          f.influenced,
          f.conversions,
        ]);
      if (block.reporting !== null && reporting !== null) {
        const f = block.reporting;
        push('partner_revenue', [
          partnerId,
          period,
          periodStart(period),
          'reporting',
          reporting,
          f.attributed,
          f.sourced,
          f.influenced,
          f.conversions,
        ]);
      }
    }
  // By type, as the projection counts it: a conversion two partners of one type touched counts once for the
  // type, so these are facts of their own, not sums of partner_revenue.
  for (const [type, series] of sorted(revenue.partnerTypes))
    for (const [period, block] of sorted(series.periods)) {
      const figures = [
        ...sorted(block.byCurrency).map(([currency, f]) => ['native', currency, f] as const),
        ...(block.reporting !== null && reporting !== null
          ? [['reporting', reporting, block.reporting] as const]
          : []),
      ];
      for (const [basis, currency, f] of figures)
        push('partner_type_revenue', [
          type,
          period,
          periodStart(period),
          basis,
          currency,
          f.attributed,
          f.sourced,
          f.influenced,
          f.conversions,
        ]);
    }
  for (const [period, block] of sorted(revenue.program.periods)) {
    const figures = [
      ...sorted(block.byCurrency).map(([currency, f]) => ['native', currency, f] as const),
      ...(block.reporting !== null && reporting !== null
        ? [['reporting', reporting, block.reporting] as const]
        : []),
    ];
    for (const [basis, currency, f] of figures)
      push('program_revenue', [
        period,
        periodStart(period),
        basis,
        currency,
        f.total,
        f.attributed,
        f.sourced,
        f.influenced,
        f.unattributed,
        f.conversions,
      ]);
  }

  for (const [partnerId, byCurrency] of sorted(balances.partners))
    for (const [currency, b] of sorted(byCurrency))
      push('commission_balances', [
        partnerId,
        currency,
        b.accrued,
        b.reversed,
        b.rejected,
        b.paid,
        b.payoutsFailed,
        b.adjustments,
        b.balance,
        b.pending,
        b.held,
        b.payable,
        b.negative,
      ]);

  for (const [partnerId, periods] of sorted(statements.statements))
    for (const [period, statement] of sorted(periods))
      for (const payout of statement.payouts) {
        const times = results.facts.payouts[payout.payoutId];
        push('payouts', [
          payout.payoutId,
          partnerId,
          period,
          payout.amount,
          payout.currency,
          payout.method,
          payout.externalReference,
          payout.status,
          payout.failureReason,
          payout.occurredAt,
          times?.recordedAt ?? null,
          times?.failedAt ?? null,
          times?.failedRecordedAt ?? null,
        ]);
        payout.items.forEach((item, i) =>
          push('payout_items', [payout.payoutId, i + 1, item.kind, item.id, item.settled, payout.currency]),
        );
      }

  const healthReporting = health.reportingCurrency;
  for (const [period, block] of sorted(health.revenue.periods)) {
    const figures = [
      ...sorted(block.byCurrency).map(([currency, f]) => ['native', currency, f] as const),
      ...(block.reporting !== null && healthReporting !== null
        ? [['reporting', healthReporting, block.reporting] as const]
        : []),
    ];
    for (const [basis, currency, f] of figures)
      push('ecosystem_health', [
        period,
        periodStart(period),
        basis,
        currency,
        f.total,
        f.sourced,
        f.influenced,
        f.renewal,
      ]);
  }
  const activity = new Map<string, [number, number]>();
  for (const [period, counts] of sorted(health.newPartners))
    for (const [type, n] of sorted(counts.byType)) activity.set(`${period}\u0001${type}`, [n, 0]);
  for (const [period, counts] of sorted(health.churnedPartners))
    for (const [type, n] of sorted(counts.byType)) {
      const key = `${period}\u0001${type}`;
      activity.set(key, [activity.get(key)?.[0] ?? 0, n]);
    }
  for (const [key, [joined, churned]] of [...activity].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [period, type] = key.split('\u0001') as [string, string];
    push('partner_activity', [period, periodStart(period), type, joined, churned]);
  }
  for (const [partnerId, p] of sorted(health.partners))
    push('partner_health', [
      partnerId,
      p.partnerType,
      p.joinedAt,
      p.lastActivityAt,
      p.active,
      p.clicks,
      p.fraudClicks,
      p.conversions,
      p.firstConversionAt,
      p.daysToFirstConversion,
    ]);
  return tables;
};
