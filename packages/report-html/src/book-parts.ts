// What the book's sections share: entries in key order, the cells of their tables, and the money views
// (a currency as recorded, or the reporting currency) a section draws once per view.
import type { Cell, ReportName } from './html';

export const sorted = <T>(record: Readonly<Record<string, T>>): Array<[string, T]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export const unique = (keys: Iterable<string>): string[] => [...new Set(keys)].sort();

export const fig = (report: ReportName, path: readonly string[], value: string | number | null): Cell => ({
  figure: { report, path, value },
});
export const txt = (text: string): Cell => ({ text });

/** A money view: one currency as recorded, or the reporting currency through the recorded rates. */
export interface View {
  readonly label: string;
  /** The path from a block to its figures: ['byCurrency', 'EUR'] or ['reporting']. */
  readonly key: readonly string[];
  readonly pick: <F>(block: { byCurrency: Readonly<Record<string, F>>; reporting: F | null }) => F | null;
}

export const currencyView = (currency: string): View => ({
  label: currency,
  key: ['byCurrency', currency],
  pick: (block) => block.byCurrency[currency] ?? null,
});

export const reportingView = (currency: string): View => ({
  label: `${currency} (reporting currency, through the recorded rates)`,
  key: ['reporting'],
  pick: (block) => block.reporting,
});

export const slug = (text: string): string => text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
