// Reading the figures back out of the HTML pages of @partner-ledger/report-html: every figure cell names its
// JSON report and the path of its value in `result` (data-report, data-path), so that tests (and anyone)
// can check the page against `partner-ledger report NAME --format json`.

export interface FigureCell {
  readonly report: string;
  readonly path: readonly string[];
  readonly text: string;
}

const unescape = (text: string): string =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** Every figure cell of a page, in order. */
export const figureCells = (html: string): FigureCell[] =>
  [...html.matchAll(/<td class="num" data-report="([a-z]+)" data-path="([^"]*)">([^<]*)<\/td>/g)].map(
    ([, report, path, text]) => ({
      report: report!,
      path: JSON.parse(unescape(path!)) as string[],
      text: unescape(text!),
    }),
  );

/** The value at a path of a JSON document; a missing key is a test failure, not a blank. */
export const valueAt = (document: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((node, key) => {
    if (node === null || typeof node !== 'object' || !(key in node))
      throw new Error(`no ${JSON.stringify(key)} at ${JSON.stringify(path)} in the JSON report`);
    return (node as Record<string, unknown>)[key];
  }, document);

/** How the pages print a JSON value: the string itself, a count, an em dash for null. */
export const figureText = (value: unknown): string =>
  value === null ? '\u2014' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
