import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVerbArgs } from '../args';
import { verifyLedger } from '../audit/verify-ledger';
import { EXIT, UsageError } from '../exit';
import type { CliIo } from '../io';
import { write } from '../io';
import { createProgress } from '../progress';
import { writeBook } from '../report/html';
import { runReport } from '../report/run-report';
import type { Grouping, ReportName } from '../report/run-report';
import { renderTable } from '../report/table';
import { openStore } from '../store';
import { resolveStoreSpec } from '../store-spec';
import { describeSimulation, parseSimulateRequest, runSimulation } from './simulate';
import type { Verb } from '../verb';

/** Where the demo builds its ledger unless told otherwise: emptied at every run. */
export const DEMO_DIRECTORY = join(tmpdir(), 'partner-ledger-demo');

const options = {
  partners: { type: 'string', valueName: 'N', description: 'Partners (default 60).' },
  events: { type: 'string', valueName: 'N', description: 'Events to simulate (default 12000).' },
  seed: { type: 'string', valueName: 'S', description: 'The seed (default 2026).' },
  store: {
    type: 'string',
    valueName: 'DIRECTORY',
    description: `Where to build the demo ledger: a new or empty directory. Default ${DEMO_DIRECTORY}, emptied at every run (not $PARTNER_LEDGER_STORE, nor ./.partner-ledger).`,
  },
} as const;

const section = async (io: CliIo, title: string, body: string): Promise<void> => {
  await write(io.stdout, `\n== ${title} ${'='.repeat(Math.max(0, 100 - title.length))}\n\n${body}`);
};

export const demoVerb: Verb = {
  name: 'demo',
  summary: 'Simulate a program into a fresh ledger and print its reports and verify.',
  usage: 'demo [--partners N] [--events N] [--seed S] [--store DIRECTORY]',
  description:
    'What `npm start` runs: simulates a partner program into a fresh embedded ledger (by default ' +
    `${DEMO_DIRECTORY}, emptied first), then prints revenue by partner type and by month, commission ` +
    'balances by partner type, writes the month-end book as HTML beside the ledger (<ledger>-book.html), ' +
    'and prints the verify summary with the digest. The ledger is left in place, so ' +
    'that you can go on with `partner-ledger report ... --store <it>`.',
  options,
  examples: [
    ['partner-ledger demo', 'The demo'],
    [
      'partner-ledger demo --events 50000 --seed 7 --store ./demo-ledger',
      'A bigger one, kept in ./demo-ledger',
    ],
  ],
  run: async (io, args) => {
    const parsed = parseVerbArgs('demo', args, options);
    if (parsed.positionals.length > 0)
      throw new UsageError(`demo: unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const request = parseSimulateRequest({
      partners: parsed.options.partners ?? '60',
      events: parsed.options.events ?? '12000',
      seed: parsed.options.seed ?? '2026',
    });
    const spec = resolveStoreSpec(parsed.options.store ?? DEMO_DIRECTORY, {}, io.cwd);
    if (spec.kind !== 'file')
      throw new UsageError('demo: the demo builds an embedded ledger: give it a directory');
    if (spec.directory === DEMO_DIRECTORY) await rm(spec.directory, { recursive: true, force: true });
    else if ((await readdir(spec.directory).catch(() => [])).length > 0)
      throw new UsageError(`demo: ${spec.directory} is not empty; the demo needs a new directory`);

    const started = performance.now();
    const store = await openStore(spec);
    try {
      const summary = await runSimulation(io, store, spec, request);
      await section(
        io,
        `Simulated program (seed ${request.seed})`,
        describeSimulation(summary, spec.directory),
      );
      const reports: Array<[string, ReportName, Grouping]> = [
        ['Revenue by partner type', 'revenue', 'type'],
        ['Program revenue by month', 'revenue', 'month'],
        ['Commission balances by partner type', 'balances', 'type'],
      ];
      for (const [title, name, by] of reports) {
        const progress = createProgress({ stream: io.stderr, label: `report ${name}` });
        let seen = 0;
        const report = await runReport(store, name, {
          by,
          onProgress: ({ done, total }) => {
            progress.setTotal(total);
            progress.advance(done - seen);
            seen = done;
          },
        }).finally(() => progress.finish());
        await section(io, title, `${report.summary.join('\n')}\n\n${renderTable(report.rows)}`);
      }
      // The month-end book, beside the ledger: one HTML page to open in a browser.
      const book = await writeBook(store, `${spec.directory}-book.html`);
      await section(
        io,
        'Month-end book (HTML)',
        `${book.path}\nopen it in a browser; the same page: partner-ledger report book --out book.html --store ${spec.directory}\n`,
      );
      const verified = await verifyLedger(store);
      await section(
        io,
        'Verify',
        [
          `status:         ${verified.ok ? 'ok' : 'PROBLEM'}`,
          `events checked: ${verified.eventsChecked}`,
          `digest:         ${verified.digest}`,
          ...(verified.firstProblem === null ? [] : [`first problem:  ${verified.firstProblem.message}`]),
          '',
        ].join('\n'),
      );
      const command = io.commandLine ?? 'partner-ledger';
      await write(
        io.stdout,
        `\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s. The ledger is in ${spec.directory}; try:\n` +
          `  ${command} report balances --store ${spec.directory}\n` +
          `  ${command} report health --store ${spec.directory}\n`,
      );
      return verified.ok ? EXIT.ok : EXIT.problem;
    } finally {
      await store.close();
    }
  },
};
