// The book's revenue sections: revenue by month, what no partner was credited with, revenue by partner
// type, and the top partners.
import { LedgerDecimal } from '@partner-ledger/events';
import type {
  PartnerRevenueResult,
  ProgramRevenueFigures,
  RevenueFigures,
} from '@partner-ledger/projections';
import type { ChartSpec } from './charts';
import type { Table } from './html';
import { renderChartFigure } from './html';
import { sorted, unique, fig, txt, currencyView, reportingView, slug } from './book-parts';
import type { View } from './book-parts';

/** How many partners the "top partners" chart shows. */
export const TOP_PARTNERS = 10;

export const revenueByMonth = (revenue: PartnerRevenueResult): string => {
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
export const unattributedByMonth = (revenue: PartnerRevenueResult): string => {
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

export const revenueByType = (revenue: PartnerRevenueResult): string => {
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

export const topPartners = (revenue: PartnerRevenueResult): string => {
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
