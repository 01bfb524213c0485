import { LedgerDecimal } from '@partner-ledger/events';
import { AGING_BUCKETS } from '@partner-ledger/projections';
import type {
  CommissionBalancesResult,
  EcosystemHealthResult,
  HealthRevenue,
  PartnerRevenueResult,
  ProgramRevenueFigures,
  RevenueFigures,
} from '@partner-ledger/projections';
import type { ChartSpec } from './charts';
import type { Cell, LedgerStamp, ReportName, Table } from './html';
import { asOfFlags, escapeHtml, renderChartFigure, renderPage, renderStamp, renderTable } from './html';

/**
 * What the book is drawn from: the results of three projections, replayed together as of the same moments,
 * and the stamp of the ledger they were read from. The revenue and health results must be by month.
 */
export interface BookInput {
  readonly stamp: LedgerStamp;
  /** `partnerRevenue({ granularity: 'month' })`: `report revenue --by month`. */
  readonly revenue: PartnerRevenueResult;
  /** `commissionBalances()`: `report balances`. */
  readonly balances: CommissionBalancesResult;
  /** `ecosystemHealth({ granularity: 'month' })`: `report health --by month`. */
  readonly health: EcosystemHealthResult;
  /** The page's heading; default "Partner program book". */
  readonly title?: string;
}

/** How many partners the "top partners" chart shows. */
export const TOP_PARTNERS = 10;

const sorted = <T>(record: Readonly<Record<string, T>>): Array<[string, T]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const unique = (keys: Iterable<string>): string[] => [...new Set(keys)].sort();

const fig = (report: ReportName, path: readonly string[], value: string | number | null): Cell => ({
  figure: { report, path, value },
});
const txt = (text: string): Cell => ({ text });

/** A money view: one currency as recorded, or the reporting currency through the recorded rates. */
interface View {
  readonly label: string;
  /** The path from a block to its figures: ['byCurrency', 'EUR'] or ['reporting']. */
  readonly key: readonly string[];
  readonly pick: <F>(block: { byCurrency: Readonly<Record<string, F>>; reporting: F | null }) => F | null;
}

const currencyView = (currency: string): View => ({
  label: currency,
  key: ['byCurrency', currency],
  pick: (block) => block.byCurrency[currency] ?? null,
});

const reportingView = (currency: string): View => ({
  label: `${currency} (reporting currency, through the recorded rates)`,
  key: ['reporting'],
  pick: (block) => block.reporting,
});

/** A section's charts, or a line saying there is nothing yet to chart. */
const orNothing = (html: string, what: string): string =>
  html === '' ? `<p class="note">${escapeHtml(what)}</p>` : html;

const slug = (text: string): string => text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');

// Revenue ---------------------------------------------------------------------------------------------

const revenueByMonth = (revenue: PartnerRevenueResult): string => {
  const periods = sorted(revenue.program.periods);
  const views = [
    ...(revenue.reportingCurrency === null || periods.every(([, b]) => b.reporting === null)
      ? []
      : [reportingView(revenue.reportingCurrency)]),
    ...unique(periods.flatMap(([, b]) => Object.keys(b.byCurrency))).map(currencyView),
  ];
  const fields = ['total', 'attributed', 'sourced', 'influenced'] as const;
  return views
    .map((view) => {
      const rows = periods.flatMap(([period, block]) => {
        const f = view.pick<ProgramRevenueFigures>(block);
        return f === null ? [] : [{ period, f }];
      });
      const at = (period: string, field: string): string[] => [
        'program',
        'periods',
        period,
        ...view.key,
        field,
      ];
      const chart: ChartSpec = {
        kind: 'bar',
        categories: rows.map((r) => r.period),
        series: fields.map((field) => ({ name: field, values: rows.map((r) => r.f[field]) })),
        unit: view.key[0] === 'reporting' ? (revenue.reportingCurrency ?? '') : view.label,
      };
      const table: Table = {
        caption: `Program revenue by month, ${view.label}`,
        columns: ['month', 'total', 'attributed', 'sourced', 'influenced', 'conversions', 'sourced share'],
        rows: rows.map(({ period, f }) => [
          txt(period),
          ...fields.map((field) => fig('revenue', at(period, field), f[field])),
          fig('revenue', at(period, 'conversions'), f.conversions),
          fig('revenue', at(period, 'sourcedShare'), f.sourcedShare),
        ]),
      };
      return renderChartFigure(
        `revenue-month-${slug(view.key.join('-'))}`,
        `Revenue by month, ${view.label}`,
        chart,
        table,
      );
    })
    .join('\n');
};

/** Sourced, influenced and unattributed revenue by month: what partners brought, touched, and what no partner was credited with. */
const unattributedByMonth = (revenue: PartnerRevenueResult): string => {
  const periods = sorted(revenue.program.periods);
  const views = [
    ...(revenue.reportingCurrency === null || periods.every(([, b]) => b.reporting === null)
      ? []
      : [reportingView(revenue.reportingCurrency)]),
    ...unique(periods.flatMap(([, b]) => Object.keys(b.byCurrency))).map(currencyView),
  ];
  const fields = ['sourced', 'influenced', 'unattributed'] as const;
  return views
    .map((view) => {
      const rows = periods.flatMap(([period, block]) => {
        const f = view.pick<ProgramRevenueFigures>(block);
        return f === null ? [] : [{ period, f }];
      });
      const at = (period: string, field: string): string[] => [
        'program',
        'periods',
        period,
        ...view.key,
        field,
      ];
      return renderChartFigure(
        `revenue-unattributed-${slug(view.key.join('-'))}`,
        `Sourced, influenced and unattributed revenue by month, ${view.label}`,
        {
          kind: 'bar',
          categories: rows.map((r) => r.period),
          series: fields.map((field) => ({ name: field, values: rows.map((r) => r.f[field]) })),
          unit: view.key[0] === 'reporting' ? (revenue.reportingCurrency ?? '') : view.label,
        },
        {
          caption: `Revenue by month, ${view.label}; unattributed: total less attributed, the revenue of conversions no partner was credited with`,
          columns: ['month', 'total', ...fields],
          rows: rows.map(({ period, f }) => [
            txt(period),
            fig('revenue', at(period, 'total'), f.total),
            ...fields.map((field) => fig('revenue', at(period, field), f[field])),
          ]),
        },
      );
    })
    .join('\n');
};

const revenueViews = (revenue: PartnerRevenueResult, currencies: Iterable<string>): View[] =>
  revenue.reportingCurrency !== null && revenue.program.total.reporting !== null
    ? [reportingView(revenue.reportingCurrency)]
    : unique(currencies).map(currencyView);

const revenueByType = (revenue: PartnerRevenueResult): string => {
  const types = sorted(revenue.partnerTypes);
  const fields = ['attributed', 'sourced', 'influenced'] as const;
  return revenueViews(
    revenue,
    types.flatMap(([, s]) => Object.keys(s.total.byCurrency)),
  )
    .map((view) => {
      const rows = types.flatMap(([type, series]) => {
        const f = view.pick<RevenueFigures>(series.total);
        return f === null ? [] : [{ type, f }];
      });
      const at = (type: string, field: string): string[] => [
        'partnerTypes',
        type,
        'total',
        ...view.key,
        field,
      ];
      return renderChartFigure(
        `revenue-type-${slug(view.key.join('-'))}`,
        `Revenue by partner type, ${view.label}`,
        {
          kind: 'bar',
          categories: rows.map((r) => r.type),
          series: fields.map((field) => ({ name: field, values: rows.map((r) => r.f[field]) })),
          unit: view.key[0] === 'reporting' ? (revenue.reportingCurrency ?? '') : view.label,
        },
        {
          caption: `Revenue by partner type, all months, ${view.label}`,
          columns: ['partner type', 'attributed', 'sourced', 'influenced', 'conversions', 'sourced share'],
          rows: rows.map(({ type, f }) => [
            txt(type),
            ...fields.map((field) => fig('revenue', at(type, field), f[field])),
            fig('revenue', at(type, 'conversions'), f.conversions),
            fig('revenue', at(type, 'sourcedShare'), f.sourcedShare),
          ]),
        },
      );
    })
    .join('\n');
};

const topPartners = (revenue: PartnerRevenueResult): string => {
  const partners = sorted(revenue.partners);
  return revenueViews(
    revenue,
    partners.flatMap(([, s]) => Object.keys(s.total.byCurrency)),
  )
    .map((view) => {
      // Ordering compares the report's decimals; nothing is added up here.
      const ranked = partners
        .flatMap(([id, series]) => {
          const f = view.pick<RevenueFigures>(series.total);
          return f === null ? [] : [{ id, type: series.partnerType, f }];
        })
        .sort(
          (a, b) => new LedgerDecimal(b.f.attributed).comparedTo(a.f.attributed) || (a.id < b.id ? -1 : 1),
        )
        .slice(0, TOP_PARTNERS);
      const at = (id: string, field: string): string[] => ['partners', id, 'total', ...view.key, field];
      return renderChartFigure(
        `top-partners-${slug(view.key.join('-'))}`,
        `Top ${TOP_PARTNERS} partners by attributed revenue, ${view.label}`,
        {
          kind: 'horizontalBar',
          categories: ranked.map((r) => r.id),
          series: [
            { name: 'attributed', values: ranked.map((r) => r.f.attributed) },
            { name: 'sourced', values: ranked.map((r) => r.f.sourced) },
          ],
          unit: view.key[0] === 'reporting' ? (revenue.reportingCurrency ?? '') : view.label,
        },
        {
          caption: `Top partners, all months, ${view.label}; sourced share: the partner's sourced revenue over the program's revenue`,
          columns: ['partner', 'type', 'attributed', 'sourced', 'influenced', 'conversions', 'sourced share'],
          rows: ranked.map(({ id, type, f }) => [
            txt(id),
            txt(type),
            fig('revenue', at(id, 'attributed'), f.attributed),
            fig('revenue', at(id, 'sourced'), f.sourced),
            fig('revenue', at(id, 'influenced'), f.influenced),
            fig('revenue', at(id, 'conversions'), f.conversions),
            fig('revenue', at(id, 'sourcedShare'), f.sourcedShare),
          ]),
        },
      );
    })
    .join('\n');
};

// Commission balances ---------------------------------------------------------------------------------

/** The figures of a commission balance, with what each means, in the order the pages show them. */
export const BALANCE_FIGURES = [
  ['accrued', 'every commission line credited'],
  ['reversed', 'clawed back by refunds, chargebacks, fraud and rejections'],
  ['rejected', 'of which rejected after review'],
  ['paid', 'payouts issued less payouts failed'],
  ['payoutsFailed', 'payouts failed'],
  ['adjustments', 'manual adjustments'],
  ['balance', 'owed to partners: accrued less reversed less paid plus adjustments'],
  ['pending', 'of the balance, in the hold period'],
  ['held', 'of the balance, held for review'],
  ['payable', 'of the balance, payable now'],
] as const;

const commissionBalances = (balances: CommissionBalancesResult): string =>
  sorted(balances.totals)
    .map(([currency, totals]) => {
      const trial = balances.trialBalance[currency];
      return renderChartFigure(
        `balances-${slug(currency)}`,
        `Commission balances, ${currency}`,
        {
          kind: 'bar',
          categories: BALANCE_FIGURES.map(([field]) => field),
          series: [{ name: currency, values: BALANCE_FIGURES.map(([field]) => totals[field]) }],
          unit: currency,
        },
        {
          caption: `Commission balances of all partners, ${currency}`,
          columns: ['figure', 'meaning', currency],
          rows: [
            ...BALANCE_FIGURES.map(([field, meaning]) => [
              txt(field),
              txt(meaning),
              fig('balances', ['totals', currency, field], totals[field]),
            ]),
            [
              txt('partnersWithNegativeBalance'),
              txt('partners who owe more than they are owed'),
              fig(
                'balances',
                ['totals', currency, 'partnersWithNegativeBalance'],
                totals.partnersWithNegativeBalance,
              ),
            ],
            ...(trial === undefined
              ? []
              : (['debits', 'credits', 'difference'] as const).map((field) => [
                  txt(`trial balance ${field}`),
                  txt(field === 'difference' ? 'debits less credits: always zero' : 'all postings'),
                  fig('balances', ['trialBalance', currency, field], trial[field]),
                ])),
          ],
        },
      );
    })
    .join('\n');

/** The balance figures the partner-type chart draws (the table shows them all). */
const TYPE_CHART_FIGURES = ['accrued', 'reversed', 'paid', 'balance', 'payable'] as const;

const commissionsByType = (balances: CommissionBalancesResult): string => {
  const types = sorted(balances.byPartnerType);
  return unique(types.flatMap(([, currencies]) => Object.keys(currencies)))
    .map((currency) => {
      const rows = types.flatMap(([type, currencies]) => {
        const b = currencies[currency];
        return b === undefined ? [] : [{ type, b }];
      });
      return renderChartFigure(
        `commissions-type-${slug(currency)}`,
        `Commissions by partner type, ${currency}`,
        {
          kind: 'bar',
          categories: rows.map((r) => r.type),
          series: TYPE_CHART_FIGURES.map((field) => ({ name: field, values: rows.map((r) => r.b[field]) })),
          unit: currency,
        },
        {
          caption: `Commission balances by partner type, ${currency}; partners: those with an account in ${currency}`,
          // A column per type (a row per figure), so that the table fits the page.
          columns: ['figure', ...rows.map((r) => r.type)],
          rows: [
            [
              txt('partners'),
              ...rows.map(({ type, b }) =>
                fig('balances', ['byPartnerType', type, currency, 'partners'], b.partners),
              ),
            ],
            ...BALANCE_FIGURES.map(([field]) => [
              txt(field),
              ...rows.map(({ type, b }) =>
                fig('balances', ['byPartnerType', type, currency, field], b[field]),
              ),
            ]),
          ],
        },
      );
    })
    .join('\n');
};

const commissionAging = (balances: CommissionBalancesResult): string =>
  sorted(balances.aging)
    .map(([currency, buckets]) =>
      renderChartFigure(
        `commissions-aging-${slug(currency)}`,
        `Aging of pending and held commission, ${currency}`,
        {
          kind: 'bar',
          categories: AGING_BUCKETS.map((b) => `${b} days`),
          series: (['pending', 'held'] as const).map((field) => ({
            name: field,
            values: AGING_BUCKETS.map((b) => buckets[b][field]),
          })),
          unit: currency,
        },
        {
          caption: `Pending (in the hold period) and held (for review) commission by days from the conversion to ${balances.asOf ?? 'asOf'}, ${currency}`,
          columns: ['age', 'pending', 'pending lines', 'held', 'held lines'],
          rows: AGING_BUCKETS.map((b) => [
            txt(`${b} days`),
            ...(['pending', 'pendingLines', 'held', 'heldLines'] as const).map((field) =>
              fig('balances', ['aging', currency, b, field], buckets[b][field]),
            ),
          ]),
        },
      ),
    )
    .join('\n');

const reversalsByMonth = (balances: CommissionBalancesResult): string => {
  const months = sorted(balances.reversalsByMonth);
  const kinds = unique(months.flatMap(([, byKind]) => Object.keys(byKind)));
  return unique(months.flatMap(([, byKind]) => Object.values(byKind).flatMap((c) => Object.keys(c))))
    .map((currency) => {
      const figureOf = (month: string, kind: string) =>
        balances.reversalsByMonth[month]?.[kind]?.[currency] ?? null;
      const rows = months.flatMap(([month]) =>
        kinds.flatMap((kind) => {
          const r = figureOf(month, kind);
          return r === null ? [] : [{ month, kind, r }];
        }),
      );
      return renderChartFigure(
        `reversals-${slug(currency)}`,
        `Refunds, chargebacks and fraud reversals by month, and the commission they clawed back, ${currency}`,
        {
          kind: 'bar',
          categories: months.map(([month]) => month),
          series: kinds.flatMap((kind) => [
            { name: kind, values: months.map(([m]) => figureOf(m, kind)?.amount ?? null) },
            {
              name: `${kind} clawback`,
              values: months.map(([m]) => figureOf(m, kind)?.clawedBack ?? null),
            },
          ]),
          unit: currency,
        },
        {
          caption: `Reversals by month (of the reversal) and kind, ${currency}: revenue reversed, and commission taken back from the partners' lines (lines already rejected give nothing back)`,
          columns: ['month', 'kind', 'reversals', 'revenue reversed', 'commission clawed back'],
          rows: rows.map(({ month, kind, r }) => [
            txt(month),
            txt(kind),
            ...(['reversals', 'amount', 'clawedBack'] as const).map((field) =>
              fig('balances', ['reversalsByMonth', month, kind, currency, field], r[field]),
            ),
          ]),
        },
      );
    })
    .join('\n');
};

// Ecosystem health ------------------------------------------------------------------------------------

const healthHeadline = (health: EcosystemHealthResult): string => {
  const reporting = health.revenue.total.reporting;
  const rows: Cell[][] = [
    [txt('partners'), fig('health', ['partnerCount', 'total'], health.partnerCount.total)],
    [
      txt(`active partners (a touch or a conversion in the last ${health.activeWindowDays} days)`),
      fig('health', ['activePartners', 'total'], health.activePartners.total),
    ],
    [
      txt('integration depth: accounts influenced by technology partners'),
      fig(
        'health',
        ['accountsInfluencedByTechnologyPartners'],
        health.accountsInfluencedByTechnologyPartners,
      ),
    ],
    [
      txt('partners with a first conversion'),
      fig(
        'health',
        ['timeToFirstConversion', 'partnersConverted'],
        health.timeToFirstConversion.partnersConverted,
      ),
    ],
    [
      txt('days to first conversion, median'),
      fig('health', ['timeToFirstConversion', 'medianDays'], health.timeToFirstConversion.medianDays),
    ],
    [
      txt('days to first conversion, average'),
      fig('health', ['timeToFirstConversion', 'averageDays'], health.timeToFirstConversion.averageDays),
    ],
    ...(reporting === null || health.reportingCurrency === null
      ? []
      : (['total', 'sourced', 'influenced', 'renewal', 'sourcedShare', 'influencedShare'] as const).map(
          (field) => [
            txt(`revenue ${field} (${health.reportingCurrency})`),
            fig('health', ['revenue', 'total', 'reporting', field], reporting[field]),
          ],
        )),
  ];
  return `<section class="keep">${renderTable({ caption: 'Ecosystem health, headline figures', columns: ['figure', 'value'], rows })}</section>`;
};

const partnersByType = (health: EcosystemHealthResult): string => {
  const types = unique([
    ...Object.keys(health.partnerCount.byType),
    ...Object.keys(health.activePartners.byType),
  ]);
  return renderChartFigure(
    'health-partners-by-type',
    'Partners and active partners by type',
    {
      kind: 'bar',
      categories: types,
      series: [
        { name: 'partners', values: types.map((t) => health.partnerCount.byType[t] ?? 0) },
        { name: 'active', values: types.map((t) => health.activePartners.byType[t] ?? 0) },
      ],
      unit: 'partners',
    },
    {
      caption: `Partners by type; active: a touch or a conversion in the last ${health.activeWindowDays} days`,
      columns: ['partner type', 'partners', 'active'],
      rows: types.map((t) => [
        txt(t),
        fig('health', ['partnerCount', 'byType', t], health.partnerCount.byType[t] ?? null),
        fig('health', ['activePartners', 'byType', t], health.activePartners.byType[t] ?? null),
      ]),
    },
  );
};

const newPartnersByMonth = (health: EcosystemHealthResult): string => {
  const periods = sorted(health.newPartners);
  return renderChartFigure(
    'health-new-partners',
    'New partners by month',
    {
      kind: 'bar',
      categories: periods.map(([p]) => p),
      series: [{ name: 'joined', values: periods.map(([, n]) => n.total) }],
      unit: 'partners',
    },
    {
      caption: 'Partners that joined, by month',
      columns: ['month', 'joined'],
      rows: periods.map(([p, n]) => [txt(p), fig('health', ['newPartners', p, 'total'], n.total)]),
    },
  );
};

const churnedByMonth = (health: EcosystemHealthResult): string => {
  const periods = sorted(health.churnedPartners);
  if (periods.length === 0) return '';
  const types = unique(periods.flatMap(([, c]) => Object.keys(c.byType)));
  return renderChartFigure(
    'health-churned-partners',
    'Churned partners by month',
    {
      kind: 'bar',
      categories: periods.map(([p]) => p),
      series: [{ name: 'churned', values: periods.map(([, c]) => c.total) }],
      unit: 'partners',
    },
    {
      caption: `Partners that stopped being active, by month: ${health.activeWindowDays} days after their last touch or conversion, with none in between; counted again if they come back and stop again`,
      columns: ['month', 'churned', ...types],
      rows: periods.map(([p, c]) => [
        txt(p),
        fig('health', ['churnedPartners', p, 'total'], c.total),
        ...types.map((t) => fig('health', ['churnedPartners', p, 'byType', t], c.byType[t] ?? null)),
      ]),
    },
  );
};

const shareByMonth = (health: EcosystemHealthResult): string => {
  const periods = sorted(health.revenue.periods);
  const views = [
    ...(health.reportingCurrency === null || periods.every(([, b]) => b.reporting === null)
      ? []
      : [reportingView(health.reportingCurrency)]),
  ];
  const shown =
    views.length > 0
      ? views
      : unique(periods.flatMap(([, b]) => Object.keys(b.byCurrency))).map(currencyView);
  const fields = ['total', 'sourced', 'influenced', 'renewal'] as const;
  return shown
    .map((view) => {
      const rows = periods.flatMap(([period, block]) => {
        const r = view.pick<HealthRevenue>(block);
        return r === null ? [] : [{ period, r }];
      });
      const at = (period: string, field: string): string[] => [
        'revenue',
        'periods',
        period,
        ...view.key,
        field,
      ];
      return renderChartFigure(
        `health-share-${slug(view.key.join('-'))}`,
        `Partner-sourced and influenced share of revenue by month, ${view.label}`,
        {
          kind: 'line',
          categories: rows.map((r) => r.period),
          series: [
            { name: 'sourced share', values: rows.map((r) => r.r.sourcedShare) },
            { name: 'influenced share', values: rows.map((r) => r.r.influencedShare) },
          ],
          unit: 'share',
        },
        {
          caption: `Revenue and partner shares by month, ${view.label}`,
          columns: ['month', ...fields, 'sourced share', 'influenced share'],
          rows: rows.map(({ period, r }) => [
            txt(period),
            ...fields.map((field) => fig('health', at(period, field), r[field])),
            fig('health', at(period, 'sourcedShare'), r.sourcedShare),
            fig('health', at(period, 'influencedShare'), r.influencedShare),
          ]),
        },
      );
    })
    .join('\n');
};

/**
 * The month-end book: one self-contained HTML page (styles and charts inlined, no script, nothing fetched),
 * every chart with its numbers in a table, every number the JSON report's decimal string. Deterministic:
 * the same input gives the same bytes.
 */
export const renderBook = (input: BookInput): string => {
  const { stamp, revenue, balances, health } = input;
  if (revenue.granularity !== 'month' || health.granularity !== 'month')
    throw new Error('renderBook: the revenue and health results must be by month');
  const title = input.title ?? 'Partner program book';
  const flags = asOfFlags(stamp);
  const body = [
    `<header><h1>${escapeHtml(title)}</h1>`,
    `<p class="note">Every figure below is the decimal string of a JSON report of the same ledger, as of the same moments: <code>partner-ledger report revenue --by month ${escapeHtml(flags)} --format json</code>, and likewise <code>balances</code> and <code>health --by month</code>. The charts draw the figures of the tables beside them.</p>`,
    renderStamp(stamp),
    '<nav><ul><li><a href="#revenue">Revenue</a></li><li><a href="#partners">Partner types and top partners</a></li><li><a href="#commissions">Commission balances</a></li><li><a href="#health">Ecosystem health</a></li></ul></nav>',
    '</header>',
    '<h2 id="revenue">Revenue: partner-sourced, influenced and attributed</h2>',
    `<p class="note">total: all revenue; attributed: credited to partners by the attribution model; sourced: brought in by a partner; influenced: touched by one. Sourced and influenced overlap by design; the gap between total and attributed is revenue no partner was credited with.${revenue.reportingCurrency === null ? '' : ` The reporting currency (${escapeHtml(revenue.reportingCurrency)}) counts only conversions that recorded a rate into it.`}</p>`,
    orNothing(
      [revenueByMonth(revenue), unattributedByMonth(revenue)].filter((html) => html !== '').join('\n'),
      'No revenue recorded yet.',
    ),
    '<h2 id="partners">Partner types and top partners</h2>',
    orNothing(revenueByType(revenue) + topPartners(revenue), 'No partner revenue recorded yet.'),
    '<h2 id="commissions">Commission balances, reversals and clawbacks</h2>',
    `<p class="note">Up to ${escapeHtml(balances.asOf ?? 'the first event')}; ${balances.openLines} commission lines still open. reversed is what refunds, chargebacks, fraud and rejections clawed back from commissions.</p>`,
    orNothing(
      [commissionBalances(balances), commissionsByType(balances)].filter((html) => html !== '').join('\n'),
      'No commission recorded yet.',
    ),
    orNothing(commissionAging(balances), 'No commission pending or held.'),
    orNothing(reversalsByMonth(balances), 'No reversal recorded yet.'),
    '<h2 id="health">Ecosystem health</h2>',
    healthHeadline(health),
    partnersByType(health),
    newPartnersByMonth(health),
    orNothing(
      churnedByMonth(health),
      `No partner has churned yet (stopped being active: ${health.activeWindowDays} days with no touch or conversion).`,
    ),
    orNothing(shareByMonth(health), 'No revenue recorded yet.'),
  ].join('\n');
  return renderPage(title, body);
};
