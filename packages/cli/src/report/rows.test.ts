import type { PartnerRevenueResult, RevenueFigures } from '@partner-ledger/projections';
import { revenueRows } from './rows';

// The table's `USD*` row (the reporting currency, through the recorded rates) is left out only where it would
// repeat a row: a partner whose revenue is all in USD has the same amounts in both, but its sourcedShare is a
// share of a different whole (the program's USD revenue as recorded, against the program's revenue converted
// into USD), so the two rows say different things and both must be printed.

const figures = (sourced: string, share: string): RevenueFigures => ({
  attributed: sourced,
  sourced,
  influenced: sourced,
  conversions: 1,
  sourcedShare: share,
});
const program = (total: string, share: string) => ({
  ...figures('391.00', share),
  total,
  unattributed: '0.00',
});

const result = (reportingShare: string): PartnerRevenueResult => {
  const usOnly = {
    byCurrency: { USD: figures('391.00', '0.0392') },
    reporting: figures('391.00', reportingShare),
  };
  return {
    granularity: 'month',
    from: null,
    to: null,
    reportingCurrency: 'USD',
    asOf: null,
    program: {
      periods: {},
      total: {
        byCurrency: { EUR: program('50.00', '0.0000'), USD: program('9975.00', '0.0392') },
        reporting: program('10000.00', reportingShare),
        unconverted: {},
      },
    },
    partnerTypes: { affiliate: { periods: {}, total: usOnly } },
    partners: { 'p-1': { periods: {}, total: usOnly, partnerType: 'affiliate' } },
  } as PartnerRevenueResult;
};

const shares = (r: PartnerRevenueResult, by: 'partner' | 'type') =>
  revenueRows(r, by)
    .rows.filter((row) => !String(row[by === 'partner' ? 'partner' : 'partnerType']).startsWith('('))
    .map((row) => `${row.currency} ${row.sourcedShare}`);

describe('revenue table rows', () => {
  it.each(['partner', 'type'] as const)(
    'by %s: prints the USD* row of a block all in USD when its sourcedShare differs from the USD row',
    (by) => {
      expect(shares(result('0.0391'), by)).toEqual(['USD 0.0392', 'USD* 0.0391']);
    },
  );

  it.each(['partner', 'type'] as const)('by %s: leaves it out when it would repeat the USD row', (by) => {
    expect(shares(result('0.0392'), by)).toEqual(['USD 0.0392']);
  });
});
