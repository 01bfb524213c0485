import type { ChartSpec } from './charts';
import { renderChartSvg } from './charts';

// The building blocks of the pages: escaping, figure cells that name where their value comes from in the
// JSON report, a chart with its table, the stamp that says what the page was computed from, and the page
// itself with its styles inlined.

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );

/** Which JSON report a figure comes from: `partner-ledger report NAME --format json`. */
export type ReportName = 'revenue' | 'balances' | 'statements' | 'health';

/** A value of a JSON report and where it is: `result` followed by `path`. */
export interface Figure {
  readonly report: ReportName;
  readonly path: readonly string[];
  readonly value: string | number | boolean | null;
}

/** How a figure is printed: as the report's string (a decimal, byte for byte), a count, or an em dash for null. */
export const figureText = (value: Figure['value']): string =>
  value === null ? '\u2014' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);

/**
 * A cell holding one figure of a JSON report. `data-report` and `data-path` say where it comes from, so
 * that anyone (and the browser tests) can check the page against `report NAME --format json`.
 */
export const figureCell = (figure: Figure): string =>
  `<td class="num" data-report="${figure.report}" data-path="${escapeHtml(JSON.stringify(figure.path))}">${escapeHtml(figureText(figure.value))}</td>`;

export const textCell = (text: string): string => `<td>${escapeHtml(text)}</td>`;

export type Cell =
  | { readonly figure: Figure }
  | { readonly text: string }
  | { readonly link: { readonly text: string; readonly href: string } };

const renderCell = (cell: Cell): string =>
  'figure' in cell
    ? figureCell(cell.figure)
    : 'link' in cell
      ? `<td><a href="${escapeHtml(cell.link.href)}">${escapeHtml(cell.link.text)}</a></td>`
      : textCell(cell.text);

export interface Table {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly Cell[]>;
}

export const renderTable = (table: Table): string =>
  [
    '<table>',
    `<caption>${escapeHtml(table.caption)}</caption>`,
    // A column of figures is right-aligned, its heading too.
    `<thead><tr>${table.columns
      .map((c, i) => {
        const first = table.rows[0]?.[i];
        return `<th scope="col"${first !== undefined && 'figure' in first ? ' class="num"' : ''}>${escapeHtml(c)}</th>`;
      })
      .join('')}</tr></thead>`,
    '<tbody>',
    ...table.rows.map((row) => `<tr>${row.map(renderCell).join('')}</tr>`),
    '</tbody>',
    '</table>',
  ].join('\n');

/** A chart and the table of its numbers, kept on one printed page. */
export const renderChartFigure = (id: string, title: string, chart: ChartSpec, table: Table): string =>
  chart.categories.length === 0
    ? `<section class="chart empty" id="${escapeHtml(id)}"><h3>${escapeHtml(title)}</h3><p class="note">Nothing recorded yet.</p></section>`
    : [
        `<section class="chart" id="${escapeHtml(id)}">`,
        `<h3>${escapeHtml(title)}</h3>`,
        `<figure role="img" aria-label="${escapeHtml(title)}">${renderChartSvg(chart, id)}</figure>`,
        renderTable(table),
        '</section>',
      ].join('\n');

/** What a page was computed from: enough to compute it again and to prove the history has not changed. */
export interface LedgerStamp {
  /** The history digest of the ledger up to `position` (see `partner-ledger verify`). */
  readonly digest: string;
  /** The global position of the last event the replay read; -1 for an empty ledger. */
  readonly position: number;
  readonly eventsRead: number;
  /** --as-of: only what occurred at or before it; null: everything. */
  readonly effectiveAt: string | null;
  /** --known-at: only what was recorded by then (or up to a position); null: everything recorded. */
  readonly knownAt: { readonly position?: number; readonly recordedAt?: string } | null;
}

export const knownAtText = (knownAt: LedgerStamp['knownAt']): string =>
  knownAt === null
    ? 'everything recorded'
    : [
        ...(knownAt.recordedAt === undefined ? [] : [`recorded at or before ${knownAt.recordedAt}`]),
        ...(knownAt.position === undefined ? [] : [`up to position ${knownAt.position}`]),
      ].join(', ');

/** The flags that replay the same view: `--as-of ...` and a `--known-at` that pins the history read. */
export const asOfFlags = (stamp: LedgerStamp): string =>
  [
    ...(stamp.effectiveAt === null ? [] : [`--as-of ${stamp.effectiveAt}`]),
    stamp.knownAt?.recordedAt !== undefined
      ? `--known-at ${stamp.knownAt.recordedAt}`
      : // Without a known-at, the position read pins the view, whatever is recorded after the page.
        `--known-at ${stamp.knownAt?.position ?? Math.max(stamp.position, 0)}`,
  ].join(' ');

export const renderStamp = (stamp: LedgerStamp): string =>
  [
    '<dl class="stamp">',
    `<dt>As of</dt><dd data-stamp="effectiveAt">${escapeHtml(stamp.effectiveAt ?? 'everything that occurred')}</dd>`,
    `<dt>Known at</dt><dd data-stamp="knownAt">${escapeHtml(knownAtText(stamp.knownAt))}</dd>`,
    `<dt>Position</dt><dd data-stamp="position">${stamp.position}</dd>`,
    `<dt>Events read</dt><dd data-stamp="eventsRead">${stamp.eventsRead}</dd>`,
    `<dt>Digest</dt><dd data-stamp="digest"><code>${escapeHtml(stamp.digest)}</code></dd>`,
    '</dl>',
  ].join('\n');

const STYLE = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --rule: #d6dae2; --band: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 860px; padding: 24px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.note { color: var(--muted); margin: 4px 0 12px; }
dl.stamp { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 16px;
  padding: 10px 12px; background: var(--band); border: 1px solid var(--rule); }
dl.stamp dt { color: var(--muted); }
dl.stamp dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 12.5px; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td { overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }
section.payout table { font-size: 11.5px; }
nav ul { columns: 2; padding-left: 18px; }
a { color: #2f5d8a; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  section.chart, section.keep, dl.stamp, tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

/** A whole page: everything inlined (styles, charts as SVG), no script, nothing fetched. */
export const renderPage = (title: string, body: string): string =>
  [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing on the page may be fetched: this says so to the browser too.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
