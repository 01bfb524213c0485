/** How reports group time. Keys sort in time order as strings: "2026-03-01", "2026-03", "2026-Q1", "2026". */
export type Granularity = 'day' | 'month' | 'quarter' | 'year';

/** The granularities a projection can group by: day, month, quarter, year (UTC). */
export const GRANULARITIES: readonly Granularity[] = ['day', 'month', 'quarter', 'year'];

/** The period (UTC) a ledger timestamp ("2026-03-01T12:00:00.000Z") falls in. */
export const periodOf = (timestamp: string, granularity: Granularity): string => {
  switch (granularity) {
    case 'day':
      return timestamp.slice(0, 10);
    case 'month':
      return timestamp.slice(0, 7);
    case 'quarter':
      return `${timestamp.slice(0, 4)}-Q${Math.floor((Number(timestamp.slice(5, 7)) - 1) / 3) + 1}`;
    case 'year':
      return timestamp.slice(0, 4);
  }
};

const DAY_MS = 86_400_000;

/** The ledger timestamp `days` days before `timestamp`. */
export const daysBefore = (timestamp: string, days: number): string =>
  new Date(Date.parse(timestamp) - days * DAY_MS).toISOString();

/** The instant `days` days after `timestamp`. */
export const daysAfter = (timestamp: string, days: number): string =>
  new Date(Date.parse(timestamp) + days * DAY_MS).toISOString();

/** Whole days from `from` to `to` (rounded down). */
export const daysBetween = (from: string, to: string): number =>
  Math.floor((Date.parse(to) - Date.parse(from)) / DAY_MS);
