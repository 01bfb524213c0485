// The book's commission sections: balances by currency and by partner type, the aging of what is still
// pending or held, and reversals by month.
import { AGING_BUCKETS } from '@partner-ledger/projections';
import type { CommissionBalancesResult } from '@partner-ledger/projections';
import { renderChartFigure } from './html';
import { sorted, unique, fig, txt, slug } from './book-parts';

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

export const commissionBalances = (balances: CommissionBalancesResult): string =>
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

export const commissionsByType = (balances: CommissionBalancesResult): string => {
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

export const commissionAging = (balances: CommissionBalancesResult): string =>
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

export const reversalsByMonth = (balances: CommissionBalancesResult): string => {
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
