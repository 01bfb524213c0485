import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import { computeDigest } from '@partner-ledger/store';
import {
  commissionBalances,
  ecosystemHealth,
  partnerRevenue,
  payoutStatements,
  replay,
} from '@partner-ledger/projections';
import type { ReplayProgress } from '@partner-ledger/projections';
import { renderBook, renderStatements } from '@partner-ledger/report-html';
import type { LedgerStamp } from '@partner-ledger/report-html';
import { UsageError } from '../exit';
import { makeDirectory } from '../make-directory';
import { partnerNamesOf } from './names';

// The HTML reports: the book and the partner statements. The projections are replayed here exactly as
// `report revenue|balances|health --by month` and `report statements` replay them (same options, same
// moments), so that every figure of the pages is the JSON reports' decimal string; the pages only render.

export interface HtmlReportOptions {
  readonly effectiveAt?: string;
  readonly knownAt?: AsKnownAt;
  readonly reportingCurrency?: string;
  readonly onProgress?: (progress: ReplayProgress) => void;
}

const replayOptionsOf = (options: HtmlReportOptions) => ({
  ...(options.effectiveAt === undefined ? {} : { effectiveAt: options.effectiveAt }),
  ...(options.knownAt === undefined ? {} : { asKnownAt: options.knownAt }),
  ...(options.reportingCurrency === undefined ? {} : { reportingCurrency: options.reportingCurrency }),
  ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress, progressEvery: 5_000 }),
});

/** The stamp of a replay: the digest of the history up to the last event it read. */
const stampOf = async (
  store: EventStore,
  outcome: { readonly position: number; readonly eventsRead: number },
  options: HtmlReportOptions,
): Promise<LedgerStamp> => ({
  digest: (await computeDigest(store, { upToPosition: outcome.position })).digest,
  position: outcome.position,
  eventsRead: outcome.eventsRead,
  effectiveAt: options.effectiveAt ?? null,
  knownAt: options.knownAt ?? null,
});

/**
 * Makes the --out directory before the replay, so that an output that cannot be written is refused at once
 * (not after a long replay, and never hung: see makeDirectory), with a usage error naming the path.
 */
const makeOutDirectory = (directory: string): Promise<void> =>
  makeDirectory(directory).catch((error: Error) => {
    throw new UsageError(`--out: ${error.message}`);
  });

const writeOut = (path: string, text: string): Promise<void> =>
  writeFile(path, text, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--out: cannot write ${path}: ${error.code ?? error.message}`);
  });

export interface WrittenBook {
  readonly path: string;
  readonly stamp: LedgerStamp;
  readonly bytes: number;
}

/** Replays the ledger into revenue, balances and health by month, and writes the book to `path`. */
export const writeBook = async (
  store: EventStore,
  path: string,
  options: HtmlReportOptions = {},
): Promise<WrittenBook> => {
  await makeOutDirectory(dirname(path));
  const outcome = await replay(
    store,
    {
      revenue: partnerRevenue({ granularity: 'month' }),
      balances: commissionBalances(),
      health: ecosystemHealth({ granularity: 'month' }),
    },
    replayOptionsOf(options),
  );
  const stamp = await stampOf(store, outcome, options);
  const html = renderBook({ stamp, ...outcome.results });
  await writeOut(path, html);
  return { path, stamp, bytes: Buffer.byteLength(html) };
};

export interface WrittenStatements {
  readonly directory: string;
  readonly stamp: LedgerStamp;
  /** The files written, the index first. */
  readonly files: readonly string[];
}

/** Replays the ledger into payout statements (by month) and balances, and writes one page per partner. */
export const writeStatements = async (
  store: EventStore,
  directory: string,
  options: HtmlReportOptions & {
    readonly partnerIds?: readonly string[];
    /** The store as it holds the events, for the stamp's digest, when `store` is a sealing store over it. */
    readonly sealedStore?: EventStore;
  } = {},
): Promise<WrittenStatements> => {
  await makeOutDirectory(directory);
  const outcome = await replay(
    store,
    {
      statements: payoutStatements({
        granularity: 'month',
        ...(options.partnerIds === undefined ? {} : { partnerIds: options.partnerIds }),
      }),
      balances: commissionBalances(),
      health: ecosystemHealth({ granularity: 'month' }),
    },
    replayOptionsOf(options),
  );
  // The digest is of the events as stored (sealed), the one `verify` prints.
  const stamp = await stampOf(options.sealedStore ?? store, outcome, options);
  const { statements, balances, health } = outcome.results;
  const partnerNames = await partnerNamesOf(
    store,
    options.partnerIds ?? [...Object.keys(statements.statements), ...Object.keys(balances.partners)],
    {
      position: outcome.position,
      ...(options.effectiveAt === undefined ? {} : { effectiveAt: options.effectiveAt }),
      ...(options.knownAt === undefined ? {} : { knownAt: options.knownAt }),
    },
  );
  const pages = renderStatements({
    stamp,
    statements,
    balances,
    partnerTypes: Object.fromEntries(Object.entries(health.partners).map(([id, p]) => [id, p.partnerType])),
    partnerNames,
    ...(options.partnerIds === undefined ? {} : { partnerIds: options.partnerIds }),
  });
  for (const page of pages) await writeOut(join(directory, page.fileName), page.html);
  return { directory, stamp, files: pages.map((page) => join(directory, page.fileName)) };
};
