import fc from 'fast-check';
import { daysAfter, daysBefore, daysBetween, instantOf } from './period';

/** Date.parse, the reference instantOf must match on every string, NaN included. */
const same = (text: string): void => {
  const expected = Date.parse(text);
  const actual = instantOf(text);
  if (Number.isNaN(expected)) expect(actual).toBeNaN();
  else expect(actual).toBe(expected);
};

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));

describe('instantOf reads a timestamp as Date.parse does', () => {
  it('worked edge values: leap days, month ends, the epoch, out-of-range fields', () => {
    for (const text of [
      '2026-01-01T00:00:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '2026-02-29T00:00:00.000Z',
      '2026-02-30T12:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2000-02-29T00:00:00.000Z',
      '1900-03-01T00:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '2999-12-31T23:59:59.999Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-01T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-32T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:00:60.000Z',
      '2026-01-01T00:00:00.00aZ',
      '2026-01-01T00:00:00.000+01:00',
      '2026-01-01T00:00:00Z',
      '2026-01-01',
      '',
      'not a date',
    ])
      same(text);
  });

  it('any instant in its stored form (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        const text = new Date(ms).toISOString();
        expect(instantOf(text)).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it('any digits in the stored layout, valid or not (property)', () => {
    fc.assert(
      fc.property(
        digits(4),
        digits(2),
        digits(2),
        digits(2),
        digits(2),
        digits(2),
        digits(3),
        (y, mo, d, h, mi, s, ms) => same(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`),
      ),
      { numRuns: 2000 },
    );
  });

  it('any string (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), same), { numRuns: 2000 });
  });

  it('daysBefore, daysAfter and daysBetween agree with Date arithmetic', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2998, 0, 1) }),
        fc.integer({ min: 0, max: 365 }),
        (ms, days) => {
          const text = new Date(ms).toISOString();
          expect(daysAfter(text, days)).toBe(new Date(ms + days * 86_400_000).toISOString());
          expect(daysBefore(text, days)).toBe(new Date(ms - days * 86_400_000).toISOString());
          expect(daysBetween(text, daysAfter(text, days))).toBe(days);
        },
      ),
    );
  });
});
