import { stringify } from 'csv-stringify/sync';

/** A report as rows: what the table and CSV formats print. Cells are strings, already formatted. */
export interface Rows {
  readonly columns: readonly string[];
  /** Columns holding numbers, right-aligned in tables. */
  readonly numeric: ReadonlySet<string>;
  readonly rows: ReadonlyArray<Readonly<Record<string, string>>>;
}

/** A plain-text table: a header, a rule, and aligned columns. */
export const renderTable = (rows: Rows): string => {
  const widths = rows.columns.map((column) =>
    Math.max(column.length, ...rows.rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) =>
        rows.numeric.has(rows.columns[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [
    line(rows.columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.rows.map((row) => line(rows.columns.map((column) => row[column] ?? ''))),
    '',
  ].join('\n');
};

/** RFC 4180 CSV through csv-stringify: a header row, then one record per row; quoting as needed. */
export const renderCsv = (rows: Rows): string =>
  stringify(
    rows.rows.map((row) => rows.columns.map((column) => row[column] ?? '')),
    { header: true, columns: [...rows.columns], record_delimiter: 'unix' },
  );
