// The book's ecosystem-health sections: the headline figures, partners by type, partners joined and
// churned by month, and the sourced and influenced shares of revenue.
import type { EcosystemHealthResult, HealthRevenue } from '@partner-ledger/projections';
import type { Cell } from './html';
import { renderChartFigure, renderTable } from './html';
import { sorted, unique, fig, txt, currencyView, reportingView, slug } from './book-parts';

export const healthHeadline = (health: EcosystemHealthResult): string => {
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

export const partnersByType = (health: EcosystemHealthResult): string => {
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

export const newPartnersByMonth = (health: EcosystemHealthResult): string => {
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

export const churnedByMonth = (health: EcosystemHealthResult): string => {
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

export const shareByMonth = (health: EcosystemHealthResult): string => {
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
