import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { buildCli, runBin } from '../testing/fixtures';
import { figureText, valueAt } from '../testing/html-figures';

// The HTML book and statements in a real browser: Debian's chromium, driven by playwright-core (no browser
// download). Where chromium is not installed the tests are skipped, saying so; CI (CI=true) installs it
// (.ci/run) and fails here without it. Screenshots and the printed PDF are kept under the OS temp dir.

const CHROMIUM = process.env.PARTNER_LEDGER_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const HOW_TO_RUN =
  `install Debian's chromium (apt-get install -y chromium) or set PARTNER_LEDGER_CHROMIUM to a Chromium ` +
  `binary, then run: npx jest packages/cli/src/e2e/report-html.browser.test.ts`;
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (!HAVE_CHROMIUM) {
  if (process.env.CI === 'true')
    test('chromium is installed, so that CI runs the browser tests', () => {
      throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs it; ${HOW_TO_RUN}`);
    });
  else
    console.warn(
      `SKIPPED the browser tests of the HTML reports: no Chromium at ${CHROMIUM}. To run them, ${HOW_TO_RUN}.`,
    );
}

// What the functions passed to page.evaluate use of the browser: typed here, for this file only (the
// package's lib has no DOM).
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    drawImage(image: unknown, x: number, y: number): void;
    getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
  } | null;
}
declare const document: { createElement(tag: 'canvas'): PageCanvas };
declare const Image: new () => { src: string; width: number; height: number; decode(): Promise<void> };
declare const getComputedStyle: (element: unknown) => { breakInside: string; breakAfter: string };

const describeInBrowser = HAVE_CHROMIUM ? describe : describe.skip;

/** A4 less the page margins of the pages' @page rule (14 mm each side), in CSS pixels (96 per inch). */
const MM = 96 / 25.4;
const PRINTABLE = { width: Math.floor((210 - 28) * MM), height: Math.floor((297 - 28) * MM) };

describeInBrowser('the HTML reports in Chromium', () => {
  let root: string;
  let store: string;
  let shots: string;
  let context: BrowserContext;
  const reports: Record<string, { result: unknown }> = {};
  const AS_OF = ['--as-of', '2026-03-10'];

  beforeAll(async () => {
    buildCli();
    root = mkdtempSync(join(tmpdir(), 'pl-report-browser-'));
    store = join(root, 'ledger');
    // Nine months, from June: long enough for partners to stop being active (90 days) and churn.
    const simulate = [
      ...['--partners', '30', '--events', '1200', '--seed', '7', '--start', '2025-06-01', '--days', '280'],
    ];
    expect((await runBin(['simulate', ...simulate, '--store', store])).code).toBe(0);
    for (const [key, args] of [
      ['revenue', ['revenue', '--by', 'month']],
      ['balances', ['balances']],
      ['health', ['health', '--by', 'month']],
      ['statements', ['statements']],
    ] as const) {
      const run = await runBin(['report', ...args, ...AS_OF, '--format', 'json', '--store', store]);
      expect(run.code).toBe(0);
      reports[key] = JSON.parse(run.stdout) as { result: unknown };
    }
    const book = await runBin([
      'report',
      'book',
      ...AS_OF,
      '--out',
      join(root, 'book.html'),
      '--store',
      store,
    ]);
    expect(book.code).toBe(0);
    const statements = ['statements', '--format', 'html', ...AS_OF, '--out', join(root, 'statements')];
    expect((await runBin(['report', ...statements, '--store', store])).code).toBe(0);

    // Kept after the run (CI artifacts): one folder per run under the OS temp dir.
    shots = join(
      tmpdir(),
      'partner-ledger-report-screenshots',
      new Date().toISOString().replace(/[:.]/g, '-'),
    );
    mkdirSync(shots, { recursive: true });
    console.log(`screenshots and PDF of the HTML reports: ${shots}`);
    context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 900, height: 1200 },
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Opens a page, recording console errors, page errors and any request that is not the file itself. */
  const open = async (file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> => {
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (request) => {
      if (request.url() !== pathToFileURL(file).href) requests.push(request.url());
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, errors, requests };
  };

  /**
   * The share of a chart's pixels, below its legend, in colour (axes, grid lines and labels are grey), decoded
   * from its screenshot by the browser: a chart with its axes but no bars or lines has none.
   */
  const colouredShareOf = async (png: Buffer, legendHeight: number): Promise<number> => {
    const page = await context.newPage();
    try {
      return await page.evaluate(
        async ([base64, skip]) => {
          const image = new Image();
          image.src = `data:image/png;base64,${base64}`;
          await image.decode();
          const canvas = document.createElement('canvas');
          canvas.width = image.width;
          canvas.height = image.height;
          const g = canvas.getContext('2d')!;
          g.drawImage(image, 0, 0);
          const { data } = g.getImageData(0, skip, image.width, image.height - skip);
          let coloured = 0;
          for (let i = 0; i < data.length; i += 4) {
            const [r, gr, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
            if (Math.max(r, gr, b) - Math.min(r, gr, b) > 48) coloured += 1;
          }
          return coloured / (data.length / 4);
        },
        [png.toString('base64'), legendHeight] as const,
      );
    } finally {
      await page.close();
    }
  };

  /** Every figure cell's rendered text, with where it comes from. */
  const renderedFigures = (page: Page) =>
    page.$$eval('td[data-path]', (cells) =>
      cells.map((cell) => ({
        report: cell.getAttribute('data-report')!,
        path: JSON.parse(cell.getAttribute('data-path')!) as string[],
        text: (cell as unknown as { innerText: string }).innerText,
      })),
    );

  it('the book opens with no console error and no request, and draws every chart (pixels checked)', async () => {
    const { page, errors, requests } = await open(join(root, 'book.html'));
    try {
      const sections = await page.$$('section.chart:not(.empty)');
      expect(sections.length).toBeGreaterThanOrEqual(8);
      const ids = await Promise.all(sections.map((section) => section.getAttribute('id')));
      // Each figure of the book is drawn, the month-end ones included.
      for (const id of [
        'revenue-month-reporting',
        'revenue-unattributed-reporting',
        'revenue-unattributed-byCurrency-USD',
        'revenue-type-reporting',
        'top-partners-reporting',
        'balances-USD',
        'commissions-type-USD',
        'commissions-aging-USD',
        'reversals-USD',
        'health-partners-by-type',
        'health-new-partners',
        'health-churned-partners',
        'health-share-reporting',
      ])
        expect(ids).toContain(id);
      const screenshot = join(shots, 'book.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      for (const section of sections) {
        const id = await section.getAttribute('id');
        const figure = (await section.$('figure svg'))!;
        const box = (await figure.boundingBox())!;
        expect(box.width).toBeGreaterThan(300);
        expect(box.height).toBeGreaterThan(150);
        const png = await figure.screenshot({ path: join(shots, `chart-${id}.png`) });
        // The series' colour, under the legend (its top 30 pixels): bars or lines were drawn.
        const coloured = await colouredShareOf(png, 30);
        expect({ id, coloured, drawn: coloured > 0.004 }).toEqual({ id, coloured, drawn: true });
      }
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('every number in the book’s tables, as the browser shows it, is the JSON report’s', async () => {
    const { page } = await open(join(root, 'book.html'));
    try {
      const figures = await renderedFigures(page);
      expect(figures.length).toBeGreaterThan(100);
      for (const { report, path, text } of figures)
        expect({ report, path, text }).toEqual({
          report,
          path,
          text: figureText(valueAt(reports[report]!.result, path)),
        });
    } finally {
      await page.close();
    }
  });

  it('prints to A4 with no chart cut across pages', async () => {
    const { page } = await open(join(root, 'book.html'));
    try {
      await page.setViewportSize({ width: PRINTABLE.width, height: PRINTABLE.height });
      await page.emulateMedia({ media: 'print' });
      const charts = await page.$$eval('figure', (figures) =>
        figures.map((figure) => ({
          id: figure.closest('section')?.id ?? '',
          breakInside: getComputedStyle(figure).breakInside,
          height: figure.getBoundingClientRect().height,
        })),
      );
      expect(charts.length).toBeGreaterThanOrEqual(8);
      // A chart that must not break and fits on a page is never cut: Chromium moves it to the next page.
      for (const chart of charts)
        expect({
          id: chart.id,
          breakInside: chart.breakInside,
          fits: chart.height <= PRINTABLE.height,
        }).toEqual({
          id: chart.id,
          breakInside: 'avoid',
          fits: true,
        });
      const headings = await page.$$eval('h2, h3', (hs) => hs.map((h) => getComputedStyle(h).breakAfter));
      expect(new Set(headings)).toEqual(new Set(['avoid']));
      const pdf = join(shots, 'book.pdf');
      await page.pdf({ path: pdf, format: 'A4', printBackground: true });
      const pages = (readFileSync(pdf, 'latin1').match(/\/Type\s*\/Page\b/g) ?? []).length;
      expect(pages).toBeGreaterThan(2);
      expect(statSync(pdf).size).toBeGreaterThan(10_000);
    } finally {
      await page.close();
    }
  });

  it('the statements open with no console error, and show the JSON reports’ numbers', async () => {
    const index = await open(join(root, 'statements', 'index.html'));
    try {
      await index.page.screenshot({ path: join(shots, 'statements-index.png'), fullPage: true });
      const links = await index.page.$$eval('a[href$=".html"]', (as) =>
        as.map((a) => (a as unknown as { href: string }).href),
      );
      expect(links.length).toBeGreaterThan(3);
      expect(index.errors).toEqual([]);
      let settled = 0;
      for (const link of links) {
        const { page, errors, requests } = await open(new URL(link).pathname);
        try {
          for (const { report, path, text } of await renderedFigures(page)) {
            expect({ link, path, text }).toEqual({
              link,
              path,
              text: figureText(valueAt(reports[report]!.result, path)),
            });
            if (path.at(-1) === 'settled') settled += 1;
          }
          if (link === links[0])
            await page.screenshot({ path: join(shots, 'statement.png'), fullPage: true });
          expect(errors).toEqual([]);
          expect(requests).toEqual([]);
        } finally {
          await page.close();
        }
      }
      expect(settled).toBeGreaterThan(5);
    } finally {
      await index.page.close();
    }
  });
});
