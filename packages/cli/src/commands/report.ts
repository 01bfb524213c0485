import { EventDecodeError } from '@partner-ledger/events';
import { parseChoice, parseCurrency, parseInteger, parseMoment, parseVerbArgs } from '../args';
import type { ParsedOptions, COMMON_OPTIONS } from '../args';
import { AS_OF_OPTIONS, checkKnownAtWithinHead, parseAsOf } from '../as-of';
import { EXIT, UsageError } from '../exit';
import type { ExitCode } from '../exit';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { write } from '../io';
import { createProgress } from '../progress';
import { GROUPINGS, GROUPINGS_OF, REPORTS, runReport } from '../report/run-report';
import type { ReportName } from '../report/run-report';
import { writeBook, writeStatements } from '../report/html';
import { renderCsv, renderTable } from '../report/table';
import { KEYS_OPTION, withKeyedStore, withStore } from '../store';
import type { Verb } from '../verb';
import type { CliIo } from '../io';
import { createDirectoryShelf } from '@partner-ledger/projections';
import type { ReplayProgress } from '@partner-ledger/projections';

const options = {
  ...AS_OF_OPTIONS,
  ...KEYS_OPTION,
  by: {
    type: 'string',
    valueName: 'GROUP',
    description:
      'Group by partner, type, day, month or quarter. revenue and health: any (default partner); balances: partner or type; statements: month (default), day or quarter.',
  },
  format: {
    type: 'string',
    valueName: 'FORMAT',
    description: 'table (default), csv or json; statements also html (one page per partner, into --out).',
  },
  out: {
    type: 'string',
    valueName: 'PATH',
    description:
      'book: the HTML file to write; statements --format html: the directory to write the pages into.',
  },
  currency: {
    type: 'string',
    valueName: 'CODE',
    description:
      "Reporting currency, through the rates recorded on the events (default: the program's). revenue adds rows in it, marked CODE*, and health gives its revenue figures in it; revenue whose conversions recorded no rate into it is named on stderr. balances and statements, in each line's own currency, refuse it.",
  },
  partner: {
    type: 'string',
    valueName: 'ID',
    description: 'statements: only this partner (repeat the flag for several).',
    multiple: true,
  },
  from: {
    type: 'string',
    valueName: 'T',
    description:
      'revenue: only conversions and reversals that occurred at or after T (a date alone means its start, UTC). With --to, the replay holds only the periods asked for.',
  },
  to: {
    type: 'string',
    valueName: 'T',
    description:
      'revenue: only conversions and reversals that occurred at or before T (a date alone means its end, UTC).',
  },
  'no-checkpoint': {
    type: 'boolean',
    description:
      'Replay every event from the first: use no checkpoint and write none (the report is the same, only slower).',
  },
  'checkpoint-every': {
    type: 'string',
    valueName: 'N',
    description:
      'Write a checkpoint every N events read (default 100000); a ledger of fewer than N events gets none.',
  },
  checkpoints: {
    type: 'string',
    valueName: 'DIR',
    description:
      'Where checkpoints are kept (default: beside a file ledger, in LEDGER.checkpoints/; a server store keeps none unless given one). revenue, balances, statements and health resume from them; the HTML ones replay.',
  },
} as const;

export const reportVerb: Verb = {
  name: 'report',
  summary: 'Replay the ledger into revenue, balances, statements or health, or an HTML book.',
  usage:
    'report revenue|balances|statements|health [--as-of T] [--known-at K] [--by GROUP] [--from T] [--to T] [--format table|csv|json] [--no-checkpoint] [--checkpoint-every N] [--checkpoints DIR] [--store STORE]\n' +
    '       report book --out FILE.html [--as-of T] [--known-at K] [--currency CODE] [--store STORE]\n' +
    '       report statements --format html --out DIRECTORY [--partner ID] [--as-of T] [--known-at K] [--store STORE]',
  description:
    'Replays the ledger into one of the projections and prints it. revenue: attributed, sourced and ' +
    'influenced revenue (sourced and influenced overlap by design: see docs/projections.md), and by period ' +
    'the unattributed revenue. balances: commission accrued, reversed, paid, adjusted, pending, held and ' +
    'payable, with the trial balance (in --format json also by partner type, the aging of pending and held ' +
    'lines, and reversals by month and kind with what they clawed back). statements: every item each payout ' +
    'settled, with the plan version, rule, rate and base that earned it. health: active partners, sourced ' +
    'share, integration depth, conversion rates, EPC, time to first conversion (in --format json also ' +
    'churned partners by period).\n\n' +
    'The same events (and the same key file) always print the same bytes. --format json prints {report, by, ' +
    "effectiveAt, knownAt, position, eventsRead, partnerNames, result}, result being the projection's " +
    'documented result type, keys sorted. Rows that list partners have a name column after partner, as ' +
    'partnerNames has: the name read with the key file, [erased] after `erase`, [sealed] without the key ' +
    "(an auditor's copy); a checkpoint keeps a name only sealed, as the ledger does (never a plaintext), " +
    'and the report opens it with the key file as it is then. ' +
    '--format csv prints RFC 4180 CSV with a header row and one fact per row, for spreadsheets and BI ' +
    'tools: no total rows ((program), (all)), a basis column (native or reporting) where the table marks ' +
    'the reporting currency with *, and one amount and its currency per row; the totals stay in the ' +
    'table format.\n\n' +
    'Checkpoints: a report of the whole history writes the state of its projections every 100,000 events ' +
    '(--checkpoint-every), beside a file ledger in LEDGER.checkpoints/ (--checkpoints DIR elsewhere), and the ' +
    'next report resumes from the latest one and reads only the events after it; --as-of and --known-at use ' +
    'the latest one at or before them. A checkpoint is used only when it was taken on this ledger (the hashes ' +
    "of its first event and of the event at the checkpoint's position), by the same report options and the " +
    'same projection code, and its checksum holds; any other is ignored, with a note on stderr. The output ' +
    'is the same with or without them (--no-checkpoint).\n\n' +
    "Damage: a report reads the events as stored and checks neither their hash links nor the ledger's " +
    'invariants (verify does: run it before relying on a figure; an event edited on disk with its checksum ' +
    'fixed still prints). A file store whose records do not check out when it is opened (a checksum, a ' +
    'position out of sequence, a record cut short, an index that disagrees with the segments) is refused ' +
    'with exit 2, naming the file, the offset and the position.\n\n' +
    'book: the month-end book, one self-contained HTML page (no script, nothing fetched; printable to PDF) ' +
    'with charts of revenue by month (unattributed included), by partner type and of the top partners, ' +
    'commission balances (by partner type, aging of pending and held lines, reversals by month and kind ' +
    'with what they clawed back) and ecosystem health (churned partners by month included), each with its ' +
    'numbers in a table, and the digest and position of the ledger it was ' +
    'read at. statements --format html: one page per partner (balance carried, payouts and what each ' +
    "settled, with the partner's name as above) and an index.html. Every figure of the pages is the decimal string of the JSON reports " +
    '(revenue and health --by month, balances, statements). See docs/reports.md.',
  options,
  examples: [
    ['partner-ledger report revenue --by type', 'Revenue per partner type'],
    [
      'partner-ledger report revenue --by month --format csv > revenue.csv',
      'Program revenue per month, as CSV',
    ],
    [
      'partner-ledger report revenue --by month --from 2026-01-01 --to 2026-12-31',
      'Revenue per month for 2026 only',
    ],
    [
      'partner-ledger report balances --as-of 2026-03-31 --known-at 2026-04-05T09:00:00Z',
      'Balances at the March close, as known when the statements went out',
    ],
    [
      'partner-ledger report statements --as-of 2026-03-31 --format csv > statements.csv',
      'Statements up to March',
    ],
    ['partner-ledger report health --format json | jq .result.activePartners', 'Active partners, from JSON'],
    [
      'partner-ledger report balances --store postgres://ledger@db/ledger --checkpoints /var/lib/ledger-checkpoints',
      'Balances of a PostgreSQL ledger, resuming from checkpoints in a directory',
    ],
    ['partner-ledger report book --as-of 2026-03-31 --out book.html', 'The March book, as one HTML page'],
    [
      'partner-ledger report statements --format html --as-of 2026-03-31 --out statements/',
      'One HTML statement per partner, and an index',
    ],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('report', args, options);
    const [which, ...extra] = parsed.positionals;
    if (which === undefined)
      throw new UsageError(
        'report: which report? (revenue, balances, statements, health or book)',
        'Run `partner-ledger report --help`.',
      );
    if (extra.length > 0) throw new UsageError(`report: unexpected argument ${JSON.stringify(extra[0])}`);
    if (which === 'book') return runBook(io, parsed.options);
    const name: ReportName = (() => {
      if (!(REPORTS as readonly string[]).includes(which))
        throw new UsageError(
          `report: unknown report ${JSON.stringify(which)}; expected one of ${[...REPORTS, 'book'].join(', ')}`,
        );
      return which as ReportName;
    })();
    const by = parseChoice('by', parsed.options.by ?? GROUPINGS_OF[name][0]!, GROUPINGS);
    if (!GROUPINGS_OF[name].includes(by))
      throw new UsageError(`--by: the ${name} report groups by ${GROUPINGS_OF[name].join(', ')}, not ${by}`);
    const format = parseChoice('format', parsed.options.format ?? 'table', [
      'table',
      'csv',
      'json',
      'html',
    ] as const);
    if (format === 'html' && name !== 'statements')
      throw new UsageError(`--format html: only statements (and \`report book\`) are written as HTML`);
    if (format === 'html' && parsed.options.out === undefined)
      throw new UsageError(
        '--out: statements --format html writes one page per partner: give it a directory',
      );
    if (format !== 'html' && parsed.options.out !== undefined)
      throw new UsageError('--out: only `report book` and `report statements --format html` write files');
    if (format === 'html' && parsed.options.by !== undefined && parsed.options.by !== 'month')
      throw new UsageError('--by: the HTML statements are by month');
    const currency =
      parsed.options.currency === undefined ? undefined : parseCurrency('currency', parsed.options.currency);
    const partnerIds = parsed.options.partner;
    if (partnerIds !== undefined && name !== 'statements')
      throw new UsageError('--partner: only the statements report takes it');
    // Taken and ignored, --currency EUR would print a balance in dollars under a request for euros.
    if (currency !== undefined && (name === 'balances' || name === 'statements'))
      throw new UsageError(
        `--currency: the ${name} report is in the currency of each line and payout, and converts nothing; ` +
          'revenue, health and report book take a reporting currency',
      );
    if ((parsed.options.from !== undefined || parsed.options.to !== undefined) && name !== 'revenue')
      throw new UsageError('--from and --to: only the revenue report takes them');
    const from =
      parsed.options.from === undefined ? undefined : parseMoment('from', parsed.options.from, 'startOfDay');
    const to = parsed.options.to === undefined ? undefined : parseMoment('to', parsed.options.to, 'endOfDay');
    if (from !== undefined && to !== undefined && from > to)
      throw new UsageError(`--from ${parsed.options.from} is after --to ${parsed.options.to}`);
    const asOf = parseAsOf(parsed.options);
    const every =
      parsed.options['checkpoint-every'] === undefined
        ? undefined
        : parseInteger('checkpoint-every', parsed.options['checkpoint-every'], {
            min: 1,
            max: 1_000_000_000,
          });
    const noCheckpoint = parsed.options['no-checkpoint'] === true;
    if (noCheckpoint && (every !== undefined || parsed.options.checkpoints !== undefined))
      throw new UsageError('--no-checkpoint: not with --checkpoint-every or --checkpoints');
    if (format === 'html' && (every !== undefined || parsed.options.checkpoints !== undefined))
      throw new UsageError(
        '--checkpoints, --checkpoint-every: the HTML statements replay without checkpoints',
      );
    if (format === 'html')
      return withKeyedStore(
        io,
        parsed.options.store,
        parsed.options.keys,
        { mustExist: true, readOnly: true },
        async (store, _spec, _keys, sealedStore) => {
          await checkKnownAtWithinHead(store, asOf);
          const directory = resolve(io.cwd, parsed.options.out!);
          if ((await kindOf(directory)) === 'file')
            throw new UsageError(
              `--out: ${directory} is a file: the statements are one page per partner, in a directory`,
            );
          const written = await withReplayProgress(io, 'report statements', (onProgress) =>
            writeStatements(store, directory, {
              sealedStore,
              ...asOf,
              ...(currency === undefined ? {} : { reportingCurrency: currency }),
              ...(partnerIds === undefined ? {} : { partnerIds }),
              onProgress,
            }),
          );
          await write(
            io.stdout,
            `statements: ${written.files.length - 1} partners, in ${written.directory}\n` +
              `index:      ${written.files[0]}\n` +
              `position:   ${written.stamp.position}\ndigest:     ${written.stamp.digest}\n`,
          );
          return EXIT.ok;
        },
      );
    return withKeyedStore(
      io,
      parsed.options.store,
      parsed.options.keys,
      { mustExist: true, readOnly: true },
      async (store, spec, keys, beneath) => {
        await checkKnownAtWithinHead(store, asOf);
        const progress = createProgress({ stream: io.stderr, label: `report ${name}` });
        // The replay's total is exact only where positions are dense (the file store; see ReplayProgress).
        const totalKnown = spec.kind === 'file';
        let seen = 0;
        let report;
        const directory =
          parsed.options.checkpoints !== undefined
            ? resolve(io.cwd, parsed.options.checkpoints)
            : spec.kind === 'file'
              ? `${spec.directory.replace(/[\\/]+$/, '')}.checkpoints`
              : undefined;
        try {
          report = await runReport(store, name, {
            ...(keys === undefined ? {} : { sealing: { beneath, keys } }),
            ...(noCheckpoint || directory === undefined
              ? {}
              : {
                  checkpoints: {
                    shelf: createDirectoryShelf(directory),
                    ...(every === undefined ? {} : { every }),
                    onNotice: (message: string) => io.stderr.write(`partner-ledger: note: ${message}\n`),
                  },
                }),
            by,
            ...(asOf.effectiveAt === undefined ? {} : { effectiveAt: asOf.effectiveAt }),
            ...(asOf.knownAt === undefined ? {} : { knownAt: asOf.knownAt }),
            ...(currency === undefined ? {} : { reportingCurrency: currency }),
            ...(partnerIds === undefined ? {} : { partnerIds }),
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
            onProgress: ({ done, total }) => {
              if (totalKnown) progress.setTotal(total);
              progress.advance(done - seen);
              seen = done;
            },
          });
        } catch (error) {
          if (error instanceof EventDecodeError)
            throw new UsageError(
              `report: the ledger holds an event that does not decode: ${error.message.split('\n')[0]}`,
              'Run `partner-ledger verify` to find it.',
            );
          throw error;
        } finally {
          progress.finish();
        }
        if (report.warning !== undefined) io.stderr.write(`partner-ledger: note: ${report.warning}\n`);
        if (format === 'json') await write(io.stdout, `${JSON.stringify(report.json, null, 2)}\n`);
        else if (format === 'csv') await write(io.stdout, renderCsv(report.csv));
        else await write(io.stdout, `${report.summary.join('\n')}\n\n${renderTable(report.rows)}`);
        return EXIT.ok;
      },
    );
  },
};

// help is answered before run: any other flag of `report` has no meaning for the book.
const bookOptionsAllowed = new Set(['as-of', 'known-at', 'currency', 'out', 'store', 'help']);

/** Runs a replay with the progress bar on stderr (its total shown where positions count events). */
const withReplayProgress = async <T>(
  io: CliIo,
  label: string,
  run: (onProgress: (progress: ReplayProgress) => void) => Promise<T>,
): Promise<T> => {
  const progress = createProgress({ stream: io.stderr, label });
  let seen = 0;
  try {
    return await run(({ done }) => {
      progress.advance(done - seen);
      seen = done;
    });
  } catch (error) {
    if (error instanceof EventDecodeError)
      throw new UsageError(
        `report: the ledger holds an event that does not decode: ${error.message.split('\n')[0]}`,
        'Run `partner-ledger verify` to find it.',
      );
    throw error;
  } finally {
    progress.finish();
  }
};

/** What is at `path`: refused before a replay when --out names the other kind (not a bare EISDIR after it). */
const kindOf = async (path: string): Promise<'file' | 'directory' | 'none'> =>
  stat(path).then(
    (info) => (info.isDirectory() ? 'directory' : 'file'),
    () => 'none',
  );

/** `report book --out FILE`: the month-end book as one HTML page. */
const runBook = async (
  io: CliIo,
  flags: ParsedOptions<typeof options & typeof COMMON_OPTIONS>,
): Promise<ExitCode> => {
  const unexpected = Object.entries(flags).find(
    ([flag, value]) => value !== undefined && !bookOptionsAllowed.has(flag),
  );
  if (unexpected !== undefined)
    throw new UsageError(
      `--${unexpected[0]}: report book takes --out, --as-of, --known-at, --currency and --store`,
    );
  const out = flags.out;
  if (typeof out !== 'string') throw new UsageError('--out: report book writes one HTML file: give its path');
  const currency = flags.currency === undefined ? undefined : parseCurrency('currency', flags.currency);
  const asOf = parseAsOf(flags);
  const path = resolve(io.cwd, out);
  if ((await kindOf(path)) === 'directory')
    throw new UsageError(
      `--out: ${path} is a directory: report book writes one HTML file (give its path, such as ${join(path, 'book.html')})`,
    );
  return withStore(io, flags.store, { mustExist: true, readOnly: true }, async (store) => {
    await checkKnownAtWithinHead(store, asOf);
    const written = await withReplayProgress(io, 'report book', (onProgress) =>
      writeBook(store, path, {
        ...asOf,
        ...(currency === undefined ? {} : { reportingCurrency: currency }),
        onProgress,
      }),
    );
    await write(
      io.stdout,
      `book:     ${written.path} (${written.bytes} bytes)\n` +
        `position: ${written.stamp.position}\ndigest:   ${written.stamp.digest}\n`,
    );
    return EXIT.ok;
  });
};
