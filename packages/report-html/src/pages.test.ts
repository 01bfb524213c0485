import { renderBook, renderStatements, statementFileName } from './index';
import { HOSTILE_ID, balances, health, revenue, stamp, statements } from './testing/results';

// The pages render what they are given: every figure cell holds the given decimal string and says where it
// comes from; markup in an id stays text; the same input gives the same bytes. The pages of a real
// simulated ledger, against the CLI's JSON reports and in a browser, are tested in the cli package.

interface Cell {
  readonly report: string;
  readonly path: string[];
  readonly text: string;
}

const unescape = (text: string): string =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

const cellsOf = (html: string): Cell[] =>
  [...html.matchAll(/<td class="num" data-report="([a-z]+)" data-path="([^"]*)">([^<]*)<\/td>/g)].map(
    ([, report, path, text]) => ({
      report: report!,
      path: JSON.parse(unescape(path!)) as string[],
      text: unescape(text!),
    }),
  );

const at = (document: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document);

const shown = (value: unknown): string => (value === null ? '\u2014' : String(value));

const book = () => renderBook({ stamp, revenue, balances, health });

describe('renderBook', () => {
  it('puts each given figure, as given, in a cell that names its report and path', () => {
    const html = book();
    const cells = cellsOf(html);
    const results: Record<string, unknown> = { revenue, balances, health };
    expect(new Set(cells.map((c) => c.report))).toEqual(new Set(['revenue', 'balances', 'health']));
    for (const cell of cells) expect(cell.text).toBe(shown(at(results[cell.report], cell.path)));
    // A figure that no arithmetic produced: 0.01 USD of the second month stays "0.01".
    expect(cells).toContainEqual({
      report: 'revenue',
      path: ['program', 'periods', '2026-02', 'byCurrency', 'USD', 'attributed'],
      text: '0.01',
    });
    expect(html).toContain(`<dd data-stamp="digest"><code>${stamp.digest}</code></dd>`);
    expect(html).toContain('--as-of 2026-02-28T23:59:59.999Z --known-at 41');
  });

  it('draws a chart (SVG) per section with figures, and says so where there is nothing to draw', () => {
    const html = book();
    const drawn = html.match(/<section class="chart" id="[^"]+">/g) ?? [];
    expect(drawn.length).toBeGreaterThanOrEqual(8);
    expect((html.match(/<figure role="img"[^>]*><svg /g) ?? []).length).toBe(drawn.length);
    const empty = renderBook({
      stamp,
      revenue: { ...revenue, program: { periods: {}, total: revenue.program.total } },
      balances,
      health,
    });
    expect(empty).toContain(
      '<h2 id="revenue">Revenue: partner-sourced, influenced and attributed</h2>\n<p class="note">',
    );
    expect(empty).toContain('<p class="note">No revenue recorded yet.</p>\n<h2 id="partners">');
    const noJoins = renderBook({ stamp, revenue, balances, health: { ...health, newPartners: {} } });
    expect(noJoins).toContain('<section class="chart empty" id="health-new-partners">');
  });

  it('charts unattributed revenue, commissions by partner type, aging, reversals and churn, each with its table', () => {
    const html = book();
    for (const id of [
      'revenue-unattributed-reporting',
      'revenue-unattributed-byCurrency-USD',
      'revenue-unattributed-byCurrency-EUR',
      'commissions-type-USD',
      'commissions-aging-USD',
      'reversals-USD',
      'health-churned-partners',
    ])
      expect(html).toMatch(
        new RegExp(`<section class="chart" id="${id}">[^]*?<figure role="img"[^>]*><svg [^]*?<table>`),
      );
    const cells = cellsOf(html);
    expect(cells).toEqual(
      expect.arrayContaining([
        {
          report: 'revenue',
          path: ['program', 'periods', '2026-02', 'reporting', 'unattributed'],
          text: '6.79',
        },
        { report: 'balances', path: ['aging', 'USD', '31-60', 'held'], text: '1.25' },
        {
          report: 'balances',
          path: ['reversalsByMonth', '2026-02', 'refund', 'USD', 'clawedBack'],
          text: '1.23',
        },
        { report: 'balances', path: ['byPartnerType', 'affiliate', 'USD', 'partners'], text: '2' },
        { report: 'health', path: ['churnedPartners', '2026-02', 'byType', 'affiliate'], text: '1' },
      ]),
    );
    const nothing = renderBook({
      stamp,
      revenue,
      balances: { ...balances, aging: {}, reversalsByMonth: {} },
      health: { ...health, churnedPartners: {} },
    });
    expect(nothing).toContain('<p class="note">No commission pending or held.</p>');
    expect(nothing).toContain('<p class="note">No reversal recorded yet.</p>');
    expect(nothing).toContain('<p class="note">No partner has churned yet');
  });

  it('is the same bytes for the same input, whatever was drawn before in the process', () => {
    const first = book();
    renderStatements({ stamp, statements, balances });
    expect(book()).toBe(first);
  });

  it('is self-contained: no script, nothing to fetch', () => {
    const html = book();
    // (A partner id holding markup is among the figures, escaped: as text, or inside quoted attribute values.)
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b|@import|url\((?!#)/i);
    expect(html.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]+\ssrc=/i);
    const links = [...html.matchAll(/\shref="([^"]*)"/g)].map(([, href]) => href!);
    expect(links.length).toBeGreaterThan(0);
    for (const href of links) expect(href).toMatch(/^#[a-z]+$/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
  });

  it('refuses results that are not by month', () => {
    expect(() =>
      renderBook({ stamp, revenue: { ...revenue, granularity: 'day' }, balances, health }),
    ).toThrow('by month');
  });
});

describe('renderStatements', () => {
  const files = renderStatements({ stamp, statements, balances, partnerTypes: { 'blog-1': 'affiliate' } });

  it('writes an index and one statement per partner with a balance or a payout', () => {
    expect(files.map((f) => [f.fileName, f.partnerId])).toEqual([
      ['index.html', null],
      [statementFileName(HOSTILE_ID), HOSTILE_ID],
      ['blog-1.html', 'blog-1'],
    ]);
  });

  it("shows the partner's balance, each payout and every item it settled, as given", () => {
    const html = files.find((f) => f.partnerId === 'blog-1')!.html;
    const results: Record<string, unknown> = { statements, balances };
    const cells = cellsOf(html);
    for (const cell of cells) expect(cell.text).toBe(shown(at(results[cell.report], cell.path)));
    const texts = cells.map((c) => `${c.path.join('.')}=${c.text}`);
    expect(texts).toEqual(
      expect.arrayContaining([
        'partners.blog-1.USD.balance=5.03',
        'statements.blog-1.2026-02.payouts.0.amount=20.00',
        'statements.blog-1.2026-02.payouts.0.items.0.settled=25.03',
        'statements.blog-1.2026-02.payouts.0.items.0.line.base=100.12',
        'statements.blog-1.2026-02.payouts.0.items.1.settled=-5.03',
      ]),
    );
    expect(html).toContain(
      'partner-ledger report statements --partner blog-1 --as-of 2026-02-28T23:59:59.999Z --known-at 41 --format json',
    );
    expect(html).toContain('partner-ledger verify --up-to 41');
  });

  it('keeps markup in a partner id as text, in the pages and in the links', () => {
    for (const file of files) {
      expect(file.html).not.toContain('<img');
      expect(file.html).not.toContain('onerror="');
    }
    const index = files[0]!.html;
    expect(index).toContain(`href="${encodeURI(statementFileName(HOSTILE_ID)).replace(/&/g, '&amp;')}"`);
    expect(index).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;co</a>');
  });
});

describe('statementFileName', () => {
  it('keeps a plain id, and gives any other id a safe name of its own', () => {
    expect(statementFileName('affiliate-0001')).toBe('affiliate-0001.html');
    const names = ['a/b', 'a_b', 'a b', 'index', 'INDEX', '..', HOSTILE_ID].map(statementFileName);
    expect(names[1]).toBe('a_b.html');
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*\.html$/);
      expect(name.toLowerCase()).not.toBe('index.html');
    }
  });
});
