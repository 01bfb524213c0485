import { LedgerDecimal } from '@partner-ledger/events';
import type {
  CommissionBalancesResult,
  EcosystemHealthResult,
  PartnerBalance,
  PartnerRevenueResult,
  PayoutStatementsResult,
  RevenueFigures,
} from '@partner-ledger/projections';
import type { Rows } from './table';

// Each report as rows for the table and CSV formats. Rows are sorted by their keys (partner id, period,
// currency), so that the same events always print the same bytes.

const byKey = <T>(record: Readonly<Record<string, T>>): Array<[string, T]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const text = (value: string | number | null | undefined): string =>
  value === null || value === undefined ? '' : String(value);

const REVENUE_COLUMNS = ['attributed', 'sourced', 'influenced', 'conversions', 'sourcedShare'] as const;

const revenueCells = (f: RevenueFigures): Record<string, string> => ({
  attributed: f.attributed,
  sourced: f.sourced,
  influenced: f.influenced,
  conversions: text(f.conversions),
  sourcedShare: text(f.sourcedShare),
});

export type RevenueBy = 'partner' | 'type' | 'day' | 'month' | 'quarter';

/**
 * Which rows a report prints: `table` for people (totals rows such as `(program)` and `(all)`, reporting
 * currency rows marked `USD*`, several amounts in one cell), `csv` for spreadsheets and BI tools (one fact
 * per row: no total rows, a `basis` column (native or reporting) instead of the `*`, one currency per row).
 */
export type RowsMode = 'table' | 'csv';

/** Whether two figure sets say the same: every field equal (figures are decimal strings and counts). */
const sameFigures = (a: object | undefined, b: object): boolean =>
  a !== undefined &&
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(b).every(([field, value]) => (a as Record<string, unknown>)[field] === value);

/**
 * A row in the reporting currency is shown unless it would repeat the block's row in that currency, figure
 * for figure. Some revenue in another currency makes it differ; so can a share: a block all in USD has the
 * same amounts in both rows, but its sourcedShare in USD* is of the program's revenue converted into USD,
 * not of its USD revenue as recorded.
 */
const showsReporting = (
  block: { readonly byCurrency: Readonly<Record<string, object>>; readonly reporting: object | null },
  reporting: string | null,
): boolean =>
  reporting !== null &&
  block.reporting !== null &&
  (Object.keys(block.byCurrency).some((c) => c !== reporting) ||
    !sameFigures(block.byCurrency[reporting], block.reporting));

/**
 * Revenue per partner, per partner type, or for the program per period; one row per currency (and a row
 * in the reporting currency, marked with `*` after the code, when the conversions recorded the rates).
 */
export const revenueRows = (result: PartnerRevenueResult, by: RevenueBy, mode: RowsMode = 'table'): Rows => {
  if (mode === 'csv') return revenueFacts(result, by);
  const reporting = result.reportingCurrency;
  const numeric = new Set<string>([...REVENUE_COLUMNS, 'total']);
  if (by === 'partner' || by === 'type') {
    const key = by === 'partner' ? 'partner' : 'partnerType';
    const series = by === 'partner' ? result.partners : result.partnerTypes;
    const rows = byKey(series).flatMap(([id, s]) => {
      const partnerType: Record<string, string> =
        by === 'partner' ? { partnerType: (s as { partnerType?: string }).partnerType ?? '' } : {};
      return [
        ...byKey(s.total.byCurrency).map(([currency, f]) => ({
          [key]: id,
          ...partnerType,
          currency,
          ...revenueCells(f),
        })),
        ...(showsReporting(s.total, reporting)
          ? [{ [key]: id, ...partnerType, currency: `${reporting}*`, ...revenueCells(s.total.reporting!) }]
          : []),
      ];
    });
    const program = result.program.total;
    const programRows = [
      ...byKey(program.byCurrency).map(([currency, f]) => ({
        [key]: '(program)',
        currency,
        total: f.total,
        ...revenueCells(f),
      })),
      ...(showsReporting(program, reporting)
        ? [
            {
              [key]: '(program)',
              currency: `${reporting}*`,
              total: program.reporting!.total,
              ...revenueCells(program.reporting!),
            },
          ]
        : []),
    ];
    return {
      columns: [key, ...(by === 'partner' ? ['partnerType'] : []), 'currency', 'total', ...REVENUE_COLUMNS],
      numeric,
      rows: [...rows, ...programRows],
    };
  }
  const rows = byKey(result.program.periods).flatMap(([period, block]) => [
    ...byKey(block.byCurrency).map(([currency, f]) => ({
      period,
      currency,
      total: f.total,
      ...revenueCells(f),
      unattributed: f.unattributed,
    })),
    ...(!showsReporting(block, reporting)
      ? []
      : [
          {
            period,
            currency: `${reporting}*`,
            total: block.reporting!.total,
            ...revenueCells(block.reporting!),
            unattributed: block.reporting!.unattributed,
          },
        ]),
  ]);
  return {
    columns: ['period', 'currency', 'total', ...REVENUE_COLUMNS, 'unattributed'],
    numeric: new Set([...numeric, 'unattributed']),
    rows,
  };
};

/** A block's rows, one per currency, then one in the reporting currency (when the rates were recorded). */
const factsOf = <F>(
  block: { readonly byCurrency: Readonly<Record<string, F>>; readonly reporting: F | null },
  reporting: string | null,
): Array<[basis: string, currency: string, figures: F]> => [
  ...byKey(block.byCurrency).map(([currency, f]) => ['native', currency, f] as [string, string, F]),
  ...(reporting !== null && block.reporting !== null
    ? [['reporting', reporting, block.reporting] as [string, string, F]]
    : []),
];

/** Revenue for CSV: one fact per row, no program totals, the reporting currency as basis `reporting`. */
const revenueFacts = (result: PartnerRevenueResult, by: RevenueBy): Rows => {
  const reporting = result.reportingCurrency;
  const numeric = new Set<string>([...REVENUE_COLUMNS, 'total', 'unattributed']);
  if (by === 'partner' || by === 'type') {
    const key = by === 'partner' ? 'partner' : 'partnerType';
    const series = by === 'partner' ? result.partners : result.partnerTypes;
    return {
      columns: [key, ...(by === 'partner' ? ['partnerType'] : []), 'basis', 'currency', ...REVENUE_COLUMNS],
      numeric,
      rows: byKey(series).flatMap(([id, s]) =>
        factsOf(s.total, reporting).map(([basis, currency, f]) => ({
          [key]: id,
          ...(by === 'partner' ? { partnerType: (s as { partnerType?: string }).partnerType ?? '' } : {}),
          basis,
          currency,
          ...revenueCells(f),
        })),
      ),
    };
  }
  return {
    columns: ['period', 'basis', 'currency', 'total', ...REVENUE_COLUMNS, 'unattributed'],
    numeric,
    rows: byKey(result.program.periods).flatMap(([period, block]) =>
      factsOf(block, reporting).map(([basis, currency, f]) => ({
        period,
        basis,
        currency,
        total: f.total,
        ...revenueCells(f),
        unattributed: f.unattributed,
      })),
    ),
  };
};

const BALANCE_COLUMNS = [
  'accrued',
  'reversed',
  'paid',
  'adjustments',
  'balance',
  'pending',
  'held',
  'payable',
] as const satisfies ReadonlyArray<keyof PartnerBalance>;

const balanceCells = (b: Pick<PartnerBalance, (typeof BALANCE_COLUMNS)[number]>): Record<string, string> =>
  Object.fromEntries(BALANCE_COLUMNS.map((c) => [c, b[c]]));

const sumBalances = (items: readonly PartnerBalance[]): Record<string, string> => {
  const sums = Object.fromEntries(BALANCE_COLUMNS.map((c) => [c, new LedgerDecimal(0)]));
  for (const item of items) for (const c of BALANCE_COLUMNS) sums[c] = sums[c]!.plus(item[c]);
  // Every figure of a currency has the same number of decimals, so the sums keep them.
  const decimals = (items[0]?.accrued.split('.')[1] ?? '').length;
  return Object.fromEntries(BALANCE_COLUMNS.map((c) => [c, sums[c]!.toFixed(decimals)]));
};

/** Commission balances per partner or per partner type, one row per currency, then the totals. */
export const balanceRows = (
  result: CommissionBalancesResult,
  by: 'partner' | 'type',
  partnerTypes: ReadonlyMap<string, string>,
  mode: RowsMode = 'table',
): Rows => {
  const numeric = new Set<string>([...BALANCE_COLUMNS, 'partners', 'negative']);
  const totals = (mode === 'csv' ? [] : byKey(result.totals)).map(([currency, t]) => ({
    [by === 'partner' ? 'partner' : 'partnerType']: '(all)',
    currency,
    ...balanceCells(t),
    negative: text(t.partnersWithNegativeBalance),
  }));
  if (by === 'partner') {
    const rows = byKey(result.partners).flatMap(([partner, currencies]) =>
      byKey(currencies).map(([currency, b]) => ({
        partner,
        partnerType: partnerTypes.get(partner) ?? '',
        currency,
        ...balanceCells(b),
        negative: b.negative ? 'yes' : '',
      })),
    );
    return {
      columns: ['partner', 'partnerType', 'currency', ...BALANCE_COLUMNS, 'negative'],
      numeric,
      rows: [...rows, ...totals],
    };
  }
  const groups = new Map<string, PartnerBalance[]>();
  for (const [partner, currencies] of Object.entries(result.partners))
    for (const [currency, b] of Object.entries(currencies)) {
      const key = `${partnerTypes.get(partner) ?? '(unknown)'}\u0000${currency}`;
      groups.set(key, [...(groups.get(key) ?? []), b]);
    }
  const rows = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, items]) => {
      const [partnerType, currency] = key.split('\u0000') as [string, string];
      return {
        partnerType,
        currency,
        partners: text(items.length),
        ...sumBalances(items),
        negative: text(items.filter((b) => b.negative).length),
      };
    });
  return {
    columns: ['partnerType', 'currency', 'partners', ...BALANCE_COLUMNS, 'negative'],
    numeric,
    rows: [...rows, ...totals],
  };
};

/** Payout statements: one row per item a payout settled, with how its commission line was earned. */
export const statementRows = (result: PayoutStatementsResult): Rows => {
  const rows = byKey(result.statements).flatMap(([partner, periods]) =>
    byKey(periods).flatMap(([period, statement]) =>
      statement.payouts.flatMap((payout) =>
        payout.items.map((item) => ({
          partner,
          period,
          payoutId: payout.payoutId,
          paidAt: payout.occurredAt,
          status: payout.status,
          currency: payout.currency,
          kind: item.kind,
          item: item.id,
          settled: item.settled,
          conversion: text(item.line?.conversionId),
          accruedAt: text(item.line?.accruedAt),
          plan: item.line === null ? '' : `${item.line.planId}@${item.line.planVersion}`,
          rule: text(item.line?.rule),
          tier: text(item.line?.tier),
          rate: text(item.line?.rate),
          base: text(item.line?.base),
          lineAmount: text(item.line?.amount),
        })),
      ),
    ),
  );
  return {
    columns: [
      'partner',
      'period',
      'payoutId',
      'paidAt',
      'status',
      'currency',
      'kind',
      'item',
      'settled',
      'conversion',
      'accruedAt',
      'plan',
      'rule',
      'tier',
      'rate',
      'base',
      'lineAmount',
    ],
    numeric: new Set(['settled', 'rate', 'base', 'lineAmount']),
    rows,
  };
};

/** Ecosystem health: per partner (or per type, or per period: revenue and partners that joined). */
export const healthRows = (result: EcosystemHealthResult, by: RevenueBy, mode: RowsMode = 'table'): Rows => {
  if (by === 'type') {
    const types = [
      ...new Set([...Object.keys(result.partnerCount.byType), ...Object.keys(result.activePartners.byType)]),
    ].sort();
    return {
      columns: ['partnerType', 'partners', 'active'],
      numeric: new Set(['partners', 'active']),
      rows: [
        ...types.map((partnerType) => ({
          partnerType,
          partners: text(result.partnerCount.byType[partnerType] ?? 0),
          active: text(result.activePartners.byType[partnerType] ?? 0),
        })),
        ...(mode === 'csv'
          ? []
          : [
              {
                partnerType: '(all)',
                partners: text(result.partnerCount.total),
                active: text(result.activePartners.total),
              },
            ]),
      ],
    };
  }
  if (by === 'partner' && mode === 'csv') {
    // One row per partner and currency of its commission (EPC in the same currency); a partner with no
    // commission has one row with no currency.
    const counts = (p: EcosystemHealthResult['partners'][string]) => ({
      partnerType: p.partnerType,
      active: p.active ? 'yes' : 'no',
      clicks: text(p.clicks),
      fraudClicks: text(p.fraudClicks),
      conversions: text(p.conversions),
      conversionRate: text(p.clickToConversionRate),
      daysToFirstConversion: text(p.daysToFirstConversion),
    });
    return {
      columns: [
        'partner',
        'partnerType',
        'active',
        'clicks',
        'fraudClicks',
        'conversions',
        'conversionRate',
        'daysToFirstConversion',
        'currency',
        'commission',
        'epc',
      ],
      numeric: new Set([
        'clicks',
        'fraudClicks',
        'conversions',
        'conversionRate',
        'daysToFirstConversion',
        'commission',
        'epc',
      ]),
      rows: byKey(result.partners).flatMap(([partner, p]) => {
        const currencies = [...new Set([...Object.keys(p.commission), ...Object.keys(p.epc)])].sort();
        if (currencies.length === 0)
          return [{ partner, ...counts(p), currency: '', commission: '', epc: '' }];
        return currencies.map((currency) => ({
          partner,
          ...counts(p),
          currency,
          commission: text(p.commission[currency]),
          epc: text(p.epc[currency]),
        }));
      }),
    };
  }
  if (by === 'partner') {
    return {
      columns: [
        'partner',
        'partnerType',
        'active',
        'clicks',
        'fraudClicks',
        'conversions',
        'conversionRate',
        'commission',
        'epc',
        'daysToFirstConversion',
      ],
      numeric: new Set(['clicks', 'fraudClicks', 'conversions', 'conversionRate', 'daysToFirstConversion']),
      rows: byKey(result.partners).map(([partner, p]) => ({
        partner,
        partnerType: p.partnerType,
        active: p.active ? 'yes' : 'no',
        clicks: text(p.clicks),
        fraudClicks: text(p.fraudClicks),
        conversions: text(p.conversions),
        conversionRate: text(p.clickToConversionRate),
        commission: byKey(p.commission)
          .map(([c, a]) => `${a} ${c}`)
          .join('; '),
        epc: byKey(p.epc)
          .filter(([, e]) => e !== null)
          .map(([c, e]) => `${e} ${c}`)
          .join('; '),
        daysToFirstConversion: text(p.daysToFirstConversion),
      })),
    };
  }
  const numeric = new Set([
    'total',
    'sourced',
    'influenced',
    'renewal',
    'sourcedShare',
    'influencedShare',
    'newPartners',
  ]);
  const periods = [
    ...new Set([...Object.keys(result.revenue.periods), ...Object.keys(result.newPartners)]),
  ].sort();
  return {
    columns: [
      'period',
      'currency',
      'total',
      'sourced',
      'influenced',
      'renewal',
      'sourcedShare',
      'influencedShare',
      'newPartners',
    ],
    numeric,
    rows: periods.flatMap((period) => {
      const block = result.revenue.periods[period];
      const joined = text(result.newPartners[period]?.total ?? 0);
      const currencies = block === undefined ? [] : byKey(block.byCurrency);
      if (currencies.length === 0) return [{ period, currency: '', newPartners: joined }];
      return currencies.map(([currency, r], i) => ({
        period,
        currency,
        total: r.total,
        sourced: r.sourced,
        influenced: r.influenced,
        renewal: r.renewal,
        sourcedShare: text(r.sourcedShare),
        influencedShare: text(r.influencedShare),
        newPartners: i === 0 ? joined : '',
      }));
    }),
  };
};

/** The headline figures of the health report, printed above its table. */
export const healthSummary = (result: EcosystemHealthResult): string[] => {
  const reporting = result.revenue.total.reporting;
  return [
    `as of:                        ${text(result.asOf)}`,
    `partners:                     ${result.partnerCount.total} (${result.activePartners.total} active in the last ${result.activeWindowDays} days)`,
    ...(reporting === null || result.reportingCurrency === null
      ? []
      : [
          `revenue (${result.reportingCurrency}):                ${reporting.total}`,
          `partner-sourced share:        ${text(reporting.sourcedShare)}`,
          `partner-influenced share:     ${text(reporting.influencedShare)}`,
          `renewals of partner customers: ${reporting.renewal}`,
        ]),
    `accounts influenced by technology partners: ${result.accountsInfluencedByTechnologyPartners}`,
    `days to first conversion:     median ${text(result.timeToFirstConversion.medianDays)}, average ${text(result.timeToFirstConversion.averageDays)} (${result.timeToFirstConversion.partnersConverted} partners)`,
  ];
};
