import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import * as E from 'fp-ts/Either';
import { createLedger, decodeCommand } from '@partner-ledger/ledger';
import type { LedgerRejection } from '@partner-ledger/ledger';
import { parseVerbArgs } from '../args';
import { EXIT, UsageError } from '../exit';
import type { CliIo } from '../io';
import { cliIds } from '../ledger-setup';
import { createProgress } from '../progress';
import { withStore } from '../store';
import type { Verb } from '../verb';

const options = {
  actor: {
    type: 'string',
    valueName: 'ACTOR',
    description: 'The actor of commands that name none (default service:partner-ledger-import).',
  },
} as const;

/** One problem with one line of the file. */
interface LineProblem {
  readonly line: number;
  readonly field: string;
  readonly message: string;
}

async function* lines(source: Readable): AsyncGenerator<{ number: number; text: string }> {
  let number = 0;
  for await (const text of createInterface({ input: source, crlfDelay: Infinity })) {
    number += 1;
    yield { number, text };
  }
}

/** Reads one NDJSON line: a JSON object that decodes as a command, or every problem with it. */
const readLine = (text: string): E.Either<Array<Omit<LineProblem, 'line'>>, unknown> => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return E.left([{ field: '(line)', message: `not JSON: ${(error as Error).message}` }]);
  }
  const decoded = decodeCommand(value);
  if (E.isRight(decoded)) return E.right(value);
  const rejection: LedgerRejection = decoded.left;
  const problems = rejection.problems ?? [
    { path: rejection.field ?? '(command)', message: rejection.message },
  ];
  return E.left(problems.map((p) => ({ field: p.path === '' ? '(command)' : p.path, message: p.message })));
};

const describeRejection = (rejection: LedgerRejection): string =>
  `${rejection.code}${rejection.field === undefined ? '' : ` (${rejection.field})`}: ${rejection.message}`;

/**
 * The commands of a file, validated all first. A file is read twice (validate, then apply) so that memory
 * does not grow with its size; standard input can be read only once, so it is kept.
 */
const commandSource = async (
  io: CliIo,
  file: string,
): Promise<{ name: string; open: () => Readable; kept?: string[] }> => {
  if (file === '-') {
    const kept: string[] = [];
    for await (const { text } of lines(io.stdin)) kept.push(text);
    return { name: 'standard input', open: () => Readable.from(kept.map((l) => `${l}\n`)), kept };
  }
  const path = isAbsolute(file) ? file : resolve(io.cwd, file);
  await access(path).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(
      `import: cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
    );
  });
  return { name: path, open: () => createReadStream(path) };
};

export const importVerb: Verb = {
  name: 'import',
  summary: 'Apply commands from an NDJSON file (or stdin), all validated first.',
  usage: 'import FILE|- [--actor ACTOR] [--store STORE]',
  description:
    'Reads ledger commands as NDJSON: one JSON object per line, with a "command" field naming it ' +
    '(configureProgram, publishPlan, joinPartner, trackClick, recordConversion, reverseConversion, ' +
    'issuePayout, ...) and the same fields as the ledger API (docs/cli.md lists them). Blank lines are skipped.\n\n' +
    'Every line is validated before anything is applied. If any line is invalid, every invalid line is ' +
    'reported on stderr with its line number and fields, nothing is applied, and the exit code is 2. ' +
    'Otherwise the commands are applied in order; a command that a business rule refuses (a payout above ' +
    'the payable balance, a conflicting deal registration) is reported with its line number and the others ' +
    'still apply (exit 2 if any was refused). Commands are idempotent by their natural keys, so importing ' +
    'the same file again appends nothing new.',
  options,
  examples: [
    ['partner-ledger import commands.ndjson', 'Apply a file of commands'],
    ['partner-ledger import - < nightly-export.ndjson', 'From standard input'],
    ['partner-ledger import payouts.ndjson --actor user:ana@vendor.com', 'Record who ran it'],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('import', args, options);
    const [file, ...extra] = parsed.positionals;
    if (file === undefined) throw new UsageError('import: which file? (a path, or - for standard input)');
    if (extra.length > 0) throw new UsageError(`import: unexpected argument ${JSON.stringify(extra[0])}`);
    const source = await commandSource(io, file);

    // 1. Validate every line; apply nothing if any is invalid.
    const problems: LineProblem[] = [];
    let commands = 0;
    for await (const { number, text } of lines(source.open())) {
      if (text.trim() === '') continue;
      commands += 1;
      const read = readLine(text);
      if (E.isLeft(read)) problems.push(...read.left.map((p) => ({ line: number, ...p })));
    }
    if (problems.length > 0) {
      const badLines = new Set(problems.map((p) => p.line)).size;
      for (const p of problems) io.stderr.write(`line ${p.line}: ${p.field}: ${p.message}\n`);
      io.stderr.write(
        `import: ${badLines} of ${commands} lines are invalid; nothing was applied. Fix them and import the file again.\n`,
      );
      return EXIT.usage;
    }

    // 2. Apply in order.
    return withStore(io, parsed.options.store, {}, async (store) => {
      const ledger = createLedger({
        store,
        clock: io.now,
        ids: cliIds(),
        actor: parsed.options.actor ?? 'service:partner-ledger-import',
      });
      const progress = createProgress({
        stream: io.stderr,
        label: 'import',
        unit: 'commands',
        total: commands,
      });
      const tally = { applied: 0, events: 0, repeated: 0, rejected: 0 };
      try {
        for await (const { number, text } of lines(source.open())) {
          if (text.trim() === '') continue;
          const outcome = await ledger.execute(JSON.parse(text))();
          progress.advance();
          if (E.isLeft(outcome)) {
            tally.rejected += 1;
            progress.note(`line ${number}: rejected: ${describeRejection(outcome.left)}`);
          } else if (outcome.right.alreadyRecorded) {
            tally.repeated += 1;
          } else {
            tally.applied += 1;
            tally.events += outcome.right.events.length;
          }
        }
      } finally {
        progress.finish();
      }
      io.stderr.write(
        `import: ${commands} commands from ${source.name}: ${tally.applied} applied (${tally.events} events), ` +
          `${tally.repeated} already recorded, ${tally.rejected} rejected\n`,
      );
      return tally.rejected > 0 ? EXIT.usage : EXIT.ok;
    });
  },
};
