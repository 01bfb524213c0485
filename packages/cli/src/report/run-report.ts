import type { KeyStore } from '@partner-ledger/events';
import type { AsKnownAt, EventStore } from '@partner-ledger/store';
import {
  commissionBalances,
  ecosystemHealth,
  partnerRevenue,
  payoutStatements,
  replay,
  replayWithCheckpoints,
  sortKeys,
} from '@partner-ledger/projections';
import type {
  CheckpointShelf,
  Granularity,
  ProjectionSet,
  ReplayOptions,
  ReplayProgress,
} from '@partner-ledger/projections';
import { partnerTypes } from './partner-types';
import { balanceRows, healthRows, healthSummary, revenueRows, statementRows } from './rows';
import type { RevenueBy } from './rows';
import { namesAtRevisions, partnerNameEvents, withPartnerNames } from './names';
import type { NameEvent } from './names';
import type { Rows } from './table';

/** The reports of `partner-ledger report`. */
export const REPORTS = ['revenue', 'balances', 'statements', 'health'] as const;
/** One of REPORTS. */
export type ReportName = (typeof REPORTS)[number];

/** The groupings of `report --by`: per partner, per partner type, or per period. */
export const GROUPINGS = ['partner', 'type', 'day', 'month', 'quarter'] as const;
/** One of GROUPINGS. */
export type Grouping = (typeof GROUPINGS)[number];

/** Which groupings each report has, the first being its default. */
export const GROUPINGS_OF: Readonly<Record<ReportName, readonly Grouping[]>> = {
  revenue: ['partner', 'type', 'day', 'month', 'quarter'],
  balances: ['partner', 'type'],
  statements: ['month', 'day', 'quarter'],
  health: ['partner', 'type', 'day', 'month', 'quarter'],
};

/** What a report covers: grouping, as-of moments, reporting currency, partners and window. */
export interface ReportOptions {
  readonly by?: Grouping;
  /** Effective at: occurredAt <= effectiveAt. */
  readonly effectiveAt?: string;
  readonly knownAt?: AsKnownAt;
  /** The reporting currency; default the program's. */
  readonly reportingCurrency?: string;
  /** Statements: only these partners. */
  readonly partnerIds?: readonly string[];
  /** Revenue: only conversions and reversals that occurred in [from, to] (instants, inclusive). */
  readonly from?: string;
  readonly to?: string;
  /** Called as the replay reads events. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Resume from, and write, projection checkpoints (see replayWithCheckpoints); default: replay everything. */
  readonly checkpoints?: ReportCheckpoints;
  /**
   * When `store` is a sealing store (a ledger with a key file): the store beneath it and its key store. The
   * replay then reads the events as stored (no projection reads a sealed field, so its results are the
   * same), and the partners' names are opened from the sealed form partnerNameEvents keeps, with these keys as
   * they are now, instead of read again from the events (see namesAtRevisions).
   */
  readonly sealing?: ReportSealing;
}

/** The store beneath a sealing store, and the keys it opens sealed fields with. */
export interface ReportSealing {
  readonly beneath: EventStore;
  readonly keys: KeyStore;
}

/** Where a report keeps its checkpoints, how often it writes one, and where it says why one was ignored. */
export interface ReportCheckpoints {
  /** Where the checkpoints are kept. */
  readonly shelf: CheckpointShelf;
  /** A checkpoint every this many events read; default 100,000. */
  readonly every?: number;
  /** Told why a checkpoint was ignored (corrupt, of another ledger); the report goes on without it. */
  readonly onNotice?: (message: string) => void;
}

/** A report, ready to print in any format. */
export interface Report {
  /**
   * The document `--format json` prints: stable, sorted keys. Beside `result` (the projection's, which
   * holds no personal data), `partnerNames`: each partner of the result, by id, with its name as read
   * (the plaintext, `[erased]` or `[sealed]`).
   */
  readonly json: unknown;
  readonly rows: Rows;
  /** The rows `--format csv` prints: one fact per row, no totals (see RowsMode). */
  readonly csv: Rows;
  /** Lines printed above the table. */
  readonly summary: readonly string[];
  /** What the figures leave out, said on stderr whatever the format (revenue with no rate to convert it). */
  readonly warning?: string;
}

/** The report with its rows and CSV rows computed when first read: a report printed as JSON needs neither. */
const withLazyRows = (report: Omit<Report, 'rows' | 'csv'>, rows: () => Rows, csv: () => Rows): Report => {
  let table: Rows | undefined;
  let facts: Rows | undefined;
  return {
    ...report,
    get rows() {
      return (table ??= rows());
    },
    get csv() {
      return (facts ??= csv());
    },
  };
};

const granularityOf = (by: Grouping): Granularity =>
  by === 'day' || by === 'month' || by === 'quarter' ? by : 'month';

/**
 * Replays the store into one report, as of the given moments, in one pass. The JSON document is
 * `{ report, by, effectiveAt, knownAt, position, eventsRead, partnerNames, result }`, `result` being the
 * projection's result type from @partner-ledger/projections, with its keys sorted, and `partnerNames` each
 * partner of the result with its name as read through `store` (see {@link Report}). The rows that list
 * partners have a `name` column after `partner`.
 */
export const runReport = async (
  store: EventStore,
  name: ReportName,
  options: ReportOptions = {},
): Promise<Report> => {
  const by = options.by ?? GROUPINGS_OF[name][0]!;
  const granularity = granularityOf(by);
  const replayOptions = {
    ...(options.effectiveAt === undefined ? {} : { effectiveAt: options.effectiveAt }),
    ...(options.knownAt === undefined ? {} : { asKnownAt: options.knownAt }),
    ...(options.reportingCurrency === undefined ? {} : { reportingCurrency: options.reportingCurrency }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress, progressEvery: 5_000 }),
  };
  /**
   * The replay, from the latest fitting checkpoint when there are checkpoints; `describe` names what shapes
   * the states. Beside the report's projections, where each partner's name is (partnerNameEvents), so that
   * the names are read one event per partner, at the report's position and as-of moments.
   */
  const run = <P extends ProjectionSet>(projections: P, describe: Record<string, unknown>) => {
    const all = { ...projections, partnerNames: partnerNameEvents() };
    const checkpoints = options.checkpoints;
    const source = options.sealing?.beneath ?? store;
    if (checkpoints === undefined) return replay(source, all, replayOptions as ReplayOptions);
    return replayWithCheckpoints(source, all, {
      ...(replayOptions as ReplayOptions),
      shelf: checkpoints.shelf,
      describe: JSON.stringify({ report: name, projections: Object.keys(all), ...describe }),
      ...(checkpoints.every === undefined ? {} : { checkpointEvery: checkpoints.every }),
      ...(checkpoints.onNotice === undefined ? {} : { onNotice: checkpoints.onNotice }),
    });
  };
  /** The names of the partners a result lists, as of the report (see partnerNameEvents). */
  const namesOf = (
    outcome: { results: { partnerNames: Record<string, NameEvent> } },
    partnerIds: Iterable<string>,
  ) => namesAtRevisions(store, partnerIds, outcome.results.partnerNames, options.sealing?.keys);
  // `result` is the last key in sorted order, and a built-in projection's result has its keys sorted already
  // at every level: it is not copied again to sort them.
  const envelope = (
    outcome: { position: number; eventsRead: number },
    result: unknown,
    partnerNames: Readonly<Record<string, string>>,
  ) => ({
    ...sortKeys({
      report: name,
      by,
      effectiveAt: options.effectiveAt ?? null,
      knownAt: options.knownAt ?? null,
      position: outcome.position,
      eventsRead: outcome.eventsRead,
      partnerNames,
    }),
    result,
  });
  switch (name) {
    case 'revenue': {
      const revenue = partnerRevenue({
        granularity,
        ...(options.from === undefined ? {} : { from: options.from }),
        ...(options.to === undefined ? {} : { to: options.to }),
      });
      const outcome = await run(
        { revenue },
        { granularity, from: options.from ?? null, to: options.to ?? null },
      );
      const result = outcome.results.revenue;
      const names = await namesOf(outcome, Object.keys(result.partners));
      const unconverted = Object.entries(result.program.total.unconverted).map(([c, a]) => `${c} ${a}`);
      return {
        json: envelope(outcome, result, names),
        rows: withPartnerNames(revenueRows(result, by as RevenueBy), names),
        csv: withPartnerNames(revenueRows(result, by as RevenueBy, 'csv'), names),
        ...(unconverted.length === 0 || result.reportingCurrency === null
          ? {}
          : {
              warning:
                `revenue with no rate into ${result.reportingCurrency} recorded on its conversions is not in the ` +
                `${result.reportingCurrency}* rows: ${unconverted.join(', ')}`,
            }),
        summary: [
          `revenue by ${by}, as of ${result.asOf ?? '(no events)'}${result.reportingCurrency === null ? '' : `; reporting currency ${result.reportingCurrency}`}` +
            (result.from === null && result.to === null
              ? ''
              : `; occurred from ${result.from ?? 'the beginning'} to ${result.to ?? 'the end'}`),
        ],
      };
    }
    case 'balances': {
      // The partner column needs each partner's type, not the whole ecosystem health result.
      const outcome = await run({ balances: commissionBalances(), types: partnerTypes() }, { granularity });
      const { balances } = outcome.results;
      const names = await namesOf(outcome, Object.keys(balances.partners));
      const types = new Map(Object.entries(outcome.results.types));
      const trial = Object.entries(balances.trialBalance)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(
          ([currency, t]) => `${currency} debits ${t.debits} credits ${t.credits} difference ${t.difference}`,
        );
      return withLazyRows(
        {
          json: envelope(outcome, balances, names),
          summary: [
            `commission balances by ${by}, as of ${balances.asOf ?? '(no events)'}`,
            `trial balance: ${trial.length === 0 ? '(no postings)' : trial.join('; ')}`,
          ],
        },
        () => withPartnerNames(balanceRows(balances, by === 'type' ? 'type' : 'partner', types), names),
        () =>
          withPartnerNames(balanceRows(balances, by === 'type' ? 'type' : 'partner', types, 'csv'), names),
      );
    }
    case 'statements': {
      const outcome = await run(
        {
          statements: payoutStatements({
            granularity,
            ...(options.partnerIds === undefined ? {} : { partnerIds: options.partnerIds }),
          }),
        },
        { granularity, partnerIds: options.partnerIds ?? null },
      );
      const result = outcome.results.statements;
      const names = await namesOf(outcome, Object.keys(result.statements));
      return {
        json: envelope(outcome, result, names),
        rows: withPartnerNames(statementRows(result), names),
        csv: withPartnerNames(statementRows(result), names),
        summary: [`payout statements by ${by}`],
      };
    }
    case 'health': {
      const outcome = await run({ health: ecosystemHealth({ granularity }) }, { granularity });
      const result = outcome.results.health;
      const names = await namesOf(outcome, Object.keys(result.partners));
      return {
        json: envelope(outcome, result, names),
        rows: withPartnerNames(healthRows(result, by as RevenueBy), names),
        csv: withPartnerNames(healthRows(result, by as RevenueBy, 'csv'), names),
        summary: healthSummary(result),
      };
    }
  }
};
