/**
 * @packageDocumentation
 * The month-end book and the partner statements of partner-ledger as self-contained HTML pages: charts
 * drawn by Apache ECharts (server-side, as SVG) with their numbers in tables, every number the decimal string
 * of the JSON reports, and the digest and position of the ledger they were computed from. The pages render
 * the projections' results; they compute no money. See docs/reports.md.
 */
export { renderBook } from './book';
export { TOP_PARTNERS } from './book-revenue';
export type { BookInput } from './book';
export { renderStatements, statementFileName } from './statements';
export type { StatementFile, StatementsInput } from './statements';
export type { Figure, LedgerStamp, ReportName } from './html';
