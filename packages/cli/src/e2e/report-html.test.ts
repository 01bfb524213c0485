import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, runBin } from '../testing/fixtures';
import { figureCells, valueAt, figureText } from '../testing/html-figures';

// `report book` and `report statements --format html` end to end through the built binary, on a simulated
// ledger: every figure of the pages is the JSON reports' decimal string, the pages are stamped with the
// digest `verify` prints, and the same ledger gives the same bytes. The same pages in a real browser:
// report-html.browser.test.ts.

let root: string;
let store: string;
const AS_OF = ['--as-of', '2026-03-10'];

const jsonAsOf = async (
  asOf: readonly string[],
  ...args: string[]
): Promise<{ position: number; result: unknown }> => {
  const run = await runBin(['report', ...args, ...asOf, '--format', 'json', '--store', store]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as { position: number; result: unknown };
};
const json = (...args: string[]) => jsonAsOf(AS_OF, ...args);

beforeAll(async () => {
  buildCli();
  root = mkdtempSync(join(tmpdir(), 'pl-report-html-'));
  store = join(root, 'ledger');
  const simulated = await runBin([
    'simulate',
    // Nine months, from June: long enough for partners to stop being active (90 days) and churn.
    ...['--partners', '30', '--events', '1200', '--seed', '7', '--start', '2025-06-01', '--days', '280'],
    ...['--store', store],
  ]);
  expect(simulated.code).toBe(0);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('report book', () => {
  it('writes one page whose every figure is the JSON reports’ decimal string, stamped with the digest', async () => {
    const out = join(root, 'book', 'book.html');
    const run = await runBin(['report', 'book', ...AS_OF, '--out', out, '--store', store]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^book: +.*book\.html \(\d+ bytes\)\nposition: +\d+\ndigest: +[0-9a-f]{64}\n$/,
    );
    const html = readFileSync(out, 'utf8');
    const reports = {
      revenue: await json('revenue', '--by', 'month'),
      balances: await json('balances'),
      health: await json('health', '--by', 'month'),
    };
    const cells = figureCells(html);
    for (const name of ['revenue', 'balances', 'health'] as const)
      expect(cells.filter((c) => c.report === name).length).toBeGreaterThan(10);
    // The month-end figures are on the page: unattributed revenue, commissions by partner type, aging,
    // reversals by month and kind, churned partners.
    const shown = (report: string, predicate: (path: readonly string[]) => boolean): number =>
      cells.filter((c) => c.report === report && predicate(c.path)).length;
    expect(shown('revenue', (p) => p[p.length - 1] === 'unattributed')).toBeGreaterThan(3);
    for (const key of ['byPartnerType', 'aging', 'reversalsByMonth'])
      expect({ key, shown: shown('balances', (p) => p[0] === key) > 3 }).toEqual({ key, shown: true });
    expect(shown('health', (p) => p[0] === 'churnedPartners')).toBeGreaterThan(0);
    // The revenue table by month has the program's unattributed revenue too, the JSON report's string.
    const csv = await runBin([
      'report',
      'revenue',
      '--by',
      'month',
      ...AS_OF,
      '--format',
      'csv',
      '--store',
      store,
    ]);
    const [header, ...lines] = csv.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(','));
    const column = header!.indexOf('unattributed');
    expect(column).toBeGreaterThan(0);
    const periods = (
      reports.revenue.result as {
        program: { periods: Record<string, { byCurrency: Record<string, { unattributed: string }> }> };
      }
    ).program.periods;
    expect(header!.slice(0, 3)).toEqual(['period', 'basis', 'currency']);
    const plain = lines.filter(([, basis]) => basis === 'native');
    expect(plain.length).toBeGreaterThan(3);
    for (const [period, , currency, ...rest] of plain)
      expect({ period, currency, unattributed: rest[column - 3] }).toEqual({
        period,
        currency,
        unattributed: periods[period!]!.byCurrency[currency!]!.unattributed,
      });
    for (const cell of cells) {
      const report = reports[cell.report as keyof typeof reports];
      expect({ path: cell.path, text: cell.text }).toEqual({
        path: cell.path,
        text: figureText(valueAt(report.result, cell.path)),
      });
    }
    // Money is shown as the reports' strings: at least one figure with cents, none reformatted.
    expect(cells.some((c) => /^\d+\.\d\d$/.test(c.text))).toBe(true);

    const position = reports.revenue.position;
    expect(html).toContain(`<dd data-stamp="position">${position}</dd>`);
    const verified = await runBin(['verify', '--up-to', String(position), '--store', store]);
    const digest = /digest: +([0-9a-f]{64})/.exec(verified.stdout)?.[1];
    expect(digest).toBeDefined();
    expect(html).toContain(`<dd data-stamp="digest"><code>${digest}</code></dd>`);
    expect(html).toContain('<dd data-stamp="effectiveAt">2026-03-10T23:59:59.999Z</dd>');

    // Self-contained: nothing to fetch, no script.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)|\bsrc=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/);

    // The same ledger, the same bytes.
    const again = join(root, 'book', 'again.html');
    expect((await runBin(['report', 'book', ...AS_OF, '--out', again, '--store', store])).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(html);
  });

  it('as known at a position: the figures of `report ... --known-at N`, and the digest `verify --up-to N` prints', async () => {
    const knownAt = ['--known-at', '600'];
    const out = join(root, 'book', 'known-at.html');
    expect((await runBin(['report', 'book', ...knownAt, '--out', out, '--store', store])).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    const reports = {
      revenue: await jsonAsOf(knownAt, 'revenue', '--by', 'month'),
      balances: await jsonAsOf(knownAt, 'balances'),
      health: await jsonAsOf(knownAt, 'health', '--by', 'month'),
    };
    const cells = figureCells(html);
    expect(cells.length).toBeGreaterThan(50);
    for (const cell of cells)
      expect({ path: cell.path, text: cell.text }).toEqual({
        path: cell.path,
        text: figureText(valueAt(reports[cell.report as keyof typeof reports].result, cell.path)),
      });
    expect(html).toContain('<dd data-stamp="knownAt">up to position 600</dd>');
    expect(html).toContain('<dd data-stamp="position">600</dd>');
    const verified = await runBin(['verify', '--up-to', '600', '--store', store]);
    expect(html).toContain(
      `<dd data-stamp="digest"><code>${/digest: +([0-9a-f]{64})/.exec(verified.stdout)![1]}</code>`,
    );
  });

  it('refuses what it cannot do, naming the flag, and writes nothing', async () => {
    const noOut = await runBin(['report', 'book', '--store', store]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out: report book writes one HTML file');
    const by = await runBin([
      'report',
      'book',
      '--by',
      'type',
      '--out',
      join(root, 'x.html'),
      '--store',
      store,
    ]);
    expect(by.code).toBe(2);
    expect(by.stderr).toContain('--by: report book takes --out');
    const html = await runBin(['report', 'revenue', '--format', 'html', '--out', root, '--store', store]);
    expect(html.code).toBe(2);
    expect(html.stderr).toContain('--format html: only statements');
    const outWithoutHtml = await runBin(['report', 'statements', '--out', root, '--store', store]);
    expect(outWithoutHtml.code).toBe(2);
    expect(outWithoutHtml.stderr).toContain(
      '--out: only `report book` and `report statements --format html`',
    );
    expect(existsSync(join(root, 'x.html'))).toBe(false);
  });
});

describe('report statements --format html', () => {
  it('writes a statement per partner and an index, every figure the JSON reports’ decimal string', async () => {
    const directory = join(root, 'statements');
    const run = await runBin([
      'report',
      'statements',
      '--format',
      'html',
      ...AS_OF,
      '--out',
      directory,
      '--store',
      store,
    ]);
    expect(run.code).toBe(0);
    const reports = { statements: await json('statements'), balances: await json('balances') };
    const balances = reports.balances.result as { partners: Record<string, unknown> };
    const statements = reports.statements.result as { statements: Record<string, unknown> };
    const partners = [...new Set([...Object.keys(balances.partners), ...Object.keys(statements.statements)])];
    expect(partners.length).toBeGreaterThan(3);
    expect(run.stdout).toContain(`statements: ${partners.length} partners, in ${directory}\n`);
    const files = readdirSync(directory).sort();
    expect(files).toEqual([...partners.map((p) => `${p}.html`), 'index.html'].sort());
    let settledItems = 0;
    for (const file of files) {
      const html = readFileSync(join(directory, file), 'utf8');
      expect(html).toContain(`<dd data-stamp="position">${reports.balances.position}</dd>`);
      for (const cell of figureCells(html)) {
        const report = reports[cell.report as keyof typeof reports];
        expect({ file, path: cell.path, text: cell.text }).toEqual({
          file,
          path: cell.path,
          text: figureText(valueAt(report.result, cell.path)),
        });
        if (cell.path.at(-1) === 'settled') settledItems += 1;
      }
    }
    // Payouts settled lines in this history: the statements show them, item by item.
    expect(settledItems).toBeGreaterThan(5);
  });
});
