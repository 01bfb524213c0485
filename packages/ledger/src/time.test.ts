import * as fc from 'fast-check';
import { periodKey } from './time';

describe('periodKey', () => {
  it('names the UTC month and quarter of a timestamp in the ledger`s form as Date does', () => {
    const viaDate = (timestamp: string, period: 'month' | 'quarter') => {
      const date = new Date(timestamp);
      const month = date.getUTCMonth();
      return period === 'month'
        ? `${date.getUTCFullYear()}-${String(month + 1).padStart(2, '0')}`
        : `${date.getUTCFullYear()}-Q${Math.floor(month / 3) + 1}`;
    };
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00.000Z'),
          max: new Date('2999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        fc.constantFrom('month' as const, 'quarter' as const),
        (date, period) => {
          const timestamp = date.toISOString();
          expect(periodKey(timestamp, period)).toBe(viaDate(timestamp, period));
        },
      ),
    );
    expect(periodKey('2026-03-31T23:59:59.999Z', 'quarter')).toBe('2026-Q1');
    expect(periodKey('2026-04-01T00:00:00.000Z', 'quarter')).toBe('2026-Q2');
    expect(periodKey('2026-12-01T00:00:00.000Z', 'month')).toBe('2026-12');
    // Another form of the same instant (an offset) is read through Date: the UTC period.
    expect(periodKey('2026-04-01T01:00:00+02:00', 'month')).toBe('2026-03');
  });
});
