import type * as ReadModelsPackage from '@partner-ledger/read-models-postgres';
import type { ProjectorStatus } from '@partner-ledger/read-models-postgres';
import { parseChoice, parseCurrency, parseInteger, parseVerbArgs } from '../args';
import { EXIT, UsageError } from '../exit';
import { write } from '../io';
import type { CliIo } from '../io';
import { withStore } from '../store';
import type { Verb } from '../verb';

type ReadModels = typeof ReadModelsPackage;

const PACKAGE = '@partner-ledger/read-models-postgres';

/** Loads the read-models package now (an optional peer: only `project` needs it, and PostgreSQL with it). */
const loadReadModels = (): ReadModels => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(PACKAGE) as ReadModels;
  } catch (error) {
    if (
      typeof error === 'object' &&
      error !== null &&
      (error as { code?: unknown }).code === 'MODULE_NOT_FOUND' &&
      String((error as { message?: unknown }).message).includes(`'${PACKAGE}'`)
    )
      throw new UsageError(
        `project: the read models need ${PACKAGE}, which is not installed`,
        `Install it where partner-ledger is installed: \`npm install ${PACKAGE}\`.`,
      );
    throw error;
  }
};

const options = {
  from: { type: 'string', valueName: 'STORE', description: 'The ledger to follow (read only).' },
  to: {
    type: 'string',
    valueName: 'URL',
    description: 'The PostgreSQL database of the read models: a postgres:// or postgresql:// URL.',
  },
  schema: {
    type: 'string',
    valueName: 'NAME',
    description:
      'The schema readers query (default partner_ledger_read); the tables live in NAME_g1, NAME_g2, ... behind its views.',
  },
  once: {
    type: 'boolean',
    description: "Stop once caught up with the ledger's head, instead of following it.",
  },
  status: {
    type: 'boolean',
    description: 'Print the lag row (position, head, events and seconds behind) and exit; needs only --to.',
  },
  currency: {
    type: 'string',
    valueName: 'CODE',
    description: "Reporting currency of the revenue and health rows (default: the program's).",
  },
  batch: {
    type: 'string',
    valueName: 'N',
    description:
      'Events per transaction (default 5000); while catching up, a batch grows to half the events projected.',
  },
  format: { type: 'string', valueName: 'FORMAT', description: '--status: text (default) or json.' },
} as const;

const statusText = (status: ProjectorStatus): string =>
  [
    `state:           ${status.state}`,
    `generation:      ${status.generation} (code version ${status.codeVersion})`,
    `position:        ${status.position}`,
    `head:            ${status.headPosition}`,
    `events behind:   ${status.eventsBehind}`,
    `seconds behind:  ${status.secondsBehind}`,
    `as of:           ${status.asOf ?? '(no events)'}`,
    `updated at:      ${status.updatedAt}`,
    '',
  ].join('\n');

export const projectVerb: Verb = {
  name: 'project',
  summary:
    'Keep SQL read models (revenue, balances, lines, payouts, partners, health) current in PostgreSQL.',
  usage:
    'project --from STORE --to postgres://... [--schema NAME] [--once] [--currency CODE] [--batch N]\n' +
    '       project --to postgres://... --status [--schema NAME] [--format text|json]',
  description:
    'Follows the --from ledger (a directory or a connection string, as --store takes) and keeps tables in ' +
    'the --to PostgreSQL database current: partners, partner_revenue, partner_type_revenue and ' +
    'program_revenue by month, commission_balances, commission_lines, payouts, payout_items, ' +
    'balance_movements, commission_line_changes and revenue_movements (with effective and recorded times), ecosystem_health, partner_activity and ' +
    'partner_health, one fact per row, money as numeric with its currency in its own column; totals are ' +
    'views. The figures are those of `report ... --format json` at the same position. Each batch of rows ' +
    'is written with its checkpoint in one transaction: killed at any moment, it resumes where it stopped. ' +
    'One projector per schema holds the lease; another started by mistake waits. Runs until interrupted ' +
    '(Ctrl-C stops it after the transaction under way), or with --once until caught up. A lost database ' +
    'connection is retried with backoff (up to 10 times in a row, from 0.5 s doubling to 30 s) and resumes ' +
    'from the last commit; each reconnect is printed.\n\n' +
    '--status prints the lag row: the position projected, the head of the ledger, and how far behind in ' +
    'events and seconds. See docs/read-models.md for the tables and example queries.',
  options,
  takesStore: false,
  examples: [
    [
      'partner-ledger project --from ./.partner-ledger --to postgres://bi@db.internal/analytics',
      'Follow the ledger into SQL tables, until interrupted',
    ],
    [
      'partner-ledger project --from ./.partner-ledger --to postgres://bi@db.internal/analytics --once',
      'Catch up once and stop',
    ],
    ['partner-ledger project --to postgres://bi@db.internal/analytics --status', 'How far behind it is'],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('project', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`project: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const { from, to } = parsed.options;
    if (to === undefined) throw new UsageError('project: give the database with --to postgres://...');
    if (!/^postgres(ql)?:\/\//.test(to))
      throw new UsageError(`--to: expected a postgres:// or postgresql:// URL, got ${JSON.stringify(to)}`);
    // In --store and --from, ?schema= picks the ledger's schema; the read models' schema is --schema. Taken
    // silently, the tables would land in the default schema while the user looks for them in theirs.
    const urlSchema = URL.canParse(to) ? new URL(to).searchParams.get('schema') : null;
    if (urlSchema !== null)
      throw new UsageError(
        `--to: ?schema= does not choose the read models' schema: give --schema ${urlSchema} (and --to without it)`,
      );
    if (parsed.options.store !== undefined)
      throw new UsageError('project: name the ledger with --from, not --store');
    const schema = parsed.options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,47}$/.test(schema))
      throw new UsageError(
        `--schema: expected a lower-case SQL identifier of at most 48 characters, got ${JSON.stringify(schema)}`,
      );
    const database = { connectionString: to, ...(schema === undefined ? {} : { schema }) };
    if (parsed.options.status === true) {
      if (from !== undefined || parsed.options.once === true || parsed.options.batch !== undefined)
        throw new UsageError('project --status: takes only --to, --schema and --format');
      const format = parseChoice('format', parsed.options.format ?? 'text', ['text', 'json'] as const);
      const status = await loadReadModels().readProjectorStatus(database);
      if (status === null) {
        io.stderr.write(`project: no projector has written to ${schema ?? 'partner_ledger_read'} yet\n`);
        return EXIT.problem;
      }
      await write(io.stdout, format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
      return EXIT.ok;
    }
    if (parsed.options.format !== undefined) throw new UsageError('--format: only with --status');
    if (from === undefined) throw new UsageError('project: give the ledger to follow with --from STORE');
    const currency =
      parsed.options.currency === undefined ? undefined : parseCurrency('currency', parsed.options.currency);
    const batchSize =
      parsed.options.batch === undefined
        ? undefined
        : parseInteger('batch', parsed.options.batch, { min: 1, max: 1_000_000 });
    const readModels = loadReadModels();
    return withStore(io, from, { mustExist: true, readOnly: true }, async (store) =>
      runProjector(io, readModels, {
        source: store,
        ...database,
        ...(currency === undefined ? {} : { reportingCurrency: currency }),
        ...(batchSize === undefined ? {} : { batchSize }),
        exitWhenCaughtUp: parsed.options.once === true,
      }),
    );
  },
};

const runProjector = async (
  io: CliIo,
  readModels: ReadModels,
  options: Parameters<ReadModels['startProjector']>[0],
) => {
  let waitingSaid = false;
  let last: ProjectorStatus | undefined;
  const projector = readModels.startProjector({
    ...options,
    onWaiting: (holder) => {
      if (!waitingSaid) io.stderr.write(`project: waiting for the lease, held by ${holder ?? '(nobody)'}\n`);
      waitingSaid = true;
    },
    onReconnect: ({ attempt, delayMs, error }) => {
      io.stderr.write(
        `project: lost the connection (${error.message}); reconnect ${attempt} in ${delayMs} ms\n`,
      );
    },
    onProgress: (status) => {
      if (last?.state !== status.state)
        io.stderr.write(
          `project: ${status.state} at position ${status.position} of ${status.headPosition}\n`,
        );
      last = status;
    },
  });
  const stop = (): void => {
    void projector.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await projector.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (last !== undefined) await write(io.stdout, statusText(last));
  return EXIT.ok;
};
